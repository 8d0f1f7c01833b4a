"""The Splink peer (Splink 5, DuckDB backend): a Fellegi-Sunter model over the normalised name
(common.normalise) as Splink's tutorials build one. Comparisons: the normalised name by
Jaro-Winkler levels, its tokens by how many they share (3, 2, fewer), and its first token exactly (with term
frequency adjustment); u estimated by random sampling, the match prior from an exact normalised
name, m by EM blocked on the first and on the last token. Pairs to score are blocked on the first
token or on the alphabetically first token other than and/of (word order changes); each company's pairs at or
above the match-probability threshold are matched one to one, best first.

Usage: python peer_splink.py RUN_DIR OUT.csv [--threshold 0.3]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pyarrow as pa
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from common import normalise, one_to_one, read_side, write_pairs


# Words too common to block on ("Baker and Moss" / "Moss and Baker" must not block on "and").
STOP = {"and", "of"}


def frame(rows: list[tuple[int, str]]) -> pa.Table:
    names = [normalise(n) for _, n in rows]
    tokens = [n.split() for n in names]
    return pa.table({
        "unique_id": [r[0] for r in rows],
        "name": [n or None for n in names],
        "tokens": [t or None for t in tokens],
        "first_token": [t[0] if t else None for t in tokens],
        "last_token": [t[-1] if t else None for t in tokens],
        "min_token": [min((w for w in t if w not in STOP), default=None) for t in tokens],
    })


def scored_pairs(companies, clients, threshold: float) -> list[tuple[float, int, int]]:
    """Each candidate pair at or above `threshold` as (score, autotask id, passportal id)."""
    db = DuckDBAPI()
    left = db.register(frame(companies), dataset_display_name="autotask")
    right = db.register(frame(clients), dataset_display_name="passportal")
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.97, 0.92, 0.85]),
            cl.ArrayIntersectAtSizes("tokens", [3, 2]),
            cl.ExactMatch("first_token").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[block_on("first_token"), block_on("min_token")],
        retain_matching_columns=False,
    )
    linker = Linker([left, right], settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_token"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_token"))
    pred = linker.inference.predict(threshold_match_probability=threshold).as_record_list()
    scored = []
    for r in pred:
        # link_only: each pair's left is from one dataset, right from the other.
        if r["source_dataset_l"] == "autotask":
            scored.append((r["match_probability"], r["unique_id_l"], r["unique_id_r"]))
        else:
            scored.append((r["match_probability"], r["unique_id_r"], r["unique_id_l"]))
    return scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--threshold", type=float, default=0.3)
    a = ap.parse_args()
    companies, clients = read_side(a.run_dir)
    write_pairs(a.out, one_to_one(scored_pairs(companies, clients, a.threshold)))


if __name__ == "__main__":
    main()
