"""Record version 4 (issue 21, docs/record.md §5, §6.2–§6.3; docs/manifest.md §4): the
credentials per contest (checks 18, 19, 23, 35, 38) on a hand-built record with a format-2
manifest (the insured routed by section to insured-33 / -39 / -40, tests/verifier/minirecord.py),
and the key attack — a voter's ballot moved into a contest its credential is not listed under —
done for real: the server re-labels the entry (and its ballot line), re-chains the board and
re-signs every checkpoint with the board key; it cannot re-sign the voter's statement.  And a
voter's device that signs a ballot for another contest itself (every signature valid): only the
per-contest credential list tells.  Snapshot mode runs 37 and 38 too."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.minirecord import (Mini, Voter, key, pub, run_checks, sections_manifest, sha,
                                       sign)
from verifier import cli
from verifier.checks import CheckResult, Options, verify_snapshot
from verifier.errors import RecordUnreadable
from verifier.i18n import message
from verifier.record import load_record

#: the checks a mini record can pass (it has no ballots, shares or results)
MINI_CHECKS = ("manifest.election_id", "board.chain", "board.checkpoints",
               "overrides.signature", "tally.counted_set", "pins.opening", "credentials.list",
               "board.signatures", "board.unique", "board.times", "overrides.officials",
               "tally.turnout", "board.turnout", "manifest.rules", "credentials.contests")
ENTRIES = "board/entries.jsonl"


@pytest.fixture
def mini(tmp_path: Path) -> Mini:
    return Mini(tmp_path / "record", manifest_doc=sections_manifest()).write()


def ca(m: Mini) -> bytes:
    return m.ca.public_key().public_bytes_raw()


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name in MINI_CHECKS if not results[name].passed}


def items(r: CheckResult, code: str) -> list[dict[str, Any]]:
    return [f.item for f in r.failures if f.code == code]


def by_code(r: CheckResult, code: str) -> list[Any]:
    return [f for f in r.failures if f.code == code]


def credentials_doc(m: Mini) -> dict[str, Any]:
    return dict(json.loads(m.path("credentials.json").read_bytes()))


def rewrite_credentials(m: Mini, doc: dict[str, Any]) -> None:
    """The CA signs another list; the opening re-pins it and everything under the opening is
    re-signed (as an honest pipeline would after the change)."""
    m.write_json("credentials.json", sign(doc, m.ca))
    m.write_json("opening.json", m.opening())
    entries = m.read_entries()
    m.rechain(entries)
    m.write_json("paper_overrides.json", m.paper_list(m.opening_hash))


def test_the_sections_record_passes(mini: Mini) -> None:
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == set(), {n: results[n].failures for n in failed(results)}
    assert [r.number for r in results.values()] == list(range(1, 43))
    lists = credentials_doc(mini)["contests"]
    assert sorted(lists) == ["employer", "insured-33", "insured-39", "insured-40"]
    notes = {n.params["contest"]: n.params["count"] for n in results["credentials.list"].notes
             if n.code == "credentials.count"}
    assert notes == {"employer": 2, "insured-33": 2, "insured-39": 1, "insured-40": 1}


# --- the key attack ---------------------------------------------------------------------------

def test_server_moves_a_ballot_into_another_contest(mini: Mini) -> None:
    """Voter 0 (section 33) cast seqs 1, 4 and 7.  The server re-labels seq 4 as a ballot of
    insured-39 and re-signs everything it can sign with the board key."""
    entries = mini.read_entries()
    assert [e["seq"] for e in entries if e["pseudonym"] == mini.voters[0].pseudonym] == [1, 4, 7]
    entries[3]["contest"] = "insured-39"
    mini.rechain(entries, resign=False)  # the voter's statement stays as signed
    results = run_checks(mini.root, ca(mini))
    assert {"board.signatures", "credentials.contests"} <= failed(results)
    r19 = results["board.signatures"]
    credential = mini.voters[0].credential
    (moved,) = by_code(r19, "signatures.other_contest")
    assert moved.item == {"file": ENTRIES, "seq": 4, "credential": credential}
    assert moved.params == {"contest": "insured-39", "other": "insured-33"}
    assert items(r19, "signatures.invalid") == [{"file": ENTRIES, "seq": 4,
                                                 "credential": credential}]
    text = message(moved.code, moved.params, "en")
    assert "insured-39" in text and "insured-33" in text
    assert "insured-39" in message(moved.code, moved.params, "th")
    (two,) = by_code(results["credentials.contests"], "contests.pseudonym")
    assert two.item == {"file": ENTRIES, "seq": 4, "contest": "insured-39"}
    assert two.params["other"] == "insured-33" and two.params["first"] == 1


def test_server_moves_a_voters_only_ballot(mini: Mini) -> None:
    """Voter 1 (section 39) cast only seq 2; moved to insured-40, the pseudonym is in one
    contest, so check 19 alone names it."""
    entries = mini.read_entries()
    entries[1]["contest"] = "insured-40"
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert items(results["board.signatures"], "signatures.other_contest") == [
        {"file": ENTRIES, "seq": 2, "credential": mini.voters[1].credential}]
    assert results["credentials.contests"].passed


def test_a_voters_device_signs_a_ballot_of_another_contest(mini: Mini) -> None:
    """Every signature valid: the credential of a section-33 voter signs a ballot of
    insured-40 (the server should have refused it: wrong_contest) — only the per-contest list
    shows that this voter is not routed there."""
    entries = mini.read_entries()
    entries[6]["contest"] = "insured-40"
    mini.rechain(entries, resign=True)  # the voter's own key signs the moved statement
    results = run_checks(mini.root, ca(mini))
    r19 = results["board.signatures"]
    assert [f.code for f in r19.failures] == ["signatures.other_contest"]  # signature valid
    assert items(r19, "signatures.other_contest") == [
        {"file": ENTRIES, "seq": 7, "credential": mini.voters[0].credential}]
    assert items(results["credentials.contests"], "contests.pseudonym") == [
        {"file": ENTRIES, "seq": 7, "contest": "insured-40"}]


def test_a_new_voter_in_a_contest_the_ca_issued_nothing_for(tmp_path: Path) -> None:
    """No section-40 roll was issued: a credential made by the server cannot vote there."""
    m = Mini(tmp_path / "record", manifest_doc=sections_manifest())
    m.voters = [v for v in m.voters if v.contest != "insured-40"]
    m.casts = [(0, "2026-12-20T01:00:01.000000Z")]
    m.paper = [0]
    m.write()
    assert "insured-40" not in credentials_doc(m)["contests"]
    entries = m.read_entries()
    stranger = Voter("insured", "e" * 32, key("server's own"), "insured-40")
    m.voters.append(stranger)
    entries.append(dict(entries[0], pseudonym=stranger.pseudonym, contest="insured-40",
                        credential=stranger.credential, previous="", ballot_hash=sha(b"x"),
                        cast_at="2026-12-20T08:00:00.000000Z"))
    m.rechain(entries)
    results = run_checks(m.root, ca(m))
    assert items(results["board.signatures"], "signatures.unknown_credential") == [
        {"file": ENTRIES, "seq": 2, "credential": stranger.credential}]
    assert results["board.turnout"].failures[0].item == {"contest": "insured-40"}


# --- check 18 and 38: the per-contest list and revocations ---------------------------------------

@pytest.mark.parametrize("change", ["unknown contest", "two contests", "by electorate"])
def test_credential_list_per_contest(mini: Mini, change: str) -> None:
    doc = {k: v for k, v in credentials_doc(mini).items() if k != "signature"}
    lists = doc["contests"]
    if change == "unknown contest":
        lists["insured-41"] = [pub(key("x"))]
    elif change == "two contests":
        lists["insured-40"] = sorted(lists["insured-40"] + [mini.voters[0].credential])
    else:  # version 3's shape
        doc["electorates"] = doc.pop("contests")
    rewrite_credentials(mini, doc)
    results = run_checks(mini.root, ca(mini))
    r18, r38 = results["credentials.list"], results["credentials.contests"]
    if change == "unknown contest":
        (f,) = by_code(r18, "credentials.contests")
        assert "insured-41" in f.params["found"]
        assert items(r38, "contests.credential_list") == [
            {"file": "credentials.json", "contest": "insured-41"}]
    elif change == "two contests":
        (f,) = by_code(r18, "credentials.two_contests")
        assert f.item["credential"] == mini.voters[0].credential
        assert f.params == {"contests": "insured-33, insured-40"}
        assert r38.passed
    else:
        assert [f.code for f in r18.failures] == ["credentials.shape"]
        assert "dependency" in [f.code for f in r38.failures]
        assert "dependency" in [f.code for f in results["board.signatures"].failures]


@pytest.mark.parametrize("what", ["other contest", "unknown contest", "replacement elsewhere"])
def test_revocations_per_contest(tmp_path: Path, what: str) -> None:
    m = Mini(tmp_path / "record", manifest_doc=sections_manifest())
    new = key("replacement")
    m.revoked = [(0, new)]
    m.write()
    lines = [json.loads(x) for x in m.path("revocations.jsonl").read_bytes().splitlines()]
    assert lines[0]["contest"] == "insured-33" and "electorate" not in lines[0]
    if what == "other contest":  # the revoked credential is listed under insured-33
        lines[0]["contest"] = "insured-39"
    elif what == "unknown contest":
        lines[0]["contest"] = "insured-41"
    m.write_jsonl("revocations.jsonl", [sign(r, m.ca) for r in lines])
    if what == "replacement elsewhere":
        # the replacement casts a ballot of insured-39: it replaces a credential of insured-33
        entries = m.read_entries()
        m.replaced_casts = {9: new}
        entries.append(dict(entries[0], contest="insured-39", credential=pub(new), previous="",
                            ballot_hash=sha(b"r"), cast_at="2026-12-20T08:00:00.000000Z"))
        m.rechain(entries)
    results = run_checks(m.root, ca(m))
    r18, r19 = results["credentials.list"], results["board.signatures"]
    r38 = results["credentials.contests"]
    if what == "other contest":
        assert [f.code for f in r18.failures] == ["revocations.not_live"]
        assert r18.failures[0].params == {"contest": "insured-39"}
        assert r38.passed
    elif what == "unknown contest":
        assert {f.code for f in r18.failures} == {"revocations.contest", "revocations.not_live"}
        assert items(r38, "contests.revocation") == [{"file": "revocations.jsonl", "line": 1}]
    else:
        assert r18.passed
        assert items(r19, "signatures.other_contest") == [
            {"file": ENTRIES, "seq": 9, "credential": pub(new)}]


def test_entry_of_a_contest_the_manifest_does_not_have(mini: Mini) -> None:
    entries = mini.read_entries()
    entries[1]["contest"] = "insured-41"
    mini.rechain(entries)
    results = run_checks(mini.root, ca(mini))
    assert items(results["credentials.contests"], "contests.entry") == [
        {"file": ENTRIES, "seq": 2, "contest": "insured-41"}]


# --- checks 23 and 35: turnout per contest -------------------------------------------------------

def test_turnout_is_per_contest_not_per_electorate(mini: Mini) -> None:
    """insured-39 has one credential; the CA's list is cut to none for it while the insured
    electorate still has three — a version-3 verifier would count the electorate."""
    doc = {k: v for k, v in credentials_doc(mini).items() if k != "signature"}
    doc["contests"]["insured-33"] = sorted(doc["contests"]["insured-33"]
                                           + doc["contests"].pop("insured-39"))
    rewrite_credentials(mini, doc)
    results = run_checks(mini.root, ca(mini))
    r23 = results["tally.turnout"]
    (f,) = by_code(r23, "turnout.exceeds")
    assert f.item == {"file": "tally/counted.json", "contest": "insured-39"}
    assert f.params == {"counted": 1, "credentials": 0}
    (g,) = results["board.turnout"].failures
    assert g.item == {"contest": "insured-39"} and g.params == {"voters": 1, "credentials": 0}
    assert items(results["board.signatures"], "signatures.other_contest") == [
        {"file": ENTRIES, "seq": 2, "credential": mini.voters[1].credential}]


# --- version, snapshots ------------------------------------------------------------------------

@pytest.mark.parametrize("version", [1, 2, 3])
def test_older_record_versions_are_refused_naming_the_version(mini: Mini, version: int,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    mini.write_json("FORMAT.json", {"format": "ssbvote-record", "version": version})
    with pytest.raises(RecordUnreadable, match=f"unsupported version {version} "):
        load_record(mini.root)
    capsys.readouterr()
    assert cli.main(["--json", str(mini.root)]) == 2
    doc = json.loads(capsys.readouterr().out)  # the JSON report keeps its format
    assert doc["exit_code"] == 2 and doc["checks"] == []
    assert f"unsupported version {version} " in doc["error"] and "version 4" in doc["error"]
    assert cli.main([str(mini.root)]) == 2
    assert f"unsupported version {version}" in capsys.readouterr().err


def snapshot_of(m: Mini, dest: Path) -> Path:
    """The export of the open board (record.md §3.1): no FORMAT.json, tally or paper list."""
    shutil.copytree(m.root, dest)
    for rel in ("FORMAT.json", "paper_overrides.json"):
        (dest / rel).unlink()
    shutil.rmtree(dest / "tally")
    return dest


def test_snapshot_runs_checks_37_and_38(mini: Mini, tmp_path: Path) -> None:
    out = verify_snapshot(snapshot_of(mini, tmp_path / "snap"),
                          Options(allow_test_key=True, ca_key=ca(mini)))
    names = {r.name: r for r in out.results}
    assert {"manifest.rules", "credentials.contests"} <= set(names)
    assert names["manifest.rules"].passed and names["credentials.contests"].passed
    assert names["board.signatures"].passed and names["credentials.list"].passed


def test_snapshot_catches_a_moved_ballot(mini: Mini, tmp_path: Path) -> None:
    entries = mini.read_entries()
    entries[3]["contest"] = "insured-40"
    mini.rechain(entries, resign=False)
    out = verify_snapshot(snapshot_of(mini, tmp_path / "snap"),
                          Options(allow_test_key=True, ca_key=ca(mini)))
    names = {r.name: r for r in out.results}
    assert items(names["board.signatures"], "signatures.other_contest") == [
        {"file": ENTRIES, "seq": 4, "credential": mini.voters[0].credential}]
    assert items(names["credentials.contests"], "contests.pseudonym") == [
        {"file": ENTRIES, "seq": 4, "contest": "insured-40"}]


def test_snapshot_with_a_manifest_that_routes_nobody_to_section_40(tmp_path: Path) -> None:
    doc = sections_manifest()
    doc["contests"][2]["eligibility"] = {"section": ["39"]}  # insured-40 takes section 39 too
    m = Mini(tmp_path / "record", manifest_doc=doc).write()
    out = verify_snapshot(snapshot_of(m, tmp_path / "snap"),
                          Options(allow_test_key=True, ca_key=ca(m)))
    r37 = next(r for r in out.results if r.name == "manifest.rules")
    assert sorted((f.code, f.params["combination"]) for f in r37.failures) == [
        ("rules.no_contest", "insured section=40"),
        ("rules.several_contests", "insured section=39")]
