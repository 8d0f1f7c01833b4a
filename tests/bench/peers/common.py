"""What the two Python peers share, so they differ only in how they score: reading the staged
Parquet, the name normalisation a careful script writer would apply, and the one-to-one
assignment (best pair first, each company and each client used once) that turns scored pairs into
predicted matches written as CSV for score.py.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq

COMPANIES = "extract/autotask/companies.parquet"
CLIENTS = "extract/passportal/clients.parquet"

LEGAL = {"inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
         "llp", "pllc", "pc", "plc", "gmbh", "sa", "sarl", "sl", "sll", "ag", "kg", "the"}
_DOTS = re.compile(r"[.'\u2019]")
_PUNCT = re.compile(r"[^0-9a-z ]+")


def normalise(name: str) -> str:
    """Lower case, accents folded, & as "and", punctuation gone, legal suffixes and "the"
    dropped, spaces collapsed."""
    s = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = _DOTS.sub("", s.replace("&", " and "))
    s = _PUNCT.sub(" ", s)
    tokens = [t for t in s.split() if t not in LEGAL]
    return " ".join(tokens) if tokens else " ".join(s.split())


def read_side(run_dir: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(id, name) of the staged Autotask companies and Passportal clients."""
    at = pq.read_table(run_dir / COMPANIES, columns=["id", "company_name"]).to_pydict()
    pp = pq.read_table(run_dir / CLIENTS, columns=["id", "name"]).to_pydict()
    return (list(zip(at["id"], (n or "" for n in at["company_name"]))),
            list(zip(pp["id"], (n or "" for n in pp["name"]))))


def one_to_one(scored: list[tuple[float, int, int]]) -> list[tuple[int, int, float]]:
    """Greedy by score (ties by ids, so runs repeat): (score, autotask id, passportal id) ->
    (autotask id, passportal id, score), each side used at most once."""
    used_at: set[int] = set()
    used_pp: set[int] = set()
    out = []
    for score, at, pp in sorted(scored, key=lambda t: (-t[0], t[1], t[2])):
        if at in used_at or pp in used_pp:
            continue
        used_at.add(at)
        used_pp.add(pp)
        out.append((at, pp, score))
    return out


def write_pairs(path: Path, pairs: list[tuple[int, int, float]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["autotask_id", "passportal_id", "score"])
        w.writerows(pairs)
