"""election/: the producer-side library of docs/record.md and docs/manifest.md, without Flask."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import canonical_json
from crypto.credential import public_credential
from election import authority, board, export, lifecycle, record, signed
from election.board import Chain, ChainScanner, checkpoint, entry_hash, iso_utc
from election.errors import BoardInvalid, ManifestInvalid
from election.manifest import Manifest, PollWindow
from election.voters import KeyList, Voters
from tests.support.board_builder import (Casting, builder_manifest, signed_credential_list, signed_opening,
                                         signed_paper_list, signed_revocation)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
CA = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
OFFICIALS = {name: Ed25519PrivateKey.from_private_bytes(bytes([i]) * 32) for i, name in enumerate(("alice", "bob"), 7)}
VOTERS = [Ed25519PrivateKey.from_private_bytes(bytes([40 + i]) * 32) for i in range(3)]
PSEUDONYMS = [f"{i:032x}" for i in range(1, 4)]
OPENING_HASH = "0f" * 32


def test_lifecycle_status_and_polls_open() -> None:
    assert [s.value for s in lifecycle.Status] == ["draft", "open", "closed", "tallied"]
    assert lifecycle.can_move("draft", "open") and lifecycle.can_move("open", "closed")
    assert not lifecycle.can_move("closed", "open") and not lifecycle.can_move("draft", "closed")
    opens = datetime(2026, 12, 20, 1, tzinfo=timezone.utc)
    window = PollWindow(opens, opens + timedelta(hours=8))
    assert lifecycle.polls_open("open", window, opens)
    assert not lifecycle.polls_open("open", window, opens + timedelta(hours=8))
    assert not lifecycle.polls_open("draft", window, opens + timedelta(hours=1))
    assert not lifecycle.polls_open("closed", window, opens + timedelta(hours=1))


def test_signed_objects() -> None:
    obj = signed.sign({"type": "t", "x": 1}, KEY)
    public = signed.public_key_dict(KEY)
    assert public["algorithm"] == "Ed25519" and signed.verify(obj, public["public_key"])
    assert not signed.verify(dict(obj, x=2), public["public_key"])
    assert not signed.verify(obj, "00" * 32) and not signed.verify(obj, "not hex")
    key = KEY.public_key()
    assert signed.verdict(obj, key) is signed.Verdict.VALID
    assert signed.verdict(dict(obj, signature=obj["signature"].upper()), key) is signed.Verdict.MALFORMED
    assert signed.verdict(signed.unsigned(obj), key) is signed.Verdict.MALFORMED
    assert signed.verdict(dict(obj, x=2), key) is signed.Verdict.INVALID
    with pytest.raises(ValueError):
        signed.sign(obj, KEY)  # already signed
    with pytest.raises(ValueError):
        signed.sign({"x": 1}, KEY)  # no type


def _board(election_id: str, n: int, opening_hash: str = OPENING_HASH) -> tuple[Chain, list[export.BoardItem]]:
    chain = Chain(election_id)
    casting = Casting(chain, opening_hash)
    items = []
    for i in range(n):
        ballot = canonical_json({"ciphertexts": [format(i + 1, "x")]})
        entry = casting.cast(PSEUDONYMS[i % 3], "insured", hashlib.sha256(ballot).hexdigest(),
                             iso_utc(datetime(2026, 12, 20, 1, i, tzinfo=timezone.utc)), VOTERS[i % 3])
        items.append((entry, ballot))
    return chain, items


def test_entries_carry_the_voters_signature_and_chain_per_credential() -> None:
    _, items = _board("ab" * 32, 5)
    entries = [e for e, _ in items]
    assert set(entries[0]) == board.ENTRY_KEYS
    assert [e["previous"] for e in entries] == ["", "", "", entries[0]["ballot_hash"], entries[1]["ballot_hash"]]
    assert all(board.entry_signature_ok(e, OPENING_HASH) for e in entries)
    assert not board.entry_signature_ok(entries[0], "1f" * 32)  # another opening
    moved = dict(entries[0], pseudonym=PSEUDONYMS[1])
    assert not board.entry_signature_ok(moved, OPENING_HASH)
    assert entry_hash(dict(entries[0], signature="00" * 64)) != entries[0]["entry_hash"]  # the hash covers it


def test_paper_list_signed_by_two_officials_and_its_digest() -> None:
    body = board.paper_overrides("ab" * 32, PSEUDONYMS[:2], "2026-12-20T10:00:00.000000Z", opening=OPENING_HASH)
    digest = board.paper_list_digest(body)
    assert digest == hashlib.sha256(canonical_json(body)).hexdigest()
    one = board.add_official_signature(body, "alice", OFFICIALS["alice"])
    two = board.add_official_signature(one, "bob", OFFICIALS["bob"])
    assert board.paper_list_digest(two) == digest and set(two) == board.OVERRIDE_KEYS
    pinned = {name: public_credential(key) for name, key in OFFICIALS.items()}
    assert board.paper_signature_problems(two, pinned) == []
    assert board.paper_signature_problems(one, pinned) == ["1 signatures, not 2 (two officials)"]
    with pytest.raises(ValueError):
        board.add_official_signature(one, "alice", OFFICIALS["alice"])
    changed = dict(two, pseudonyms=PSEUDONYMS[:1])
    assert len(board.paper_signature_problems(changed, pinned)) == 2  # both signatures fail
    assert board.paper_signature_problems(two, {"alice": pinned["alice"]}) == [
        "signatures[1]: 'bob' is not an official pinned in the opening"]


def test_receipt_carries_the_opening_and_credential() -> None:
    _, items = _board("ab" * 32, 1)
    body = board.receipt(items[0][0], opening=OPENING_HASH)
    assert body["opening"] == OPENING_HASH and body["credential"] == public_credential(VOTERS[0])
    assert set(signed.sign(body, KEY)) == board.RECEIPT_KEYS


def test_voters_revocations_and_key_list() -> None:
    keys = sorted(public_credential(k) for k in VOTERS)
    packed = KeyList.of({bytes.fromhex(k) for k in keys})
    assert len(packed) == 3 and all(bytes.fromhex(k) in packed for k in keys) and b"\0" * 32 not in packed
    voters = Voters({"insured": packed})
    eid = "ab" * 32
    new = public_credential(CA)
    voters.add_revocation(signed_revocation(CA, eid, "insured", keys[0], new, "t"), eid, public_credential(CA))
    assert voters.member(bytes.fromhex(new), "insured") and voters.root(bytes.fromhex(new)) == bytes.fromhex(keys[0])
    assert bytes.fromhex(keys[0]) in voters.revoked
    for bad, why in ((signed_revocation(CA, eid, "insured", keys[0], None, "t"), "not a live credential"),
                     (signed_revocation(CA, eid, "insured", keys[1], keys[2], "t"), "not a new credential"),
                     (signed_revocation(KEY, eid, "insured", keys[1], None, "t"), "not signed by the CA"),
                     (signed_revocation(CA, "cd" * 32, "insured", keys[1], None, "t"), "of election")):
        with pytest.raises(ValueError, match=why):
            voters.add_revocation(bad, eid, public_credential(CA))


def test_chain_scanner_reports_each_broken_link() -> None:
    chain, items = _board("ab" * 32, 5)
    entries = [dict(e) for e, _ in items]
    scanner = ChainScanner("ab" * 32)
    assert all(scanner.step(e).ok for e in entries) and scanner.head == chain.head
    entries[2]["cast_at"] = "2026-12-20T02:00:00.000000Z"
    scanner = ChainScanner("ab" * 32)
    links = [scanner.step(e) for e in entries]
    assert [(link.hash_ok, link.prev_ok) for link in links] == [(True, True)] * 2 + [(False, True)] + [(True, True)] * 2
    assert entries[2]["entry_hash"] != entry_hash(entries[2])


def test_export_round_trip(tmp_path: Path) -> None:
    manifest = builder_manifest()
    manifest_bytes = canonical_json(manifest)
    election_id = hashlib.sha256(manifest_bytes).hexdigest()
    credentials = signed_credential_list(CA, election_id, {"insured": [public_credential(k) for k in VOTERS]}, "t")
    opening = signed_opening(CA, election_id, b"{}", KEY, credentials,
                             {name: public_credential(k) for name, k in OFFICIALS.items()}, "t")
    opening_hash = authority.object_hash(opening)
    chain, items = _board(election_id, 5, opening_hash)

    def final() -> Iterator[dict[str, Any]]:
        yield signed.sign(checkpoint(election_id, chain.seq, chain.head, "2026-12-20T09:00:00.000000Z", True,
                                     opening=opening_hash), KEY)

    overrides = signed_paper_list(election_id, opening_hash, PSEUDONYMS[:1], "2026-12-20T10:00:00.000000Z",
                                  list(OFFICIALS.items()))
    out = export.write_export(tmp_path / "export", manifest=manifest_bytes, election_key=b"{}",
                              board_key=signed.public_key_dict(KEY), opening=opening, credentials=credentials,
                              revocations=[], board=items, checkpoints=final(), paper_overrides=overrides)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(export.EXPORT_FILES)
    lines = (out / export.BALLOTS).read_bytes().splitlines()
    assert lines == [canonical_json({"seq": e["seq"], "pseudonym": e["pseudonym"], "contest": e["contest"],
                                     "ballot": json.loads(b)}) for e, b in items]
    parsed = export.load_manifest(out / export.MANIFEST)
    assert parsed == Manifest.from_dict(manifest) and parsed.election_id == election_id
    public = export.load_board_key(out / export.BOARD_KEY)
    pins, voters = export.load_authority(out, election_id, public)
    assert pins.hash == opening_hash and len(voters.lists["insured"]) == 3
    cps = export.load_checkpoints(out / export.CHECKPOINTS, election_id, public, opening=pins.hash)
    assert export.load_overrides(out / export.PAPER_OVERRIDES, election_id, pins) == frozenset(PSEUDONYMS[:1])
    contests = {c.id: c.electorate for c in parsed.contests}
    index = export.scan_entries(out / export.ENTRIES, election_id, contests, cps, voters, pins.hash)
    assert (index.count, index.head) == (5, chain.head)
    assert [index.latest(public_credential(k)) for k in VOTERS] == [4, 5, 3]
    with pytest.raises(BoardInvalid, match="board entry 1: the voter's signature does not verify"):
        export.scan_entries(out / export.ENTRIES, election_id, contests, cps, voters, "1f" * 32)
    with pytest.raises(BoardInvalid, match="opening is not the hash of opening.json"):
        export.load_checkpoints(out / export.CHECKPOINTS, election_id, public, opening="1f" * 32)
    (out / export.CREDENTIALS).write_bytes(credentials.replace(b'"at":"t"', b'"at":"u"'))
    with pytest.raises(BoardInvalid, match="credentials is not the SHA-256 of credentials.json"):
        export.load_authority(out, election_id, public)
    (out / export.MANIFEST).write_bytes(json.dumps(manifest).encode())
    with pytest.raises(BoardInvalid, match="not the canonical manifest bytes"):
        export.load_manifest(out / export.MANIFEST)


def test_export_is_atomic(tmp_path: Path) -> None:
    def failing() -> Iterator[export.BoardItem]:
        yield from _board("ab" * 32, 2)[1]
        raise RuntimeError("ballot missing")

    with pytest.raises(RuntimeError):
        export.write_export(tmp_path / "export", manifest=b"{}", election_key=b"{}",
                            board_key=signed.public_key_dict(KEY), opening={}, credentials=b"{}", revocations=[],
                            board=failing(), checkpoints=[], paper_overrides=None)
    assert list(tmp_path.iterdir()) == []


def test_manifest_problems_are_all_named() -> None:
    bad = builder_manifest()
    bad["contests"][0]["max_selections"] = 0
    bad["contests"][1]["candidates"][0]["team"] = ["not", "a", "team"]
    with pytest.raises(ManifestInvalid) as info:
        Manifest.from_dict(bad)
    assert info.value.problems == ["contests[0].max_selections: must be a whole number of at least 1",
                                   "contests[1].candidates[0].team: unknown team ['not', 'a', 'team']"]


def test_record_hashes(tmp_path: Path) -> None:
    (tmp_path / "tally").mkdir()
    (tmp_path / "a.json").write_bytes(b"{}")
    (tmp_path / "tally" / "b.json").write_bytes(b"[]")
    (tmp_path / record.HASHES).write_bytes(b"old")
    files = {"a.json": hashlib.sha256(b"{}").hexdigest(), "tally/b.json": hashlib.sha256(b"[]").hexdigest()}
    assert record.hashes(tmp_path) == {"files": files,
                                       "record_hash": hashlib.sha256(canonical_json(files)).hexdigest()}
    assert record.share_file(2) == "tally/decryption_shares/trustee-2.json"


def test_credential_list_is_read_strictly_from_the_cas_canonical_bytes() -> None:
    from election.voters import parse_credential_list

    eid, ca = "ab" * 32, public_credential(CA)
    keys = sorted(public_credential(k) for k in VOTERS)
    good = signed_credential_list(CA, eid, {"insured": keys, "employer": []}, "t")
    listed = parse_credential_list(bytearray(good), eid, ca)
    assert list(listed.contests["insured"]) == [bytes.fromhex(k) for k in keys]
    assert len(listed.contests["employer"]) == 0
    unsorted = signed.sign({"type": "ssbvote-credentials", "election_id": eid, "at": "t",
                            "contests": {"insured": keys[::-1]}}, CA)
    twice = signed.sign({"type": "ssbvote-credentials", "election_id": eid, "at": "t",
                         "contests": {"employer": keys[:1], "insured": keys}}, CA)
    for raw, why in ((canonical_json(unsorted), "not sorted and unique"),
                     (canonical_json(twice), "in two contests"),
                     (json.dumps(json.loads(good)).encode(), "not the canonical JSON"),
                     (good.replace(keys[1].encode(), keys[1].upper().encode()), "64 lowercase hex"),
                     (signed_credential_list(KEY, eid, {"insured": keys}, "t"), "not signed by the CA key"),
                     (signed_credential_list(CA, "cd" * 32, {"insured": keys}, "t"), "of election")):
        with pytest.raises(ValueError, match=why):
            parse_credential_list(bytearray(raw), eid, ca)
    # version 4: keyed by contest id; given the manifest's ids, another key is refused
    sections = signed_credential_list(CA, eid, {"insured-33": keys[:2], "insured-39": keys[2:]}, "t")
    listed = parse_credential_list(bytearray(sections), eid, ca, ["insured-33", "insured-39"])
    assert sorted(listed.contests) == ["insured-33", "insured-39"]
    with pytest.raises(ValueError, match="'insured-39' is not a contest of the manifest"):
        parse_credential_list(bytearray(sections), eid, ca, ["insured-33"])
