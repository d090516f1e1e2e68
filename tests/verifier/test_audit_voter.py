"""Voter modes of version 3 on a real election with audits (docs/record.md §5.1):
``--audit CODE`` opens an audited ballot and prints its choices (Thai and English), ``--tracker
T`` says where a tracker is and what became of its ballot, and a receipt the server signed for
an entry that is not a cast ballot is proof of a fault.  The expected choices and dispositions
come from the producer side (crypto.open_ballot with the published seed, tally/counted.json)."""
from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from crypto.encoding import canonical_json
from tests.verifier.auditrecord import (COUNTED, ENTRIES, SimulatedElection, Tamper, read_json,
                                        read_jsonl, write_json)
from verifier import cli

pytestmark = pytest.mark.slow
CHOICE_LINE = re.compile(r"\s*\[(X| )\]\s+(\d+)\s+(.*)")  # "  [X]  10  Candidate 10 — chosen"


def _run(capsys: pytest.CaptureFixture[str], record: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main([str(record), *args])
    return code, capsys.readouterr().out


def _entries(election: SimulatedElection) -> list[dict[str, Any]]:
    return read_jsonl(election.record / ENTRIES)


def _dispositions(record: Path) -> dict[int, str]:
    out = {}
    for lists in read_json(record / COUNTED)["contests"].values():
        out.update({x["seq"]: "counted" for x in lists["counted"]})
        out.update({x["seq"]: x["reason"] for x in lists["excluded"]})
    return out


def _code(e: dict[str, Any]) -> str:
    return f"ssbvote-audit:1:{e['seq']}:{e['ballot_hash']}"


# --- --audit CODE -----------------------------------------------------------------------------

def test_audit_code_prints_the_choices_in_english_and_thai(
        audited_election: SimulatedElection, capsys: pytest.CaptureFixture[str]) -> None:
    audits = [e for e in _entries(audited_election) if e["kind"] == "audit"]
    assert audits
    for e in audits:
        choices = audited_election.opens(e, bytes.fromhex(e["seed"]))  # the producer's opening
        assert choices is not None
        candidates = audited_election.contest(e["contest"])["candidates"]
        for lang in ("en", "th"):
            code, text = _run(capsys, audited_election.record, "--audit", _code(e),
                              "--lang", lang)
            assert code == 0, text
            assert e["ballot_hash"] in text and f"{e['ballot_hash'][:4]} {e['ballot_hash'][4:8]}" in text
            rows = [m.groups() for m in map(CHOICE_LINE.match, text.splitlines()) if m]
            assert [(int(number), mark == "X") for mark, number, _ in rows] == [
                (c["number"], bool(m)) for c, m in zip(candidates, choices)]
            for (_, _, label), c in zip(rows, candidates):
                assert label.startswith(c["name"][lang] + " — ")
        assert "เลือก" in text and "บัตรตรวจสอบ" in text  # the last run was Thai


def test_audit_code_json(audited_election: SimulatedElection,
                         capsys: pytest.CaptureFixture[str]) -> None:
    e = next(e for e in _entries(audited_election) if e["kind"] == "audit")
    code, out = _run(capsys, audited_election.record, "--audit", _code(e), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "opened" and doc["opened"] is True
    assert [c["chosen"] for c in doc["choices"]] == [
        bool(m) for m in audited_election.opens(e, bytes.fromhex(e["seed"])) or []]


def test_audit_code_with_a_wrong_hash_exits_1(audited_election: SimulatedElection,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    entries = _entries(audited_election)
    audit = next(e for e in entries if e["kind"] == "audit")
    cast = next(e for e in entries if e["kind"] == "ballot")
    cases = {
        "other_hash": f"ssbvote-audit:1:{audit['seq']}:{cast['ballot_hash']}",
        "not_audit": _code(cast),  # a cast ballot is never opened
        "missing": f"ssbvote-audit:1:{len(entries) + 1}:{audit['ballot_hash']}",
    }
    for status, text in cases.items():
        code, out = _run(capsys, audited_election.record, "--audit", text, "--json")
        doc = json.loads(out)
        assert (code, doc["status"], doc["choices"]) == (1, status, []), text
        code, out = _run(capsys, audited_election.record, "--audit", text, "--lang", "th")
        assert code == 1 and "[X]" not in out and "[ ]" not in out


@pytest.mark.parametrize("garbage", [
    "hello", "", "ssbvote-audit:1:01:" + "a" * 64, "ssbvote-audit:1:0:" + "a" * 64,
    "ssbvote-audit:2:1:" + "a" * 64, "ssbvote-audit:1:1:" + "A" * 64,
    "ssbvote-audit:1:1:" + "a" * 63, "ssbvote-tracker:1:1:" + "a" * 64, "a" * 64,
])
def test_audit_garbage_exits_2(audited_election: SimulatedElection, garbage: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, audited_election.record, "--audit", garbage, "--json")
    assert code == 2 and json.loads(out)["status"] == "not_an_audit_code"
    code, out = _run(capsys, audited_election.record, "--audit", garbage, "--lang", "th")
    assert code == 2 and "ไม่ใช่รหัสตรวจสอบบัตร" in out


def test_audit_whose_seed_was_edited_does_not_open(
        audited_election: SimulatedElection, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    t = Tamper(audited_election, tmp_path / "record")
    audit = t.audits()[0]
    audit["seed"] = secrets.token_hex(32)
    t.write()
    code, out = _run(capsys, t.path, "--audit", _code(audit), "--json")
    doc = json.loads(out)
    assert (code, doc["status"], doc["choices"]) == (1, "not_open", [])
    assert "candidate" in doc["params"]["reason"]


def test_audit_whose_ballot_was_replaced(audited_election: SimulatedElection, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The published ballot line no longer hashes to the tracker on the audit code."""
    t = Tamper(audited_election, tmp_path / "record")
    audit = t.audits()[0]
    line = next(b for b in t.ballots if b["seq"] == audit["seq"])
    other = next(b for b in t.ballots if b["seq"] != audit["seq"]
                 and b["contest"] == audit["contest"])
    line["ballot"] = other["ballot"]
    t.write()
    code, out = _run(capsys, t.path, "--audit", _code(audit), "--json")
    assert code == 1 and json.loads(out)["status"] == "ballot_hash"


# --- --tracker T ------------------------------------------------------------------------------

def _tracker_status(capsys: pytest.CaptureFixture[str], record: Path,
                    tracker: str) -> tuple[int, dict[str, Any]]:
    code, out = _run(capsys, record, "--tracker", tracker, "--json")
    return code, json.loads(out)


def test_tracker_reports_counted_superseded_audited_and_paper_vote(
        audited_election: SimulatedElection, capsys: pytest.CaptureFixture[str]) -> None:
    entries = _entries(audited_election)
    listed = _dispositions(audited_election.record)
    expected = {"counted": "counted", "superseded": "superseded", "audited": "audited",
                "paper-vote": "paper_vote"}
    seen = set()
    for e in entries:
        want = expected[listed[e["seq"]]]
        seen.add(want)
        for tracker in (f"ssbvote-tracker:1:{e['seq']}:{e['ballot_hash']}", e["ballot_hash"],
                        f"  {e['ballot_hash']}\n"):
            code, doc = _tracker_status(capsys, audited_election.record, tracker)
            assert (code, doc["status"], doc["params"]["seq"]) == (0, want, e["seq"]), tracker
        if want == "superseded":
            latest = max(x["seq"] for x in entries
                         if x["credential"] == e["credential"] and x["kind"] == "ballot")
            assert doc["params"]["later"] == latest
    assert seen == set(expected.values())  # the simulation has all four


def test_tracker_text_in_thai_and_english(audited_election: SimulatedElection,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    audit = next(e for e in _entries(audited_election) if e["kind"] == "audit")
    code, out = _run(capsys, audited_election.record, "--tracker", audit["ballot_hash"])
    assert code == 0 and "AUDITED" in out and f"seq {audit['seq']}" in out
    code, out = _run(capsys, audited_election.record, "--tracker", audit["ballot_hash"],
                     "--lang", "th")
    assert code == 0 and "บัตรตรวจสอบ" in out and f"ลำดับ {audit['seq']}" in out


def test_tracker_not_where_the_qr_says_or_not_on_the_board_exits_1(
        audited_election: SimulatedElection, capsys: pytest.CaptureFixture[str]) -> None:
    entries = _entries(audited_election)
    e = entries[2]
    code, doc = _tracker_status(capsys, audited_election.record,
                                f"ssbvote-tracker:1:{e['seq'] + 1}:{e['ballot_hash']}")
    assert (code, doc["status"], doc["params"]["found"]) == (1, "moved", e["seq"])
    code, doc = _tracker_status(capsys, audited_election.record, "ab" * 32)
    assert (code, doc["status"]) == (1, "not_on_board")
    code, doc = _tracker_status(capsys, audited_election.record,
                                f"ssbvote-tracker:1:{len(entries) + 5}:{'ab' * 32}")
    assert (code, doc["status"]) == (1, "not_on_board")


@pytest.mark.parametrize("garbage", [
    "", "hello", "ab" * 31, "AB" * 32, "ssbvote-tracker:1:01:" + "ab" * 32,
    "ssbvote-tracker:2:1:" + "ab" * 32, "ssbvote-audit:1:1:" + "ab" * 32,
    "ssbvote-tracker:1:1:" + "ab" * 32 + "00",
])
def test_tracker_garbage_exits_2(audited_election: SimulatedElection, garbage: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _tracker_status(capsys, audited_election.record, garbage)
    assert (code, doc["status"]) == (2, "not_a_tracker")


def test_tracker_of_an_audit_the_tally_counted_exits_1(
        audited_election: SimulatedElection, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    t = Tamper(audited_election, tmp_path / "record")
    audit = t.audits()[0]
    t.count(audit["seq"])
    t.write()
    code, doc = _tracker_status(capsys, t.path, audit["ballot_hash"])
    assert (code, doc["status"], doc["params"]["found"]) == (1, "audit_misfiled", "counted")


def test_tracker_of_a_cast_ballot_listed_as_audited_exits_1(
        audited_election: SimulatedElection, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    t = Tamper(audited_election, tmp_path / "record")
    cast = t.counted_entries()[0]
    t.exclude(cast["seq"], "audited")
    t.write()
    code, doc = _tracker_status(capsys, t.path, cast["ballot_hash"])
    assert (code, doc["status"]) == (1, "unlisted")


# --- --receipt: receipts are for cast ballots only ------------------------------------------

def _receipt(t: Tamper, e: dict[str, Any]) -> dict[str, Any]:
    body = {"type": "ssbvote-receipt", "election_id": e["election_id"],
            "opening": t.opening_hash, "seq": e["seq"], "pseudonym": e["pseudonym"],
            "credential": e["credential"], "contest": e["contest"],
            "ballot_hash": e["ballot_hash"], "entry_hash": e["entry_hash"],
            "cast_at": e["cast_at"]}
    return {**body, "signature": t.election.server_key.sign(canonical_json(body)).hex()}


def test_receipt_of_a_counted_ballot(audited_election: SimulatedElection, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    t = Tamper(audited_election, tmp_path / "record")
    path = tmp_path / "receipt.json"
    write_json(path, _receipt(t, t.counted_entries()[0]))
    code, out = _run(capsys, t.path, "--receipt", str(path), "--json")
    assert code == 0 and json.loads(out)["status"] == "counted"


def test_receipt_signed_for_an_audit_entry_exits_1(audited_election: SimulatedElection,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The server signed a cast receipt, then published that ballot as an audit (never
    counted): the voter's receipt shows it."""
    t = Tamper(audited_election, tmp_path / "record")
    path = tmp_path / "receipt.json"
    write_json(path, _receipt(t, t.audits()[0]))
    code, out = _run(capsys, t.path, "--receipt", str(path), "--json")
    doc = json.loads(out)
    assert (code, doc["status"], doc["params"]["kind"]) == (1, "not_cast", "audit")
