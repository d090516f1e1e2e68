"""prepare refuses a board that is not a valid closed board (docs/record.md §2–§3, §6): the
server must never have signed or accepted what is refused here."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import canonical_json
from election import authority
from tally.errors import BoardRefused
from crypto.credential import ballot_statement, public_credential, sign_ballot
from election.signed import public_key_dict
from tests.support.board_builder import (BoardFixture, read_jsonl, rewrite_board, sign_object, signed_revocation,
                                         write_jsonl)

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
    message = refused(board, tmp_path / "b")
    assert "paper overrides: officials' signatures" in message and "'official-a' is not valid" in message


def test_paper_list_needs_two_distinct_pinned_officials(board: BoardFixture, tmp_path: Path) -> None:
    original = read_jsonl(board.overrides_path)[0]
    board.overrides_path.write_bytes(canonical_json(board.sign_paper_list(original, ["official-a"])))
    assert "1 signatures, not 2" in refused(board, tmp_path / "a")
    mallory = dict(original, signatures=[original["signatures"][0],
                                         dict(original["signatures"][1], official="mallory")])
    board.overrides_path.write_bytes(canonical_json(mallory))
    assert "'mallory' is not an official pinned in the opening" in refused(board, tmp_path / "b")
    board.overrides_path.write_bytes(canonical_json(board.sign_paper_list(dict(original, opening="ab" * 32))))
    assert "paper overrides: opening is not the hash of opening.json" in refused(board, tmp_path / "c")


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


# --- version 2: the pins and the voters' signatures (docs/record.md §2.0, §2.1, §6) ---------------


def _resign_opening(board: BoardFixture, key: Ed25519PrivateKey, **changes: object) -> None:
    """A new opening (signed by ``key``) and everything that carries its hash re-signed: the
    checkpoints by the board key, the paper list by the officials, the ballots by the voters."""
    opening = sign_object(key, dict(read_jsonl(board.opening_path)[0], **changes))
    board.opening_path.write_bytes(canonical_json(opening))
    board.opening_hash = authority.object_hash(opening)
    _edit_checkpoints(board, lambda cps: [board.sign(dict(cp, opening=board.opening_hash)) for cp in cps])
    board.overrides_path.write_bytes(canonical_json(board.sign_paper_list(
        dict(read_jsonl(board.overrides_path)[0], opening=board.opening_hash))))
    rewrite_board(board)


def test_a_valid_resigned_opening_is_accepted(board: BoardFixture, tmp_path: Path) -> None:
    _resign_opening(board, board.ca_private_key, at="2026-12-20T00:00:01.000000Z")
    assert sum(run_prepare(board, tmp_path / "work").counted.values()) == sum(map(len, board.counted.values()))


def test_opening_not_signed_by_the_ca_key_it_names(board: BoardFixture, tmp_path: Path) -> None:
    _resign_opening(board, Ed25519PrivateKey.generate())
    assert "opening.json: not signed by the CA key it pins" in refused(board, tmp_path)


def test_opening_pinning_another_board_key(board: BoardFixture, tmp_path: Path) -> None:
    """The server swaps in a board key of its own and re-signs the checkpoints with it."""
    rogue = Ed25519PrivateKey.generate()
    (board.path / "board_key.json").write_bytes(canonical_json(public_key_dict(rogue)))
    _edit_checkpoints(board, lambda cps: [sign_object(rogue, cp) for cp in cps])
    assert "board_key is not the key of board_key.json" in refused(board, tmp_path)


def test_credential_list_changed_after_pinning(board: BoardFixture, tmp_path: Path) -> None:
    listed = read_jsonl(board.credentials_path)[0]
    listed["contests"]["insured"] = sorted(listed["contests"]["insured"] + ["ab" * 32])
    board.credentials_path.write_bytes(canonical_json(board.sign_ca(listed)))
    assert "credentials is not the SHA-256 of credentials.json" in refused(board, tmp_path)


def test_election_key_changed_after_pinning(board: BoardFixture, tmp_path: Path) -> None:
    path = board.path / "election_key.json"
    path.write_bytes(path.read_bytes() + b" ")
    assert "election_key is not the SHA-256 of election_key.json" in refused(board, tmp_path)


def test_revocation_not_signed_by_the_ca(board: BoardFixture, tmp_path: Path) -> None:
    victim = read_jsonl(board.entries_path)[0]
    forged = signed_revocation(Ed25519PrivateKey.generate(), board.election_id, "insured", victim["credential"],
                               None, "2026-12-20T02:00:00.000000Z")
    with open(board.revocations_path, "ab") as handle:
        handle.write(canonical_json(forged) + b"\n")
    assert "revocations.jsonl line 3: not signed by the CA key of the opening" in refused(board, tmp_path)


def test_entry_whose_signature_does_not_verify(board: BoardFixture, tmp_path: Path) -> None:
    """The server moves a ballot to another pseudonym and re-links the chain: the voter's
    signature no longer verifies, and the board is refused naming the entry."""
    entries = read_jsonl(board.entries_path)
    entries[5]["pseudonym"] = "0" * 32
    rewrite_board(board, entries=entries, resign=False)
    assert "board entry 6: the voter's signature does not verify" in refused(board, tmp_path)


def test_entry_signed_by_a_credential_not_on_the_list(board: BoardFixture, tmp_path: Path) -> None:
    """The server re-casts the last ballot with a credential of its own, validly signed."""
    rogue = Ed25519PrivateKey.generate()
    entries = read_jsonl(board.entries_path)
    last = entries[-1]
    last.update(credential=public_credential(rogue), previous="")
    last["signature"] = sign_ballot(ballot_statement(board.election_id, board.opening_hash, last["contest"],
                                                     last["pseudonym"], last["credential"], last["ballot_hash"],
                                                     previous=""), rogue)
    rewrite_board(board, entries=entries, resign=False)
    message = refused(board, tmp_path)
    assert f"board entry {last['seq']}: credential {last['credential']} is not one of contest" in message


def test_entry_of_the_other_electorates_credential(board: BoardFixture, tmp_path: Path) -> None:
    entries = read_jsonl(board.entries_path)
    insured = next(e for e in entries if e["contest"] == "insured")
    employer = next(e for e in entries if e["contest"] == "employer")
    employer_voter = board.voters[employer["pseudonym"]]
    insured.update(credential=employer_voter.credentials[0].public)
    rewrite_board(board, entries=entries)
    message = refused(board, tmp_path)
    assert f"board entry {insured['seq']}: credential" in message and "it is of contest employer" in message


def test_ballots_of_a_credential_out_of_order(board: BoardFixture, tmp_path: Path) -> None:
    """The server swaps two ballots of one credential (both voter-signed): the chain through
    ``previous`` breaks."""
    entries = read_jsonl(board.entries_path)
    seqs: dict[str, list[int]] = {}
    for e in entries:
        seqs.setdefault(e["credential"], []).append(e["seq"])
    a, b = next(s for s in seqs.values() if len(s) >= 2)[:2]
    lines = read_jsonl(board.ballots_path)
    entries[a - 1], entries[b - 1] = entries[b - 1], entries[a - 1]
    lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
    write_jsonl(board.ballots_path, lines)
    rewrite_board(board, entries=entries, resign=False)
    assert f"board entry {a}: previous is" in refused(board, tmp_path)


def test_a_credential_voting_for_two_pseudonyms(board: BoardFixture, tmp_path: Path) -> None:
    """A voter's device signs (validly) a ballot for another pseudonym: the server must refuse it."""
    entries = read_jsonl(board.entries_path)
    first = entries[0]
    later = next(e for e in entries[1:] if e["contest"] == first["contest"] and e["credential"] != first["credential"])
    later["credential"] = first["credential"]
    rewrite_board(board, entries=entries)
    assert f"board entry {later['seq']}: credential {first['credential']} votes for pseudonym" in refused(board, tmp_path)
