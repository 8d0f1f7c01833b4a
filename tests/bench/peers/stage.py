"""Write a synthetic MSP as an atpp run folder whose extract is finished: the staged Parquet files
in exactly the columns and types atpp's extract writes (src/model/schema.rs for companies,
src/stages/extract/passportal.rs for clients), the manifest with each file's rows and sha256, and
the truth beside the staging folder. atpp's `match` and the Python peers all read these files.

Usage: python stage.py --companies 10000 --seed 7 --out /var/tmp/peers-data/10k
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import msp

RUN_ID = "20260101T000000Z"
COMPANIES = "extract/autotask/companies.parquet"
CLIENTS = "extract/passportal/clients.parquet"

TS = pa.timestamp("ms", tz="UTC")
# The staged companies file, column by column as src/model/schema.rs declares it.
COMPANY_SCHEMA = pa.schema([
    ("id", pa.int64()), ("company_name", pa.string()), ("company_number", pa.string()),
    ("company_type", pa.int64()), ("company_type_label", pa.string()),
    ("is_active", pa.bool_()), ("phone", pa.string()), ("fax", pa.string()),
    ("address1", pa.string()), ("address2", pa.string()), ("city", pa.string()),
    ("state", pa.string()), ("postal_code", pa.string()), ("country_id", pa.int64()),
    ("web_address", pa.string()), ("parent_company_id", pa.int64()),
    ("create_date", TS), ("last_activity_date", TS),
    ("last_tracked_modified_date_time", TS), ("user_defined_fields", pa.string()),
])
CLIENT_SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def paths(out: Path) -> dict[str, Path]:
    """Where a generated size lives: the staging folder, its run, and the truth."""
    run = out / "staging" / "runs" / RUN_ID
    return {"staging": out / "staging", "run": run, "truth": out / "truth.csv",
            "companies": run / COMPANIES, "clients": run / CLIENTS}


def companies_table(data: msp.Msp, seed: int) -> pa.Table:
    rng = random.Random(seed + 1)
    n = len(data.companies)
    base = datetime(2019, 1, 1, tzinfo=timezone.utc)
    created = [base + timedelta(days=rng.randrange(2000)) for _ in range(n)]
    phone = [f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
             for _ in range(n)]
    cols = {
        "id": [c[0] for c in data.companies],
        "company_name": [c[1] for c in data.companies],
        "company_number": [f"C{c[0]}" for c in data.companies],
        "company_type": [1] * n,
        "company_type_label": ["Customer"] * n,
        "is_active": [True] * n,
        "phone": phone,
        "fax": [None] * n,
        "address1": [f"{rng.randrange(1, 9999)} Main St" for _ in range(n)],
        "address2": [None] * n,
        "city": [None] * n,
        "state": [None] * n,
        "postal_code": [f"{rng.randrange(10000, 99999)}" for _ in range(n)],
        "country_id": [237] * n,
        "web_address": [None] * n,
        "parent_company_id": [None] * n,
        "create_date": created,
        "last_activity_date": created,
        "last_tracked_modified_date_time": created,
        "user_defined_fields": [None] * n,
    }
    return pa.table(cols, schema=COMPANY_SCHEMA)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write(data: msp.Msp, seed: int, out: Path) -> dict[str, Path]:
    p = paths(out)
    for d in (p["companies"].parent, p["clients"].parent):
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(p["staging"], 0o700)
    pq.write_table(companies_table(data, seed), p["companies"])
    clients = pa.table({"id": [c[0] for c in data.clients], "name": [c[1] for c in data.clients]},
                       schema=CLIENT_SCHEMA)
    pq.write_table(clients, p["clients"])
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    manifest = {
        "schema_version": 1,
        "run_id": RUN_ID,
        "pipeline": "peers",
        "created_at": now,
        "stages": {"extract": {
            "finished_at": now,
            "files": {
                COMPANIES: {"rows": len(data.companies), "sha256": sha256(p["companies"])},
                CLIENTS: {"rows": len(data.clients), "sha256": sha256(p["clients"])},
            },
            "notes": {},
        }},
    }
    (p["run"] / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with open(p["truth"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["autotask_id", "passportal_id"])
        for at_id, pp_id in data.truth.items():
            w.writerow([at_id, "" if pp_id is None else pp_id])
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--companies", type=int, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    data = msp.make(a.companies, a.seed)
    p = write(data, a.seed, a.out)
    matched = sum(v is not None for v in data.truth.values())
    print(f"{len(data.companies)} companies ({matched} already clients), "
          f"{len(data.clients)} clients -> {p['run']}")


if __name__ == "__main__":
    main()
