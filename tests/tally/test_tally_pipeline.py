"""prepare → trustees → finish on a built board: counted set, results, record (docs/record.md §4)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from crypto.encoding import canonical_json
from tally.finish import FORMAT
from tally.prepare import COUNTED, ENCRYPTED_TALLY
from tests.support.board_builder import BoardFixture

from .helpers import run_finish, run_prepare, trustee_shares, tree_bytes


def test_counted_set_follows_revotes_revocations_paper_votes_and_invalid_ballots(board: BoardFixture, tmp_path: Path) -> None:
    summary = run_prepare(board, tmp_path / "work")
    raw = (tmp_path / "work" / COUNTED).read_bytes()
    counted = json.loads(raw)
    assert canonical_json(counted) == raw
    assert sorted(counted["contests"]) == sorted(board.intended)
    for contest_id, lists in counted["contests"].items():
        assert [(x["seq"], x["pseudonym"]) for x in lists["counted"]] == board.counted[contest_id]
        got = [(x["seq"], x["pseudonym"], x["reason"].split(":")[0]) for x in lists["excluded"]]
        assert got == board.excluded[contest_id]
        assert summary.counted[contest_id] == len(board.counted[contest_id])
    reasons = {x["reason"].split(":")[0] for c in counted["contests"].values() for x in c["excluded"]}
    assert reasons == {"audited", "revoked", "superseded", "paper-vote", "invalid"}  # the fixture exercises all five
    audited = {x["seq"] for c in counted["contests"].values() for x in c["excluded"] if x["reason"] == "audited"}
    assert audited == set(board.audits) and len(audited) == 3  # audit entries: never counted
    invalid = [x for c in counted["contests"].values() for x in c["excluded"] if x["reason"].startswith("invalid")]
    assert [x["seq"] for x in invalid] == board.invalid_seqs
    assert invalid[0]["reason"].startswith("invalid: ") and len(invalid[0]["reason"]) > 10
    assert [seq for seq, _ in summary.invalid] == board.invalid_seqs
    # A superseded voter's earlier ballot is never counted; a revoked credential's ballots never
    # are, and its replacement's last ballot is (one counted ballot per pseudonym).
    assert board.excluded["insured"] and any(r == "superseded" for _, _, r in board.excluded["insured"])
    for contest_id, lists in counted["contests"].items():
        pseudonyms = [x["pseudonym"] for x in lists["counted"]]
        assert len(pseudonyms) == len(set(pseudonyms))
    replaced = [r for r in board.revocations if r["replacement"] is not None]
    assert replaced and all(r["replacement"] in board.cast_credentials.values() for r in replaced)
    for r in replaced:
        seqs = [seq for seq, c in board.cast_credentials.items() if c == r["replacement"]]
        assert any(x["seq"] == seqs[-1] for x in counted["contests"][r["contest"]]["counted"])
    tally = json.loads((tmp_path / "work" / ENCRYPTED_TALLY).read_bytes())
    assert tally["election_id"] == board.election_id
    assert {c: v["counted_ballots"] for c, v in tally["contests"].items()} == {c: len(v) for c, v in board.counted.items()}


def test_results_equal_intended_counts_and_record_is_complete(board: BoardFixture, tmp_path: Path) -> None:
    work = tmp_path / "work"
    run_prepare(board, work)
    shares = trustee_shares(board, work, tmp_path, [1, 2, 3])
    summary = run_finish(work, shares, tmp_path / "record")
    assert summary.trustees_used == [1, 2] and summary.valid == [1, 2, 3]
    record = tmp_path / "record"
    results = json.loads((record / "results.json").read_bytes())
    assert results["election_id"] == board.election_id and results["trustees_used"] == [1, 2]
    for contest in board.manifest["contests"]:
        got = results["contests"][contest["id"]]
        assert [c["votes"] for c in got["candidates"]] == board.intended[contest["id"]]
        assert [c["id"] for c in got["candidates"]] == [c["id"] for c in contest["candidates"]]
        ranked = sorted(got["candidates"], key=lambda c: (-c["votes"], c["number"]))
        assert got["seats"] == contest["max_selections"]  # format 1: seats = max_selections (§4.4)
        assert got["elected"] == [c["id"] for c in ranked[: got["seats"]]]
        assert got["counted_ballots"] == len(board.counted[contest["id"]])
    files = tree_bytes(record)
    expected = {"FORMAT.json", "manifest.json", "election_key.json", "board_key.json", "opening.json",
                "credentials.json", "revocations.jsonl", "board/entries.jsonl",
                "board/ballots.jsonl", "board/checkpoints.jsonl", "paper_overrides.json", "tally/counted.json",
                "tally/encrypted_tally.json", "results.json", "HASHES.json",
                "tally/decryption_shares/trustee-1.json", "tally/decryption_shares/trustee-2.json",
                "tally/decryption_shares/trustee-3.json"}
    assert set(files) == expected
    assert json.loads(files["FORMAT.json"]) == FORMAT == {"format": "ssbvote-record", "version": 4}
    for name in ("manifest.json", "election_key.json", "board_key.json", "paper_overrides.json", "opening.json",
                 "credentials.json", "revocations.jsonl",
                 "board/entries.jsonl", "board/ballots.jsonl", "board/checkpoints.jsonl"):
        assert files[name] == (board.path / name).read_bytes()
    hashes = json.loads(files["HASHES.json"])
    assert set(hashes["files"]) == expected - {"HASHES.json"}
    for name, digest in hashes["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert hashes["record_hash"] == hashlib.sha256(canonical_json(hashes["files"])).hexdigest()
    for name, data in files.items():
        if name.endswith(".json"):
            assert canonical_json(json.loads(data)) == data, name
    # No national IDs or other identifiers: voters appear only as 32-hex pseudonyms and public
    # credentials; no credential text (what a voter types) is in the record.
    everything = b"".join(files.values())
    assert b"national" not in everything
    assert not any(v.credential.text.encode() in everything for v in board.voters.values())


def test_pool_and_single_process_give_identical_bytes(board: BoardFixture, tmp_path: Path) -> None:
    run_prepare(board, tmp_path / "one", processes=1)
    run_prepare(board, tmp_path / "two", processes=2)
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")


def test_no_votes_contest_and_abstentions(tmp_path: Path) -> None:
    from tests.support.board_builder import build_board_export

    fx = build_board_export(tmp_path / "export", insured=3, employers=0, paper=0, revote_rate=0.0, seed=11)
    work = tmp_path / "work"
    run_prepare(fx, work)
    tally = json.loads((work / ENCRYPTED_TALLY).read_bytes())
    assert tally["contests"]["employer"] == {"ciphertexts": ["1"] * 4, "counted_ballots": 0}
    run_finish(work, trustee_shares(fx, work, tmp_path, [2, 3]), tmp_path / "record")
    results = json.loads((tmp_path / "record" / "results.json").read_bytes())
    assert [c["votes"] for c in results["contests"]["employer"]["candidates"]] == [0, 0, 0, 0]
    assert [c["votes"] for c in results["contests"]["insured"]["candidates"]] == fx.intended["insured"]


def test_empty_board(tmp_path: Path) -> None:
    from tests.support.board_builder import build_board_export

    fx = build_board_export(tmp_path / "export", insured=0, employers=0, paper=0, seed=2)
    assert fx.num_entries == 0
    work = tmp_path / "work"
    summary = run_prepare(fx, work)
    assert summary.entries == 0 and summary.counted == {"employer": 0, "insured": 0}
    counted = json.loads((work / COUNTED).read_bytes())
    assert counted == {"contests": {"employer": {"counted": [], "excluded": []},
                                    "insured": {"counted": [], "excluded": []}}}
    run_finish(work, trustee_shares(fx, work, tmp_path, [1, 2]), tmp_path / "record")
    results = json.loads((tmp_path / "record" / "results.json").read_bytes())
    assert all(c["votes"] == 0 for r in results["contests"].values() for c in r["candidates"])
