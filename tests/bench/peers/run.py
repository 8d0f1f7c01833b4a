"""The side-by-side matching bench, on demand only (never in CI): for each size, generate an
independent synthetic MSP (msp.py, stage.py), run atpp's real match stage as a process, then the
Splink and rapidfuzz peers on the same staged Parquet, each under /usr/bin/time -v for wall time,
CPU time (user + sys) and peak RSS, score all three with score.py, and print one table.

Usage: python run.py [--sizes 10000 100000] [--atpp PATH] [--work /var/tmp/peers-data]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import msp
import score
import stage

HERE = Path(__file__).resolve().parent
# The release binary of this checkout (`cargo build --release`).
RELEASE = HERE.parents[2] / "target" / "release" / "atpp"


def timed(cmd: list[str], log: Path) -> dict[str, float]:
    """Run `cmd` under GNU time; its wall, CPU and peak RSS, or an error with its output."""
    tv = log.with_suffix(".time")
    with open(log, "w") as out:
        rc = subprocess.call(["/usr/bin/time", "-v", "-o", str(tv), *cmd], stdout=out,
                             stderr=subprocess.STDOUT)
    if rc != 0:
        sys.exit(f"{cmd[0]} failed ({rc}); see {log}")
    text = tv.read_text()

    def field(label: str) -> str:
        return re.search(rf"{re.escape(label)}: (.+)", text).group(1).strip()

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "rss_mb": round(int(field("Maximum resident set size (kbytes)")) / 1024, 1)}


def bench(size: int, seed: int, work: Path, atpp: Path, thresholds: dict) -> list[dict]:
    out = work / f"{size}"
    shutil.rmtree(out, ignore_errors=True)
    p = stage.write(msp.make(size, seed), seed, out)
    truth = score.read_truth(p["truth"])
    rows = []
    t = timed([str(atpp), "match", "--pipeline", str(HERE / "pipeline.toml"),
               "--staging", str(p["staging"]), "--run", stage.RUN_ID], out / "atpp.log")
    s = score.score(truth, *score.atpp_pairs(p["run"] / "match/companies.proposals.parquet"))
    rows.append({"size": size, "tool": "atpp match", **t, **asdict(s)})
    for tool, script, threshold in (("splink", "peer_splink.py", thresholds["splink"]),
                                    ("rapidfuzz", "peer_rapidfuzz.py", thresholds["rapidfuzz"])):
        pairs = out / f"{tool}.pairs.csv"
        t = timed([sys.executable, str(HERE / script), str(p["run"]), str(pairs),
                   "--threshold", str(threshold)], out / f"{tool}.log")
        rows.append({"size": size, "tool": tool, **t,
                     **asdict(score.score(truth, score.peer_pairs(pairs)))})
    return rows


def table(rows: list[dict]) -> str:
    head = ("| companies | matcher | wall s | CPU s | peak RSS MB | matched | precision | recall "
            "| F1 | suggested (right) |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        sugg = f"{r['suggested']} ({r['suggested_correct']})" if r["tool"] == "atpp match" else "–"
        lines.append(f"| {r['size']:,} | {r['tool']} | {r['wall_s']} | {r['cpu_s']} | "
                     f"{r['rss_mb']} | {r['predicted']} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['f1']:.3f} | {sugg} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/var/tmp/peers-data"))
    ap.add_argument("--atpp", type=Path, default=RELEASE)
    ap.add_argument("--splink-threshold", type=float, default=0.3)
    ap.add_argument("--rapidfuzz-threshold", type=float, default=88.0)
    a = ap.parse_args()
    if not a.atpp.is_file():
        sys.exit(f"no atpp binary at {a.atpp}: build it (cargo build --release) or pass --atpp")
    thresholds = {"splink": a.splink_threshold, "rapidfuzz": a.rapidfuzz_threshold}
    rows = []
    for size in a.sizes:
        rows += bench(size, a.seed, a.work, a.atpp, thresholds)
        print(table(rows[-3:]), flush=True)
    (a.work / "results.json").write_text(json.dumps(rows, indent=2))
    print(table(rows))


if __name__ == "__main__":
    main()
