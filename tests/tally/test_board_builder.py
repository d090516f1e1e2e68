"""The test board builder itself writes what docs/record.md §2–§3 require."""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto import ContestStatement, EncryptedContest, InvalidInput, ballot_hash, verify_contest
from crypto.encoding import canonical_json
from tests.support.board_builder import build_board_export, entry_hash, read_jsonl, sha256_hex


def test_builder_export_follows_the_byte_rules(tmp_path: Path) -> None:
    fx = build_board_export(tmp_path / "export", insured=8, employers=4, paper=1, invalid_ballots=1, seed=3)
    assert sha256_hex((fx.path / "manifest.json").read_bytes()) == fx.election_id
    entries = read_jsonl(fx.entries_path)
    ballots = read_jsonl(fx.ballots_path)
    prev = fx.election_id
    for i, (entry, line) in enumerate(zip(entries, ballots), start=1):
        assert entry["seq"] == line["seq"] == i and entry["prev_hash"] == prev
        assert entry["entry_hash"] == entry_hash(entry)
        assert (line["pseudonym"], line["contest"]) == (entry["pseudonym"], entry["contest"])
        ballot = EncryptedContest.from_dict(line["ballot"], fx.election_key.public_key)
        assert ballot_hash(ballot) == entry["ballot_hash"]
        contest = next(c for c in fx.manifest["contests"] if c["id"] == line["contest"])
        args = (ContestStatement(fx.election_key.public_key, fx.election_id, line["contest"], line["pseudonym"],
                                 len(contest["candidates"]), contest["max_selections"]), ballot)
        if i in fx.invalid_seqs:
            try:
                verify_contest(*args)
            except InvalidInput:
                pass
            else:  # pragma: no cover
                raise AssertionError("invalid ballot verified")
        else:
            verify_contest(*args)
        prev = entry["entry_hash"]
    public = Ed25519PublicKey.from_public_bytes(
        bytes.fromhex(read_jsonl(fx.path / "board_key.json")[0]["public_key"]))
    checkpoints = read_jsonl(fx.checkpoints_path)
    assert [c["final"] for c in checkpoints] == [False] * (len(checkpoints) - 1) + [True]
    assert checkpoints[-1]["seq"] == len(entries) and checkpoints[-1]["head"] == prev
    for obj in checkpoints + read_jsonl(fx.overrides_path):
        body = {k: v for k, v in obj.items() if k != "signature"}
        public.verify(bytes.fromhex(obj["signature"]), canonical_json(body))
    total = sum(len(v) for v in fx.counted.values()) + sum(len(v) for v in fx.excluded.values())
    assert total == fx.num_entries == len(entries)
