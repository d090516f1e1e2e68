"""Benchmark: import a 1,000,000-row insured roll (target: under 2 minutes on 2 cores).

    python benchmarks/roll_import_bench.py [--rows N] [--database-url URL]

Generates a CSV of distinct, valid national IDs, then times ``import_roll_file`` (validation,
duplicate and cross-roll checks, pseudonyms, insert, one transaction) against a fresh database
(SQLite file by default, or the given URL, e.g. a PostgreSQL database).
"""
from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, when run as a script

from app import create_app
from app.config import Config
from app.services.administration import manifest as manifests
from app.services.administration import roll_import
from app.services.platform import schema
from app.services.identity.identifiers import national_id_check_digit
from tools.scenario import small_manifest


def write_roll(path: Path, rows: int) -> None:
    rng = random.Random(1)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        out.write("national_id,date_of_birth,name\n")
        while len(seen) < rows:
            prefix = f"{rng.randint(1, 8)}{rng.randrange(10**11):011d}"
            if prefix in seen:
                continue
            seen.add(prefix)
            out.write(f"{prefix}{national_id_check_digit(prefix)},1985-06-{rng.randint(1, 28):02d},ผู้ประกันตน {len(seen)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "insured.csv"
        t0 = time.perf_counter()
        write_roll(csv_path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s "
              f"({csv_path.stat().st_size / 1e6:.0f} MB)")
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        config = Config(env="test", instance_path=f"{tmp}/inst", database_url=url).validated()
        schema.upgrade(url)
        app = create_app(config)
        with app.app_context():
            election = manifests.create_election(small_manifest("bench"))
            t0 = time.perf_counter()
            result = roll_import.import_roll_file(election, csv_path)
            elapsed = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        backend = url.split(":", 1)[0]
        print(f"imported {result.imported:,} rows into {backend} in {elapsed:.1f} s "
              f"({result.imported / elapsed:,.0f} rows/s); target < 120 s; "
              f"ratio to target {elapsed / 120:.2f}; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
