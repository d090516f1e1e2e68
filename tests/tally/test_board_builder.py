"""The test board builder itself writes what docs/record.md §2–§3 and §6 require (version 2)."""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto import ContestStatement, EncryptedContest, InvalidInput, ballot_hash, verify_contest
from crypto.credential import ballot_party, parse_credential, verify_ballot_signature
from crypto.encoding import canonical_json
from election import authority
from election.board import paper_signature_problems
from election.signed import verify
from tests.support.board_builder import build_board_export, entry_hash, read_jsonl, sha256_hex


def test_builder_export_follows_the_byte_rules(tmp_path: Path) -> None:
    fx = build_board_export(tmp_path / "export", insured=8, employers=4, paper=1, invalid_ballots=1, revoked=1,
                            revoked_final=1, seed=3)
    assert sha256_hex((fx.path / "manifest.json").read_bytes()) == fx.election_id
    opening = read_jsonl(fx.opening_path)[0]
    assert authority.check_opening(opening) == [] and verify(opening, fx.ca_public_hex)
    assert opening == fx.opening and authority.object_hash(opening) == fx.opening_hash
    assert opening["credentials"] == sha256_hex(fx.credentials_path.read_bytes())
    assert opening["election_key"] == sha256_hex((fx.path / "election_key.json").read_bytes())
    assert opening["board_key"] == read_jsonl(fx.path / "board_key.json")[0]["public_key"]
    listed = read_jsonl(fx.credentials_path)[0]
    assert authority.check_credential_list(listed) == [] and verify(listed, fx.ca_public_hex)
    assert canonical_json(listed) == fx.credentials_path.read_bytes()
    revocations = read_jsonl(fx.revocations_path)
    assert revocations == fx.revocations and len(revocations) == 2
    assert sorted(r["replacement"] is None for r in revocations) == [False, True]
    assert all(authority.check_revocation(r) == [] and verify(r, fx.ca_public_hex) for r in revocations)
    for voter in fx.voters.values():  # deterministic credentials of the §13.1 form
        assert all(parse_credential(c.text) == c.text for c in voter.credentials)
        assert voter.credentials[0].public in listed["contests"][voter.contest]

    entries = read_jsonl(fx.entries_path)
    ballots = read_jsonl(fx.ballots_path)
    prev = fx.election_id
    last: dict[str, str] = {}
    for i, (entry, line) in enumerate(zip(entries, ballots), start=1):
        assert entry["seq"] == line["seq"] == i and entry["prev_hash"] == prev
        assert entry["entry_hash"] == entry_hash(entry)
        assert (line["pseudonym"], line["contest"]) == (entry["pseudonym"], entry["contest"])
        assert entry["credential"] == fx.cast_credentials[i]
        assert entry["previous"] == last.get(entry["credential"], "")
        assert verify_ballot_signature(fx.election_id, fx.opening_hash, entry["contest"], entry["pseudonym"],
                                       entry["credential"], entry["ballot_hash"], entry["signature"],
                                       previous=entry["previous"])
        last[entry["credential"]] = entry["ballot_hash"]
        ballot = EncryptedContest.from_dict(line["ballot"], fx.election_key.public_key)
        assert ballot_hash(ballot) == entry["ballot_hash"]
        contest = next(c for c in fx.manifest["contests"] if c["id"] == line["contest"])
        party = ballot_party(line["pseudonym"], entry["credential"])
        args = (ContestStatement(fx.election_key.public_key, fx.election_id, line["contest"], party,
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
    assert {c["opening"] for c in checkpoints} == {fx.opening_hash}
    for obj in checkpoints:
        body = {k: v for k, v in obj.items() if k != "signature"}
        public.verify(bytes.fromhex(obj["signature"]), canonical_json(body))
    overrides = read_jsonl(fx.overrides_path)[0]
    assert overrides["opening"] == fx.opening_hash
    assert [s["official"] for s in overrides["signatures"]] == list(fx.paper_signers)
    assert paper_signature_problems(overrides, {o["username"]: o["public_key"] for o in opening["officials"]}) == []
    total = sum(len(v) for v in fx.counted.values()) + sum(len(v) for v in fx.excluded.values())
    assert total == fx.num_entries == len(entries)
    reasons = {r for v in fx.excluded.values() for _, _, r in v}
    assert reasons == {"revoked", "paper-vote", "superseded", "invalid"}


def test_builder_is_deterministic(tmp_path: Path) -> None:
    names = ("opening.json", "credentials.json", "revocations.jsonl", "board/entries.jsonl",
             "board/ballots.jsonl", "board/checkpoints.jsonl", "paper_overrides.json")
    a = build_board_export(tmp_path / "a", insured=4, employers=2, revoked=1, seed=9)
    b = build_board_export(tmp_path / "b", insured=4, employers=2, revoked=1, seed=9)
    assert all((a.path / n).read_bytes() == (b.path / n).read_bytes() for n in names)
    assert a.ca_public_hex == b.ca_public_hex and a.voter_credentials == b.voter_credentials
