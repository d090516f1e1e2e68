"""Cross-check: the independent verifier (python -m verifier, docs/record.md §5) accepts the
tally's record, and flags exactly the invalid ballot the tally excluded (check 9, by design)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.board_builder import BoardFixture

from .helpers import run_finish, run_prepare, trustee_shares

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (ROOT / "verifier" / "__main__.py").exists(), reason="verifier not present")


def _verify(record: Path, ca_key: str) -> dict:
    """The verifier with the CA key as the CA publishes it (docs/record.md §2.0)."""
    done = subprocess.run([sys.executable, "-m", "verifier", str(record), "--allow-test-key", "--json",
                           "--ca-key", ca_key],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout)


def test_verifier_on_the_tally_record(board: BoardFixture, tmp_path: Path) -> None:
    work, record = tmp_path / "work", tmp_path / "record"
    run_prepare(board, work)
    run_finish(work, trustee_shares(board, work, tmp_path, [2, 3]), record)
    report = _verify(record, board.ca_public_hex)
    failed = {c["name"] for c in report["checks"] if c["status"] != "pass"}
    # The fixture board holds one invalid ballot (the server should have refused it): check 9
    # reports it; the tally's handling of it (11) and everything else passes.
    assert failed == {"ballots.proofs"}, json.dumps(report["checks"], ensure_ascii=False)[:2000]
    assert report["exit_code"] == 1


def test_verifier_passes_a_clean_record(tmp_path: Path) -> None:
    from tests.support.board_builder import build_board_export

    fx = build_board_export(tmp_path / "export", insured=12, employers=5, paper=1, revoked=1, revoked_final=1, seed=5)
    work, record = tmp_path / "work", tmp_path / "record"
    run_prepare(fx, work)
    run_finish(work, trustee_shares(fx, work, tmp_path, [1, 2, 3]), record)
    report = _verify(record, fx.ca_public_hex)
    assert report["ok"] and report["exit_code"] == 0, [c for c in report["checks"] if c["status"] != "pass"]
