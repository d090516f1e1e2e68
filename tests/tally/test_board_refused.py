"""prepare refuses a board that is not a valid closed board (docs/record.md §3)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from crypto.encoding import canonical_json
from tally.errors import BoardRefused
from tests.support.board_builder import BoardFixture, read_jsonl, rewrite_board, write_jsonl

from .helpers import run_prepare


def _edit_checkpoints(board: BoardFixture, change: Callable[[list[dict]], list[dict]]) -> None:
    write_jsonl(board.checkpoints_path, change(read_jsonl(board.checkpoints_path)))


def refused(board: BoardFixture, tmp_path: Path) -> str:
    with pytest.raises(BoardRefused) as info:
        run_prepare(board, tmp_path / "work")
    assert not (tmp_path / "work" / "tally" / "encrypted_tally.json").exists()
    return str(info.value)


def test_missing_checkpoint_file(board: BoardFixture, tmp_path: Path) -> None:
    board.checkpoints_path.unlink()
    assert "final checkpoint" in refused(board, tmp_path)


def test_no_final_checkpoint(board: BoardFixture, tmp_path: Path) -> None:
    _edit_checkpoints(board, lambda cps: cps[:-1])
    assert "no final checkpoint" in refused(board, tmp_path)


def test_final_checkpoint_bad_signature(board: BoardFixture, tmp_path: Path) -> None:
    def flip(cps: list[dict]) -> list[dict]:
        sig = cps[-1]["signature"]
        cps[-1]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
        return cps
    _edit_checkpoints(board, flip)
    assert "signature is not valid" in refused(board, tmp_path)


def test_final_checkpoint_signed_by_another_key(board: BoardFixture, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.support.board_builder import sign_object

    other = Ed25519PrivateKey.generate()
    _edit_checkpoints(board, lambda cps: cps[:-1] + [sign_object(other, cps[-1])])
    assert "signature is not valid" in refused(board, tmp_path)


def test_final_head_mismatch(board: BoardFixture, tmp_path: Path) -> None:
    _edit_checkpoints(board, lambda cps: cps[:-1] + [board.sign(dict(cps[-1], head="ab" * 32))])
    assert "head does not match" in refused(board, tmp_path)


def test_entry_after_final_checkpoint(board: BoardFixture, tmp_path: Path) -> None:
    entries = read_jsonl(board.entries_path)
    closed_at = len(entries) - 1  # the final checkpoint covers all but the last entry

    def close_early(cps: list[dict]) -> list[dict]:
        kept = [c for c in cps[:-1] if c["seq"] <= closed_at]
        return kept + [board.sign(dict(cps[-1], seq=closed_at, head=entries[closed_at - 1]["entry_hash"]))]
    _edit_checkpoints(board, close_early)
    assert "no entry may follow the final checkpoint" in refused(board, tmp_path)


def test_intermediate_checkpoint_off_chain(board: BoardFixture, tmp_path: Path) -> None:
    def bad(cps: list[dict]) -> list[dict]:
        assert len(cps) > 1
        cps[0] = board.sign(dict(cps[0], head="cd" * 32))
        return cps
    _edit_checkpoints(board, bad)
    assert "does not match the board chain" in refused(board, tmp_path)


def test_broken_chain(board: BoardFixture, tmp_path: Path) -> None:
    entries = read_jsonl(board.entries_path)
    entries[3]["cast_at"] = "2026-12-20T02:00:00.000000Z"  # entry_hash no longer matches
    write_jsonl(board.entries_path, entries)
    assert "entry_hash does not match" in refused(board, tmp_path)


def test_ballot_not_matching_its_entry(board: BoardFixture, tmp_path: Path) -> None:
    lines = read_jsonl(board.ballots_path)
    lines[4]["ballot"], lines[5]["ballot"] = lines[5]["ballot"], lines[4]["ballot"]
    write_jsonl(board.ballots_path, lines)
    assert "ballot" in refused(board, tmp_path)


def test_missing_or_badly_signed_overrides(board: BoardFixture, tmp_path: Path) -> None:
    original = read_jsonl(board.overrides_path)[0]
    board.overrides_path.unlink()
    assert "paper_overrides.json is missing" in refused(board, tmp_path / "a")
    forged = dict(original, pseudonyms=sorted(original["pseudonyms"] + ["f" * 32]))
    board.overrides_path.write_bytes(canonical_json(forged))
    assert "paper overrides: signature" in refused(board, tmp_path / "b")


def test_server_signed_invalid_ballot_is_excluded_not_refused(board: BoardFixture, tmp_path: Path) -> None:
    """A malformed ballot under valid signatures: excluded as invalid (named), not fatal."""
    last = board.counted["employer"][-1][0]
    ballot = read_jsonl(board.ballots_path)[last - 1]["ballot"]
    ballot["ciphertexts"][1] = "0"
    rewrite_board(board, {last: ballot})
    summary = run_prepare(board, tmp_path / "work")
    assert (last, "ciphertext 1: below the allowed range") in summary.invalid
    assert summary.counted["employer"] == len(board.counted["employer"]) - 1


def test_ballots_failing_only_the_batch_equation_are_found_and_named(board: BoardFixture, tmp_path: Path) -> None:
    """Responses altered (V1 still holds): the chunk's batch fails, bisection names each ballot."""
    targets = [board.counted["insured"][0][0], board.counted["insured"][-1][0], board.counted["employer"][1][0]]
    lines = {line["seq"]: line for line in read_jsonl(board.ballots_path)}
    n = board.election_key.public_key.n
    changed = {}
    for seq in targets:
        ballot = lines[seq]["ballot"]
        z = int(ballot["proofs"][1]["responses"][0], 16)
        ballot["proofs"][1]["responses"][0] = format(z - 1 if z > 1 else 2, "x")
        changed[seq] = ballot
    rewrite_board(board, changed)
    summary = run_prepare(board, tmp_path / "work")
    assert [seq for seq, _ in summary.invalid] == sorted(board.invalid_seqs + targets)
    reasons = dict(summary.invalid)
    assert all("candidate 1" in reasons[seq] for seq in targets)
    assert summary.counted["insured"] == len(board.counted["insured"]) - 2
    assert summary.counted["employer"] == len(board.counted["employer"]) - 1
