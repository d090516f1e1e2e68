"""tally preverify (docs/record.md §3.1): ballots verified from snapshots while the polls are open
are not verified again by the final prepare, which gives byte-identical outputs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import crypto.batch
from crypto.credential import ballot_party
from tally.cli import tally_cli
from tally.errors import BoardRefused, TallyError
from tally.prepare import COUNTED, ENCRYPTED_TALLY, prepare
from tally.preverified import Preverified, ballot_key, key_fingerprint
from tally.preverify import preverify
from tally.trustee import TrusteeRefused
from tests.support.board_builder import BoardFixture, read_jsonl

from .helpers import colluding_trustee_shares, run_finish, run_prepare, trustee_shares


def snapshot(board: BoardFixture, dest: Path, seq: int) -> Path:
    """The board as exported at its signed checkpoint ``seq`` while the polls were open."""
    (dest / "board").mkdir(parents=True)
    for name in ("manifest.json", "election_key.json", "board_key.json", "opening.json", "credentials.json",
                 "revocations.jsonl"):
        shutil.copy(board.path / name, dest / name)
    for name in ("entries.jsonl", "ballots.jsonl"):
        lines = (board.path / "board" / name).read_bytes().splitlines(keepends=True)
        (dest / "board" / name).write_bytes(b"".join(lines[:seq]))
    cps = [cp for cp in read_jsonl(board.checkpoints_path) if cp["seq"] <= seq and not cp["final"]]
    assert cps and cps[-1]["seq"] == seq, "the fixture board has a checkpoint every 10 entries"
    (dest / "board" / "checkpoints.jsonl").write_text("".join(json.dumps(cp) + "\n" for cp in cps))
    return dest


def _count_batched_ballots(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = crypto.batch.BatchVerifier.add_contest

    def counting(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(statement.party)
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(crypto.batch.BatchVerifier, "add_contest", counting)
    return seen


def _load(board: BoardFixture, path: Path) -> Preverified:
    return Preverified.load(path, board.election_id, board.election_key.public_key.n)


def test_preverified_ballots_are_not_verified_again_and_the_outputs_are_identical(
        board: BoardFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    known = tmp_path / "preverified.txt"
    first = preverify(snapshot(board, tmp_path / "snap-20", 20), known, processes=1,
                      allow_insecure_test_key=True, show_progress=False)
    assert first.entries == 20 and not first.final
    again = preverify(tmp_path / "snap-20", known, processes=1, allow_insecure_test_key=True, show_progress=False)
    assert again.verified == 0 and again.known == first.known  # nothing new to verify
    later = preverify(snapshot(board, tmp_path / "snap-30", 30), known, processes=1,
                      allow_insecure_test_key=True, show_progress=False)
    assert later.known == first.known + later.verified and later.verified > 0
    invalid_in_snapshot = {seq for seq, _ in first.invalid + later.invalid}
    assert invalid_in_snapshot <= set(board.invalid_seqs)
    recorded = _load(board, known)
    for seq in invalid_in_snapshot:  # an invalid ballot is reported, never recorded
        entry = read_jsonl(board.entries_path)[seq - 1]
        party = ballot_party(entry["pseudonym"], entry["credential"])
        assert ballot_key(entry["contest"], party, entry["ballot_hash"]) not in recorded

    plain = run_prepare(board, tmp_path / "plain")
    seen = _count_batched_ballots(monkeypatch)
    reused = prepare(board.path, tmp_path / "reused", processes=1, allow_insecure_test_key=True,
                     show_progress=False, preverified=known)
    counted = sum(plain.counted.values())
    assert reused.preverified > 0
    assert len(seen) == counted + len(board.invalid_seqs) - reused.preverified
    for name in (ENCRYPTED_TALLY, COUNTED):
        assert (tmp_path / "reused" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()
    assert reused.invalid == plain.invalid and reused.counted == plain.counted


def test_a_closed_board_can_be_preverified_too_and_then_nothing_is_verified_again(
        board: BoardFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    known = tmp_path / "preverified.txt"
    summary = preverify(board.path, known, processes=2, allow_insecure_test_key=True, show_progress=False)
    assert summary.final and sorted(seq for seq, _ in summary.invalid) == sorted(board.invalid_seqs)
    seen = _count_batched_ballots(monkeypatch)
    result = prepare(board.path, tmp_path / "work", processes=1, allow_insecure_test_key=True,
                     show_progress=False, preverified=known)
    assert len(seen) == len(board.invalid_seqs)  # only the invalid ones are checked (and refused) again
    assert sorted(seq for seq, _ in result.invalid) == sorted(board.invalid_seqs)


def test_a_preverified_file_of_another_election_or_a_damaged_one_is_refused(
        board: BoardFixture, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text(json.dumps({"type": "ssbvote-preverified/2", "election_id": "0" * 64,
                                 "key": "0" * 64}) + "\n")
    with pytest.raises(TallyError, match="another election"):
        prepare(board.path, tmp_path / "w1", processes=1, allow_insecure_test_key=True, show_progress=False,
                preverified=other)
    known = tmp_path / "known.txt"
    preverify(snapshot(board, tmp_path / "snap", 10), known, processes=1, allow_insecure_test_key=True,
              show_progress=False)
    with open(known, "a") as handle:
        handle.write("not a key\n")
    with pytest.raises(TallyError, match="damaged"):
        _load(board, known)


def test_a_line_cut_short_by_a_crash_is_dropped_and_verified_again(board: BoardFixture, tmp_path: Path) -> None:
    known = tmp_path / "known.txt"
    preverify(snapshot(board, tmp_path / "snap", 10), known, processes=1, allow_insecure_test_key=True,
              show_progress=False)
    complete = _load(board, known)
    lines = known.read_bytes().splitlines(keepends=True)
    known.write_bytes(b"".join(lines[:-1]) + lines[-1][:7])  # the last append was cut short
    assert len(_load(board, known)) == len(complete) - 1
    redo = preverify(tmp_path / "snap", known, processes=1, allow_insecure_test_key=True, show_progress=False)
    assert redo.verified == 1 and _load(board, known).keys == complete.keys


def test_a_snapshot_must_end_at_a_signed_checkpoint(board: BoardFixture, tmp_path: Path) -> None:
    snap = snapshot(board, tmp_path / "snap", 20)
    lines = (board.path / "board" / "entries.jsonl").read_bytes().splitlines(keepends=True)
    (snap / "board" / "entries.jsonl").write_bytes(b"".join(lines[:21]))  # one entry past it
    with pytest.raises(BoardRefused, match="last checkpoint: seq 20 but the board has 21 entries"):
        preverify(snap, tmp_path / "known.txt", processes=1, allow_insecure_test_key=True, show_progress=False)
    (snap / "board" / "checkpoints.jsonl").write_text("")
    with pytest.raises(BoardRefused, match="no checkpoint"):
        preverify(snap, tmp_path / "known.txt", processes=1, allow_insecure_test_key=True, show_progress=False)
    snap2 = snapshot(board, tmp_path / "snap2", 20)
    shutil.copy(board.overrides_path, snap2 / "paper_overrides.json")
    with pytest.raises(BoardRefused, match="no final checkpoint"):  # prepare still wants the closed board
        prepare(snap2, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)


def test_the_cli_preverifies_and_prepare_reports_it(board: BoardFixture, tmp_path: Path) -> None:
    known = tmp_path / "known.txt"
    runner = CliRunner()
    done = runner.invoke(tally_cli, ["preverify", str(snapshot(board, tmp_path / "snap", 20)), "--preverified",
                                     str(known), "--processes", "1", "--quiet", "--allow-insecure-test-key"])
    assert done.exit_code == 0, done.output
    assert "Snapshot: 20 entries up to a signed checkpoint." in done.output
    assert "Verified now:" in done.output
    done = runner.invoke(tally_cli, ["prepare", str(board.path), "--work", str(tmp_path / "work"), "--processes", "1",
                                     "--quiet", "--allow-insecure-test-key", "--preverified", str(known)])
    assert done.exit_code == 0, done.output
    assert "Pre-verified during polling:" in done.output


def test_a_lying_preverified_file_is_caught_by_the_independent_verifier(board: BoardFixture, tmp_path: Path) -> None:
    """The file is the operator's local cache: if it claims an invalid ballot valid, the tally
    counts that ballot unverified — and the public verifier, which trusts no cache, refuses the
    record (check 9 names the ballot)."""
    import subprocess
    import sys

    known = Preverified(tmp_path / "known.txt", board.election_id, key_fingerprint(board.election_key.public_key.n))
    entries = read_jsonl(board.entries_path)
    bad = entries[board.invalid_seqs[0] - 1]
    known.add([ballot_key(bad["contest"], ballot_party(bad["pseudonym"], bad["credential"]), bad["ballot_hash"])])
    work, record = tmp_path / "work", tmp_path / "record"
    summary = prepare(board.path, work, processes=1, allow_insecure_test_key=True, show_progress=False,
                      preverified=known.path)
    assert board.invalid_seqs[0] not in dict(summary.invalid)  # counted on the cache's word
    # The trustee tool rebuilds the tally and verifies the counted ballots' proofs (a sample; all
    # of them on this small board): it refuses to decrypt (docs/protocol.md §6.11).
    with pytest.raises(TrusteeRefused, match=f"ballot seq {board.invalid_seqs[0]} is counted, but its proofs"):
        trustee_shares(board, work, tmp_path, [1])
    # Trustees who decrypt the operator's tally anyway: the public verifier refuses the record.
    run_finish(work, colluding_trustee_shares(board, work, tmp_path, [1, 2]), record)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "verifier", str(record), "--allow-test-key", "--json",
                           "--ca-key", board.ca_public_hex],
                          cwd=root, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    failed = {c["name"] for c in report["checks"] if c["status"] != "pass"}
    assert report["exit_code"] == 1 and "ballots.proofs" in failed
