"""PostgreSQL CPU of storing one cast ballot row: TOAST compression (pglz) against STORAGE EXTERNAL.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/ballot_storage.py [--ballots 40] [--rounds 3]``.

A throw-away PostgreSQL server (tools/postgres.py) with two copies of ``board_ballot``'s shape:
``extended`` (PostgreSQL's default: TOAST tries pglz first) and ``external`` (out of line, no
compression: migration 0014).  The same ballot texts go into both, alternating table by table
in each round, and the backend's own CPU time (/proc utime + stime) per insert is reported —
CPU, not wall time, so the comparison holds on a shared machine.  The ballots are canonical JSON
of the 7-of-228 shape with 2048-bit-key-sized random hex values (``--from-cache`` takes real
ones from benchmarks/load_cast.py's cache instead); both compress alike: not at all.
The last line: ``ballot row: extended X ms, external Y ms CPU per insert``.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from crypto.encoding import canonical_json  # noqa: E402
from tools import postgres  # noqa: E402


def synthetic_ballot(candidates: int = 228, k: int = 7) -> str:
    """A ballot-shaped canonical JSON text: ciphertexts and commitments mod n² (1024 hex digits),
    challenges (32), responses (~330), the sizes of a 2048-bit key's ballot."""
    def mod_n2() -> str:
        return secrets.token_hex(512).lstrip("0")

    def proof(branches: int) -> dict[str, list[str]]:
        return {"a": [mod_n2() for _ in range(branches)], "e": [secrets.token_hex(16) for _ in range(branches)],
                "z": [secrets.token_hex(165) for _ in range(branches)]}

    return canonical_json({"ciphertexts": [mod_n2() for _ in range(candidates)],
                           "proofs": [proof(2) for _ in range(candidates)],
                           "sum_proof": proof(k + 1)}).decode()


def backend_cpu(conn: psycopg.Connection[tuple[object, ...]]) -> float:
    fields = Path(f"/proc/{conn.info.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--from-cache", type=Path, help="a load_cast.py cache folder (its ballots/*.json)")
    args = parser.parse_args()
    if args.from_cache:
        files = sorted((args.from_cache / "ballots").glob("*.json"))[:args.ballots]
        texts = [canonical_json(json.loads(f.read_text())["ballot"]).decode() for f in files]
    else:
        texts = [synthetic_ballot() for _ in range(args.ballots)]
    if not texts:
        raise SystemExit("no ballots")
    print(f"{len(texts)} ballots of {sum(map(len, texts)) / len(texts) / 1e6:.2f} MB; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    pg = postgres.start()
    try:
        url = pg.create_database("storage").replace("postgresql+psycopg://", "postgresql://")
        totals = {"extended": 0.0, "external": 0.0}
        with psycopg.connect(url, autocommit=True) as conn:
            for table in totals:
                conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, ballot_hash text, ballot text)")
            conn.execute("ALTER TABLE external ALTER COLUMN ballot SET STORAGE EXTERNAL")
            for round_ in range(args.rounds):
                for table in (("extended", "external") if round_ % 2 == 0 else ("external", "extended")):
                    before = backend_cpu(conn)
                    for i, text in enumerate(texts):
                        conn.execute(f"INSERT INTO {table} (ballot_hash, ballot) VALUES (%s, %s)",
                                     (f"{round_}-{i}", text))
                    spent = backend_cpu(conn) - before
                    totals[table] += spent
                    print(f"  round {round_ + 1} {table}: {1000 * spent / len(texts):.1f} ms CPU per insert",
                          flush=True)
            for table in totals:
                stored, length = conn.execute(
                    f"SELECT avg(pg_column_size(ballot)), avg(length(ballot)) FROM {table}").fetchone() or (0, 0)
                print(f"  {table}: stored {float(stored) / 1e6:.3f} MB per ballot of {float(length) / 1e6:.3f} MB")
        n = len(texts) * args.rounds
        print(f"ballot row: extended {1000 * totals['extended'] / n:.1f} ms, external "
              f"{1000 * totals['external'] / n:.1f} ms CPU per insert (load average {os.getloadavg()[0]:.2f})")
    finally:
        pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
