"""One scoring for all three matchers, against the generator's truth. A predicted pair is a match
a matcher applies without review: for atpp, a proposal whose action is `match` (its proposals
Parquet); for the peers, a row of their output CSV. atpp's suggestions (action `create` with a
candidate beside it, waiting for an analyst) are counted apart: how many, and how many point at the
right client. Precision = right pairs / predicted pairs; recall = right pairs / true pairs (companies
that are already clients); F1 their harmonic mean.

Usage: python score.py TRUTH.csv (--atpp PROPOSALS.parquet | --pairs PAIRS.csv)
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq


@dataclass
class Score:
    predicted: int
    correct: int
    true_pairs: int
    precision: float
    recall: float
    f1: float
    suggested: int = 0
    suggested_correct: int = 0


def read_truth(path: Path) -> dict[int, int]:
    """Autotask id -> Passportal id, for the companies that are already clients."""
    with open(path, newline="") as f:
        return {int(r["autotask_id"]): int(r["passportal_id"])
                for r in csv.DictReader(f) if r["passportal_id"]}


def atpp_pairs(path: Path) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(auto-applied matches, suggestions) from atpp's companies proposals."""
    t = pq.read_table(path, columns=["autotask_id", "action", "passportal_id"]).to_pydict()
    matches, suggestions = set(), set()
    for at, action, pp in zip(t["autotask_id"], t["action"], t["passportal_id"]):
        if pp is None:
            continue
        if action == "match":
            matches.add((at, pp))
        elif action == "create":
            suggestions.add((at, pp))
    return matches, suggestions


def peer_pairs(path: Path) -> set[tuple[int, int]]:
    with open(path, newline="") as f:
        return {(int(r["autotask_id"]), int(r["passportal_id"])) for r in csv.DictReader(f)}


def score(truth: dict[int, int], predicted: set[tuple[int, int]],
          suggested: set[tuple[int, int]] = frozenset()) -> Score:
    correct = sum(truth.get(at) == pp for at, pp in predicted)
    p = correct / len(predicted) if predicted else 0.0
    r = correct / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Score(len(predicted), correct, len(truth), round(p, 4), round(r, 4), round(f1, 4),
                 len(suggested), sum(truth.get(at) == pp for at, pp in suggested))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("truth", type=Path)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--atpp", type=Path)
    g.add_argument("--pairs", type=Path)
    a = ap.parse_args()
    truth = read_truth(a.truth)
    s = score(truth, *atpp_pairs(a.atpp)) if a.atpp else score(truth, peer_pairs(a.pairs))
    print(json.dumps(asdict(s)))


if __name__ == "__main__":
    main()
