"""How the peers' thresholds were chosen: on a calibration MSP of another seed than the bench's
(so no peer is tuned on the data it is graded on), sweep each peer's threshold and print F1 at
each; run.py's defaults are the best of this sweep. atpp runs with its shipped thresholds.

Usage: python calibrate.py [--companies 10000] [--seed 1] [--work /var/tmp/peers-calib]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import msp
import peer_rapidfuzz
import peer_splink
import score
import stage
from common import one_to_one, read_side


def sweep(name: str, scored, truth, thresholds) -> None:
    for t in thresholds:
        pairs = {(at, pp) for at, pp, _ in one_to_one([s for s in scored if s[0] >= t])}
        s = score.score(truth, pairs)
        print(f"{name:9} threshold {t:<6} matched {s.predicted:6} precision {s.precision:.3f} "
              f"recall {s.recall:.3f} F1 {s.f1:.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--companies", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/var/tmp/peers-calib"))
    a = ap.parse_args()
    p = stage.write(msp.make(a.companies, a.seed), a.seed, a.work)
    truth = score.read_truth(p["truth"])
    companies, clients = read_side(p["run"])
    sweep("rapidfuzz", peer_rapidfuzz.scored_pairs(companies, clients, 70.0), truth,
          [75, 80, 85, 88, 90, 92, 94, 96, 98, 100])
    sweep("splink", peer_splink.scored_pairs(companies, clients, 0.05), truth,
          [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999])


if __name__ == "__main__":
    main()
