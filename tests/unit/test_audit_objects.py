"""The version-3 producer objects of issue 16 (docs/record.md §2.1, §2.5–§2.6, §4.1, docs/protocol.md
§5.6, §14): tracker and audit codes, the audit statement, audit entries and how the export reader
takes them, the counted-set rule, and the opening of a ballot with its seed."""
from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import ContestStatement, encrypt_contest, open_ballot
from crypto.credential import (audit_statement, ballot_statement, public_credential, sign_audit, sign_ballot,
                               verify_audit_signature, verify_ballot_signature)
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from election import board, counted, export, receipt
from election.board import Chain
from election.errors import BoardInvalid
from election.voters import KeyList, Voters
from tests.support.board_builder import Casting, cached_election_key

HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
SEQ = st.integers(min_value=1, max_value=10**12 - 1)
ELECTION_ID = "ab" * 32
OPENING = "0f" * 32
PSEUDONYMS = [f"{i:032x}" for i in range(1, 4)]
KEYS = [Ed25519PrivateKey.from_private_bytes(bytes([60 + i]) * 32) for i in range(3)]


# --- tracker and audit codes (record.md §2.5, protocol.md §14.4) -----------------------------


@given(SEQ, HEX64)
def test_tracker_and_audit_codes_round_trip(seq: int, ballot_hash: str) -> None:
    tracker = receipt.tracker_text(seq, ballot_hash)
    code = receipt.audit_code(seq, ballot_hash)
    assert tracker == f"ssbvote-tracker:1:{seq}:{ballot_hash}"
    assert code == f"ssbvote-audit:1:{seq}:{ballot_hash}"
    assert receipt.parse_tracker(f" {tracker}\n") == receipt.BoardRef(seq, ballot_hash)
    assert receipt.parse_audit_code(code) == receipt.BoardRef(seq, ballot_hash)
    with pytest.raises(ValueError):  # one kind of code is never read as the other
        receipt.parse_tracker(code)
    with pytest.raises(ValueError):
        receipt.parse_audit_code(tracker)
    assert receipt.short_tracker(ballot_hash) == f"{ballot_hash[:4]} {ballot_hash[4:8]}"


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_parsers_accept_only_their_codes(text: str) -> None:
    for parse, make in ((receipt.parse_tracker, receipt.tracker_text), (receipt.parse_audit_code, receipt.audit_code)):
        try:
            ref = parse(text)
        except ValueError:
            continue
        assert make(ref.seq, ref.ballot_hash) == text.strip()


@pytest.mark.parametrize("bad", [
    "ssbvote-tracker:1:0:" + "a" * 64, "ssbvote-tracker:1:07:" + "a" * 64, "ssbvote-tracker:2:7:" + "a" * 64,
    "ssbvote-tracker:1:7:" + "A" * 64, "ssbvote-tracker:1:7:" + "a" * 63, "ssbvote-tracker:1:7:" + "a" * 65,
    "ssbvote-tracker:1:1234567890123:" + "a" * 64, "ssbvote-check:1:7:" + "a" * 64, "",
    "ssbvote-tracker:1:7:" + "a" * 64 + "\n:x",
])
def test_tracker_parser_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        receipt.parse_tracker(bad)


def test_codes_are_made_only_of_valid_parts() -> None:
    for seq, digest in ((0, "a" * 64), (True, "a" * 64), (1, "A" * 64), (1, "a" * 63), (10**12, "a" * 64)):
        with pytest.raises(ValueError):
            receipt.tracker_text(seq, digest)
        with pytest.raises(ValueError):
            receipt.audit_code(seq, digest)
    assert receipt.is_ballot_hash("a" * 64) and not receipt.is_ballot_hash("A" * 64)


# --- the audit statement (protocol.md §14.2) -------------------------------------------------


def test_audit_statement_signature_is_not_a_ballot_signature() -> None:
    key = KEYS[0]
    credential = public_credential(key)
    seed = "5e" * 32
    statement = audit_statement(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32, seed)
    assert statement == {"type": "ssbvote-audit", "election_id": ELECTION_ID, "opening": OPENING,
                         "contest": "insured", "pseudonym": PSEUDONYMS[0], "credential": credential,
                         "ballot_hash": "cd" * 32, "seed": seed}
    signature = sign_audit(statement, key)
    assert verify_audit_signature(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32, seed,
                                  signature)
    # The server cannot turn the audit into a cast ballot: it is no ballot signature ...
    assert not verify_ballot_signature(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32,
                                       signature, previous="")
    # ... nor does a ballot signature authorise an audit, and the seed is signed.
    ballot_sig = sign_ballot(ballot_statement(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential,
                                              "cd" * 32, previous=""), key)
    assert not verify_audit_signature(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32, seed,
                                      ballot_sig)
    assert not verify_audit_signature(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32,
                                      "5f" * 32, signature)
    with pytest.raises(InvalidInput):
        sign_audit(statement, KEYS[1])  # another credential's key
    with pytest.raises(InvalidInput):
        sign_ballot(statement, key)  # not a ballot statement
    with pytest.raises(InvalidInput):
        audit_statement(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0], credential, "cd" * 32, "5E" * 32)


# --- audit entries and the export reader (record.md §2.1, §2.2, §3) --------------------------


def _board(kinds: str) -> list[tuple[dict[str, Any], bytes]]:
    """Entries by voter 0 of ``kinds`` ("b" cast, "a" audit) in order, with dummy ballots."""
    chain = Chain(ELECTION_ID)
    casting = Casting(chain, OPENING)
    items = []
    for i, kind in enumerate(kinds):
        ballot = canonical_json({"ciphertexts": [format(i + 1, "x")]})
        digest = hashlib.sha256(ballot).hexdigest()
        at = f"2026-12-20T01:00:{i:02d}.000000Z"
        if kind == "a":
            entry = casting.audit(PSEUDONYMS[0], "insured", digest, at, KEYS[0], bytes([i]) * 32)
        else:
            entry = casting.cast(PSEUDONYMS[0], "insured", digest, at, KEYS[0])
        items.append((entry, ballot))
    return items


def _scan(tmp_path: Path, entries: list[dict[str, Any]]) -> export.BoardIndex:
    path = tmp_path / "entries.jsonl"
    path.write_bytes(b"".join(canonical_json(e) + b"\n" for e in entries))
    voters = Voters({"insured": KeyList.of({bytes.fromhex(public_credential(k)) for k in KEYS})})
    final = {"seq": len(entries), "head": entries[-1]["entry_hash"], "final": True}
    return export.scan_entries(path, ELECTION_ID, {"insured": "insured"}, [final], voters, OPENING)


def test_audit_entries_have_their_own_keys_and_stay_out_of_the_chain_of_ballots(tmp_path: Path) -> None:
    items = _board("abab")
    entries = [e for e, _ in items]
    assert [e["kind"] for e in entries] == ["audit", "ballot", "audit", "ballot"]
    assert set(entries[0]) == board.AUDIT_ENTRY_KEYS and set(entries[1]) == board.ENTRY_KEYS
    assert entries[0]["seed"] == "00" * 32 and "previous" not in entries[0] and "seed" not in entries[1]
    # previous skips the audit: the second ballot chains to the first ballot, not to the audit.
    assert entries[1]["previous"] == "" and entries[3]["previous"] == entries[1]["ballot_hash"]
    assert all(board.entry_signature_ok(e, OPENING) for e in entries)
    assert not board.entry_signature_ok(dict(entries[0], seed="11" * 32), OPENING)  # the seed is signed
    with pytest.raises(ValueError):
        board.receipt(entries[0], opening=OPENING)  # audits get a code, not a receipt
    index = _scan(tmp_path, entries)
    assert index.latest(entries[3]["credential"]) == 4 and index.count == 4
    assert _scan(tmp_path, [e for e, _ in _board("a")]).latest(entries[0]["credential"]) == 0


@pytest.mark.parametrize("tamper", ["unknown_kind", "no_kind", "audit_with_previous", "ballot_with_seed",
                                    "audit_without_seed", "audit_seed_uppercase", "audit_signed_as_ballot",
                                    "audit_for_other_pseudonym"])
def test_the_reader_refuses_malformed_audit_entries(tmp_path: Path, tamper: str) -> None:
    entries = [e for e, _ in _board("ab")]
    audit, ballot = entries
    if tamper == "unknown_kind":
        audit = dict(audit, kind="spoiled")
    elif tamper == "no_kind":
        audit = {k: v for k, v in audit.items() if k != "kind"}
    elif tamper == "audit_with_previous":
        audit = dict(audit, previous="")
    elif tamper == "ballot_with_seed":
        ballot = dict(ballot, seed="00" * 32)
    elif tamper == "audit_without_seed":
        audit = {k: v for k, v in audit.items() if k != "seed"}
    elif tamper == "audit_seed_uppercase":
        audit = dict(audit, seed="AB" * 32)
    elif tamper == "audit_signed_as_ballot":  # the server re-labels a cast ballot's signature
        audit = dict(audit, signature=sign_ballot(ballot_statement(ELECTION_ID, OPENING, "insured", PSEUDONYMS[0],
                                                                   audit["credential"], audit["ballot_hash"],
                                                                   previous=""), KEYS[0]))
    elif tamper == "audit_for_other_pseudonym":
        statement = audit_statement(ELECTION_ID, OPENING, "insured", PSEUDONYMS[1], audit["credential"],
                                    audit["ballot_hash"], audit["seed"])
        audit = dict(audit, pseudonym=PSEUDONYMS[1], signature=sign_audit(statement, KEYS[0]))
    chain = Chain(ELECTION_ID)
    relinked = []
    for e in (audit, ballot):
        body = {k: v for k, v in e.items() if k not in ("entry_hash",)}
        body["prev_hash"] = chain.head
        body["entry_hash"] = board.entry_hash(body)
        chain.seq, chain.head = chain.seq + 1, body["entry_hash"]
        relinked.append(body)
    with pytest.raises(BoardInvalid):
        _scan(tmp_path, relinked)


# --- the counted-set rule (record.md §4.1) -------------------------------------------------


@pytest.mark.parametrize(("kind", "latest", "revoked", "paper", "invalid", "reason"), [
    ("audit", True, True, True, "x", "audited"),
    ("audit", False, False, False, None, "audited"),
    ("ballot", True, True, True, "x", "revoked"),
    ("ballot", False, False, True, None, "paper-vote"),
    ("ballot", False, False, False, "x", "superseded"),
    ("ballot", True, False, False, "bad proof", "invalid: bad proof"),
    ("ballot", True, False, False, None, None),
])
def test_counted_set_rule(kind: str, latest: bool, revoked: bool, paper: bool, invalid: str | None,
                          reason: str | None) -> None:
    assert counted.exclusion(kind, latest=latest, revoked=revoked, paper_vote=paper, invalid=invalid) == reason
    assert counted.to_count(kind, latest=latest, revoked=revoked, paper_vote=paper) == (
        reason is None or reason.startswith("invalid"))
    with pytest.raises(ValueError):
        counted.exclusion("spoiled", latest=True, revoked=False, paper_vote=False)


# --- opening a ballot with its seed (protocol.md §5.6) ------------------------------------


def test_open_ballot_opens_only_with_its_seed_and_within_k() -> None:
    key, _ = cached_election_key()
    pk = key.public_key
    statement = ContestStatement(pk, ELECTION_ID, "insured", f"{PSEUDONYMS[0]}/{'cd' * 32}", 5, 3)
    seed = secrets.token_bytes(32)
    ballot = encrypt_contest(statement, [1, 0, 1, 1, 0], seed)
    assert open_ballot(statement, ballot, seed) == [1, 0, 1, 1, 0]
    with pytest.raises(InvalidInput, match="randomness"):
        open_ballot(statement, ballot, secrets.token_bytes(32))
    other_party = ContestStatement(pk, ELECTION_ID, "insured", f"{PSEUDONYMS[1]}/{'cd' * 32}", 5, 3)
    with pytest.raises(InvalidInput):  # the seed derives r_i for one party only
        open_ballot(other_party, ballot, seed)
    two = ContestStatement(pk, ELECTION_ID, "insured", f"{PSEUDONYMS[0]}/{'cd' * 32}", 5, 2)
    with pytest.raises(InvalidInput, match="at most 2"):  # Σ m_i ≤ k, checked by the opening itself
        open_ballot(two, ballot, seed)
    with pytest.raises(InvalidInput, match="32 bytes"):
        open_ballot(statement, ballot, seed[:31])
    shorter = ContestStatement(pk, ELECTION_ID, "insured", f"{PSEUDONYMS[0]}/{'cd' * 32}", 4, 3)
    with pytest.raises(InvalidInput, match="ciphertexts"):
        open_ballot(shorter, ballot, seed)
