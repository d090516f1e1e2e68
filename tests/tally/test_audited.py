"""Audited ballots in the tally (docs/record.md §4.1, docs/protocol.md §14): never counted, never
verified for counting, and a tally operator who counts one is caught by the trustees' rebuild."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto import ContestStatement, EncryptedContest, open_ballot
from crypto.credential import ballot_party
from crypto.encoding import canonical_json
from tally.errors import BoardRefused
from tally.prepare import COUNTED, ENCRYPTED_TALLY
from tally.trustee import TrusteeRefused, decrypt
from tests.support.board_builder import BoardFixture, read_jsonl, rewrite_board

from .helpers import run_prepare


def test_audits_are_excluded_and_their_seeds_open_them(board: BoardFixture, tmp_path: Path) -> None:
    run_prepare(board, tmp_path / "work")
    counted = json.loads((tmp_path / "work" / COUNTED).read_bytes())["contests"]
    reasons = {x["seq"]: x["reason"] for c in counted.values() for x in c["excluded"]}
    assert board.audits and all(reasons[seq] == "audited" for seq in board.audits)
    assert not {x["seq"] for c in counted.values() for x in c["counted"]} & set(board.audits)
    entries = {e["seq"]: e for e in read_jsonl(board.entries_path)}
    for line in read_jsonl(board.ballots_path):
        if line["seq"] in board.audits:
            contest, pseudonym, selections, seed = board.audits[line["seq"]]
            entry = entries[line["seq"]]
            assert entry["kind"] == "audit" and entry["seed"] == seed.hex()
            n = len(selections)
            k = next(c["max_selections"] for c in board.manifest["contests"] if c["id"] == contest)
            statement = ContestStatement(board.election_key.public_key, board.election_id, contest,
                                         ballot_party(pseudonym, entry["credential"]), n, k)
            ballot = EncryptedContest.from_dict(line["ballot"], board.election_key.public_key)
            assert open_ballot(statement, ballot, seed) == selections


def test_an_audited_ballot_in_the_counted_set_is_refused_by_the_trustee(board: BoardFixture, tmp_path: Path) -> None:
    """The operator counts an audited ballot (its choices are public: a way to add a known vote)."""
    work = tmp_path / "work"
    run_prepare(board, work)
    doc = json.loads((work / COUNTED).read_bytes())
    contest, lists = next((c, v) for c, v in doc["contests"].items()
                          if any(x["reason"] == "audited" for x in v["excluded"]))
    audited = next(x for x in lists["excluded"] if x["reason"] == "audited")
    lists["excluded"].remove(audited)
    lists["counted"] = sorted(lists["counted"] + [{"pseudonym": audited["pseudonym"], "seq": audited["seq"]}],
                              key=lambda x: x["seq"])
    (work / COUNTED).write_bytes(canonical_json(doc))
    with pytest.raises(TrusteeRefused, match=f"ballot seq {audited['seq']} of contest '{contest}' is counted, but"):
        decrypt(board.share_files[0], work / ENCRYPTED_TALLY, tmp_path / "s1.json", board.passphrases[0],
                allow_insecure_test_key=True)


def test_a_board_whose_audit_is_relabelled_a_ballot_is_refused(board: BoardFixture, tmp_path: Path) -> None:
    """The server turns an audit into a cast ballot (kind "ballot", previous ""): it holds no
    ballot signature of that credential for it, so the tally refuses the board."""
    seq = min(board.audits)
    entries = read_jsonl(board.entries_path)
    for i, e in enumerate(entries):
        if e["seq"] == seq:
            body = {k: v for k, v in e.items() if k != "seed"}
            entries[i] = dict(body, kind="ballot", previous="")
    rewrite_board(board, entries=entries, resign=False)
    with pytest.raises(BoardRefused):
        run_prepare(board, tmp_path / "work")
