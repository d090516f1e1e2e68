"""The observers' verifier on a snapshot (docs/record.md §3.3) agrees with the tally's
preverify on the same snapshot: the same invalid ballots (check 9 names every ballot on the
board, preverify only each credential's latest), the same chain and checkpoints; a snapshot
whose last checkpoint is not at its last entry, or a record given as a snapshot, is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tally.preverify import preverify
from tests.support.board_builder import BoardFixture
from tests.tally.test_preverify import snapshot
from verifier.checks import CheckResult, Options, verify_snapshot
from verifier.errors import RecordUnreadable


def _verify(path: Path, proofs_after: int = 0) -> dict[str, CheckResult]:
    v = verify_snapshot(path, Options(allow_test_key=True, proofs_after=proofs_after))
    return {r.name: r for r in v.results}


def test_the_verifier_and_preverify_agree_on_a_snapshot(board: BoardFixture, tmp_path: Path) -> None:
    snap = snapshot(board, tmp_path / "snap", 30)
    summary = preverify(snap, tmp_path / "known.txt", processes=1, allow_insecure_test_key=True,
                        show_progress=False)
    results = _verify(snap)
    failing = {name for name, r in results.items() if not r.passed}
    assert failing <= {"ballots.proofs", "pins.opening"}, failing  # pins: no --ca-key given
    proofs = results["ballots.proofs"]
    named = {f.item["seq"] for f in proofs.failures}
    assert {seq for seq, _ in summary.invalid} <= named
    assert named == {s for s in board.invalid_seqs if s <= 30}
    notes = results["board.turnout"].notes
    cast = sum(n.params["ballots"] for n in notes if n.code == "board_turnout.contest")
    audited = sum(n.params["audits"] for n in notes if n.code == "board_turnout.audits")
    in_snapshot = [seq for seq in board.audits if seq <= 30]
    assert audited == len(in_snapshot) and cast + audited == 30  # audits are not turnout
    if in_snapshot:  # every audit on the partial board opens (check 29 is a snapshot check)
        assert results["audits.open"].passed


def test_follow_mode_proofs_only_after_the_verified_seq(board: BoardFixture, tmp_path: Path) -> None:
    snap = snapshot(board, tmp_path / "snap", 30)
    proofs = _verify(snap, proofs_after=30)["ballots.proofs"]
    assert proofs.passed and proofs.notes[0].params["count"] == 0


def test_a_snapshot_not_ending_at_its_checkpoint_and_a_record_are_refused(
        board: BoardFixture, tmp_path: Path) -> None:
    snap = snapshot(board, tmp_path / "snap", 20)
    cps = (snap / "board" / "checkpoints.jsonl").read_text().splitlines()
    (snap / "board" / "checkpoints.jsonl").write_text("\n".join(cps[:-1]) + "\n")
    checkpoints = _verify(snap)["board.checkpoints"]
    assert not checkpoints.passed
    assert "checkpoints.final_seq" in [f.code for f in checkpoints.failures]
    (snap / "FORMAT.json").write_text(json.dumps({"format": "ssbvote-record", "version": 2}))
    with pytest.raises(RecordUnreadable, match="not a snapshot"):
        verify_snapshot(snap, Options(allow_test_key=True))
