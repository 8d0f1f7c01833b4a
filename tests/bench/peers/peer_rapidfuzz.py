"""The blocked rapidfuzz peer: what a competent script writer does in an afternoon. Names are
normalised (common.normalise), blocked on their first normalised token, scored within each block
with token_set_ratio (both cores, via process.cdist), and each company's best client at or above
the threshold is a match, one to one.

Usage: python peer_rapidfuzz.py RUN_DIR OUT.csv [--threshold 88]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz, process

from common import normalise, one_to_one, read_side, write_pairs


def scored_pairs(companies, clients, threshold: float) -> list[tuple[float, int, int]]:
    """Each candidate pair at or above `threshold` as (score, autotask id, passportal id)."""
    blocks_at: dict[str, list[tuple[int, str]]] = defaultdict(list)
    blocks_pp: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for blocks, rows in ((blocks_at, companies), (blocks_pp, clients)):
        for rid, name in rows:
            n = normalise(name)
            if n:
                blocks[n.split()[0]].append((rid, n))
    scored = []
    for key, left in blocks_at.items():
        right = blocks_pp.get(key)
        if not right:
            continue
        m = process.cdist([n for _, n in left], [n for _, n in right],
                          scorer=fuzz.token_set_ratio, score_cutoff=threshold, workers=-1)
        for i, row in enumerate(m):
            hits = row.nonzero()[0]
            if len(hits) == 0:
                continue
            # Best token-set score; a tie (a name whose tokens are a subset of several scores
            # 100 against each) goes to the closest plain similarity.
            best = max(hits, key=lambda k: (row[k], fuzz.ratio(left[i][1], right[k][1]), -k))
            scored.append((float(row[best]), left[i][0], right[best][0]))
    return scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--threshold", type=float, default=88.0)
    a = ap.parse_args()
    companies, clients = read_side(a.run_dir)
    write_pairs(a.out, one_to_one(scored_pairs(companies, clients, a.threshold)))


if __name__ == "__main__":
    main()
