"""Activation codes (docs/accounts.md §9): how fast the letters of a roll are issued (random
code, SHA-256, one row, one audit entry, one JSON file in the development outbox) and how fast
codes are checked and spent.

Run: ``.venv/bin/python benchmarks/activation_bench.py [--voters 2000] [--database-url URL]``
(SQLite in a temporary folder by default).  Prints codes issued per second and checks per second.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.extensions import db  # noqa: E402
from app.models import RollEntry  # noqa: E402
from app.services.identity import activation  # noqa: E402
from tests.conftest import build_app, make_config  # noqa: E402
from tests.support.factories import insured_csv, national_ids, small_manifest  # noqa: E402
from tools import scenario  # noqa: E402


def _test_key() -> str:
    import json

    from crypto.encoding import canonical_json

    vectors = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "test_key.json"
    return canonical_json(json.loads(vectors.read_text())["election_key"]).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(make_config(Path(tmp), args.database_url))
        with app.app_context():
            election = scenario.set_up(scenario.Scenario(
                manifest=small_manifest(), rolls=[insured_csv(national_ids(args.voters))], officials=(),
                public_key=_test_key(), open_polls=False, credentials=False, actor="bench")).election
            now = datetime.now(timezone.utc)
            t0 = time.perf_counter()
            codes = activation.issue_for_election(election.id, now, "bench")
            issue = time.perf_counter() - t0
            entries = {e.voter_key: e for e in db.session.query(RollEntry)}
            t0 = time.perf_counter()
            wrong = sum(not activation.is_open(entries[k], "0000-0000-0000-0000", now) for k in codes)
            check = time.perf_counter() - t0
            t0 = time.perf_counter()
            spent = sum(activation.redeem(entries[k], c, now) for k, c in codes.items())
            db.session.commit()
            redeem = time.perf_counter() - t0
            assert wrong == spent == len(codes) == args.voters
            print(f"{len(codes)} activation letters issued in {issue:.2f} s "
                  f"({len(codes) / issue:,.0f}/s, with the outbox files)")
            print(f"wrong-code checks: {len(codes) / check:,.0f}/s; "
                  f"redemptions (compare-and-set + voiding the rest): {len(codes) / redeem:,.0f}/s")


if __name__ == "__main__":
    main()
