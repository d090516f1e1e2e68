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
from election import export, lifecycle, receipt, record, signed
from election.board import Chain, ChainScanner, checkpoint, entry_hash, iso_utc, paper_overrides
from election.errors import BoardInvalid, ManifestInvalid
from election.manifest import Manifest, PollWindow
from tests.support.board_builder import builder_manifest

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PSEUDONYMS = [f"{i:032x}" for i in range(1, 4)]


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


def test_receipt_code_round_trip_and_token() -> None:
    seed = bytes(range(32))
    text = receipt.qr_text(17, seed)
    assert text == "ssbvote-check:1:17:" + seed.hex()
    assert receipt.parse_qr(f"  {text}\n") == receipt.QrPayload(17, seed)
    for bad in ("ssbvote-check:1:0:" + seed.hex(), "ssbvote-check:2:1:" + seed.hex(), text.upper()):
        with pytest.raises(ValueError):
            receipt.parse_qr(bad)
    assert receipt.check_token(seed) == hashlib.sha256(b"ssbvote-check-v1" + seed).hexdigest()


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


def _board(election_id: str, n: int) -> tuple[Chain, list[export.BoardItem]]:
    chain = Chain(election_id)
    items = []
    for i in range(n):
        ballot = canonical_json({"ciphertexts": [format(i + 1, "x")]})
        entry = chain.append(PSEUDONYMS[i % 3], "insured", hashlib.sha256(ballot).hexdigest(),
                             iso_utc(datetime(2026, 12, 20, 1, i, tzinfo=timezone.utc)))
        items.append((entry, ballot))
    return chain, items


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
    chain, items = _board(election_id, 5)

    def final() -> Iterator[dict[str, Any]]:
        yield signed.sign(checkpoint(election_id, chain.seq, chain.head, "2026-12-20T09:00:00.000000Z", True), KEY)

    overrides = signed.sign(paper_overrides(election_id, PSEUDONYMS[:1], "2026-12-20T10:00:00.000000Z",
                                            ["a", "b"]), KEY)
    out = export.write_export(tmp_path / "export", manifest=manifest_bytes, election_key=b"{}",
                              board_key=signed.public_key_dict(KEY), board=items, checkpoints=final(),
                              paper_overrides=overrides)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(export.EXPORT_FILES)
    lines = (out / export.BALLOTS).read_bytes().splitlines()
    assert lines == [canonical_json({"seq": e["seq"], "pseudonym": e["pseudonym"], "contest": e["contest"],
                                     "ballot": json.loads(b)}) for e, b in items]
    parsed = export.load_manifest(out / export.MANIFEST)
    assert parsed == Manifest.from_dict(manifest) and parsed.election_id == election_id
    public = export.load_board_key(out / export.BOARD_KEY)
    cps = export.load_checkpoints(out / export.CHECKPOINTS, election_id, public)
    assert export.load_overrides(out / export.PAPER_OVERRIDES, election_id, public) == frozenset(PSEUDONYMS[:1])
    index = export.scan_entries(out / export.ENTRIES, election_id, set(parsed.contest_ids), cps)
    assert (index.count, index.head) == (5, chain.head)
    assert index.latest == {("insured", PSEUDONYMS[0]): 4, ("insured", PSEUDONYMS[1]): 5, ("insured", PSEUDONYMS[2]): 3}
    (out / export.MANIFEST).write_bytes(json.dumps(manifest).encode())
    with pytest.raises(BoardInvalid, match="not the canonical manifest bytes"):
        export.load_manifest(out / export.MANIFEST)


def test_export_is_atomic(tmp_path: Path) -> None:
    def failing() -> Iterator[export.BoardItem]:
        yield from _board("ab" * 32, 2)[1]
        raise RuntimeError("ballot missing")

    with pytest.raises(RuntimeError):
        export.write_export(tmp_path / "export", manifest=b"{}", election_key=b"{}",
                            board_key=signed.public_key_dict(KEY), board=failing(), checkpoints=[],
                            paper_overrides=None)
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
