"""Audit entries in the board and tally checks (docs/record.md §2.1, §4.1, §5: 6, 11, 19, 30,
31), on the small hand-built record of tests/verifier/minirecord.py — a second writing of the
spec, independent of the producer code — with two audit entries: one before a voter's first
cast ballot, one by the voter who voted on paper.  (Checks 29 and 31's openings need real
ballots: tests/verifier/test_audit_attacks.py.)"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.minirecord import Mini, canonical, key, pub, run_checks, sha
from verifier.checks import CheckResult

CHECKS = ("manifest.election_id", "board.chain", "board.checkpoints", "overrides.signature",
          "tally.counted_set", "pins.opening", "credentials.list", "board.signatures",
          "board.unique", "board.times", "overrides.officials", "tally.turnout",
          "audits.not_counted")
AUDITS = {1, 5}  # seq 1: voter 0 before casting (seq 4, 7); seq 5: voter 2, who voted on paper


@pytest.fixture
def mini(tmp_path: Path) -> Mini:
    return Mini(tmp_path / "record", audits=set(AUDITS)).write()


def ca(m: Mini) -> bytes:
    return m.ca.public_key().public_bytes_raw()


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name in CHECKS if not results[name].passed}


def found(r: CheckResult) -> list[tuple[str, Any]]:
    return [(f.code, f.item.get("seq")) for f in r.failures]


def _counted(m: Mini) -> dict[str, Any]:
    return json.loads(m.path("tally/counted.json").read_bytes())


def test_record_with_audits_passes(mini: Mini) -> None:
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == set(), {n: results[n].failures for n in failed(results)}
    entries = mini.read_entries()
    assert [e["kind"] for e in entries].count("audit") == 2
    assert entries[3]["previous"] == ""  # voter 0's first cast ballot: the audit is no link
    excluded = _counted(mini)["contests"]["insured"]["excluded"]
    assert [(x["seq"], x["reason"]) for x in excluded if x["seq"] in AUDITS] == [
        (1, "audited"), (5, "audited")]
    assert [f.params for f in results["audits.not_counted"].notes] == [{"count": 2}]
    assert [f.params for f in results["board.signatures"].notes] == [
        {"count": 6, "credentials": 5}]  # the audits' signatures are check 29's


# --- check 6: exact keys per kind -------------------------------------------------------------

@pytest.mark.parametrize("seq,edit,error", [
    (1, lambda e: e.update(previous=""), "audit entry: unexpected previous"),
    (2, lambda e: e.update(seed="ab" * 32), "ballot entry: unexpected seed"),
    (1, lambda e: e.pop("seed"), "audit entry: missing seed"),
    (2, lambda e: e.pop("kind"), "entry.kind"),
    (2, lambda e: e.update(kind="spoiled"), "entry.kind"),
    (1, lambda e: e.update(seed="AB" * 32), "entry.seed"),
    (1, lambda e: e.update(seed="ab" * 31), "entry.seed"),
    (2, lambda e: e.update(note="x"), "unexpected note"),
])
def test_entry_keys_are_exact_per_kind(mini: Mini, seq: int, edit: Any, error: str) -> None:
    entries = mini.read_entries()
    edit(entries[seq - 1])
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert "board.chain" in failed(results)
    (f,) = results["board.chain"].failures
    assert f.code == "chain.shape" and f.item["line"] == seq and error in f.params["error"]


# --- check 19: contest and pseudonym rules cover audits; the chain does not ------------

def test_audit_by_an_unknown_credential(mini: Mini) -> None:
    entries = mini.read_entries()
    rogue = key("the server's own credential")
    entries[0]["credential"] = pub(rogue)
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.signatures"}
    # and the voter's own ballots then come from a second credential of that pseudonym
    assert found(results["board.signatures"]) == [("signatures.unknown_credential", 1),
                                                  ("signatures.pseudonym_credentials", 4),
                                                  ("signatures.pseudonym_credentials", 7)]


def test_audit_of_a_credential_under_another_pseudonym(mini: Mini) -> None:
    """One pseudonym per credential, whatever the kind of entry."""
    entries = mini.read_entries()
    entries[0]["pseudonym"] = mini.voters[1].pseudonym  # voter 0's credential, voter 1's name
    mini.rechain(entries)
    results = run_checks(mini.root, ca(mini))
    assert "board.signatures" in failed(results)
    assert ("signatures.credential_pseudonyms", 4) in found(results["board.signatures"])


def test_audit_is_not_a_link_of_the_previous_chain(mini: Mini) -> None:
    """A ballot whose ``previous`` names an audit (as if the audit had been cast) breaks the
    voter's chain."""
    entries = mini.read_entries()
    entries[3]["previous"] = entries[0]["ballot_hash"]
    mini.rechain(entries)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.signatures"}
    assert found(results["board.signatures"]) == [("signatures.chain", 4)]


def test_an_audit_signature_is_not_check_19s(mini: Mini) -> None:
    entries = mini.read_entries()
    entries[0]["signature"] = "00" * 64
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == set()  # check 29 (which needs ballots) refuses it


# --- checks 11 and 30: never counted, always "audited" ------------------------------------

def test_audit_counted(mini: Mini) -> None:
    doc = _counted(mini)
    c = doc["contests"]["insured"]
    c["excluded"] = [x for x in c["excluded"] if x["seq"] != 1]
    c["counted"] = sorted(c["counted"] + [{"pseudonym": mini.voters[0].pseudonym, "seq": 1}],
                          key=lambda x: x["seq"])
    mini.write_json("tally/counted.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"tally.counted_set", "audits.not_counted"}
    assert found(results["audits.not_counted"]) == [("audits.counted", 1)]
    assert found(results["tally.counted_set"]) == [("counted.should_exclude", 1)]


@pytest.mark.parametrize("reason", ["paper-vote", "superseded", "invalid: x", "revoked"])
def test_audit_excluded_for_another_reason(mini: Mini, reason: str) -> None:
    """Seq 5 is the paper voter's audit: 'audited' all the same (it comes first of all)."""
    doc = _counted(mini)
    for x in doc["contests"]["insured"]["excluded"]:
        if x["seq"] == 5:
            x["reason"] = reason
    mini.write_json("tally/counted.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"tally.counted_set", "audits.not_counted"}
    (f,) = results["audits.not_counted"].failures
    assert (f.code, f.item["seq"], f.params) == ("audits.reason", 5, {"found": reason})
    assert found(results["tally.counted_set"]) == [("counted.wrong_reason", 5)]


def test_audit_missing_from_the_counted_set(mini: Mini) -> None:
    doc = _counted(mini)
    c = doc["contests"]["insured"]
    c["excluded"] = [x for x in c["excluded"] if x["seq"] != 1]
    mini.write_json("tally/counted.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"tally.counted_set", "audits.not_counted"}
    assert found(results["audits.not_counted"]) == [("audits.not_excluded", 1)]
    assert found(results["tally.counted_set"]) == [("counted.missing", 1)]


def test_cast_ballot_hidden_as_audited(mini: Mini) -> None:
    """A counted ballot excluded as 'audited': check 11 says it must count."""
    doc = _counted(mini)
    c = doc["contests"]["insured"]
    c["counted"] = [x for x in c["counted"] if x["seq"] != 7]
    c["excluded"] = sorted(c["excluded"] + [{"pseudonym": mini.voters[0].pseudonym, "seq": 7,
                                              "reason": "audited"}], key=lambda x: x["seq"])
    mini.write_json("tally/counted.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"tally.counted_set"}
    assert found(results["tally.counted_set"]) == [("counted.should_count", 7)]


def test_an_audit_does_not_supersede(mini: Mini) -> None:
    """An audit after a voter's last cast ballot leaves that ballot counted."""
    m = Mini(mini.root.parent / "later", audits={9},
             casts=[*mini.casts, (3, "2026-12-20T08:00:00.000000Z")]).write()
    results = run_checks(m.root, ca(m))
    assert failed(results) == set()
    counted = {x["seq"] for x in _counted(m)["contests"]["insured"]["counted"]}
    assert 8 in counted and 9 not in counted


# --- check 31: a seed only in an audit entry ------------------------------------------------

def _seed_fields(results: dict[str, CheckResult]) -> list[tuple[dict[str, Any], str]]:
    return [(f.item, f.params["field"]) for f in results["audits.seeds_secret"].failures
            if f.code == "seeds.field"]


def test_seed_in_a_checkpoint(mini: Mini) -> None:
    lines = [json.loads(x) for x in mini.path("board/checkpoints.jsonl").read_bytes().splitlines()]
    body = {k: v for k, v in lines[-1].items() if k != "signature"}
    body["seed"] = "ab" * 32
    lines[-1] = {**body, "signature": mini.board.sign(canonical(body)).hex()}
    mini.write_jsonl("board/checkpoints.jsonl", lines)
    results = run_checks(mini.root, ca(mini))
    assert "board.checkpoints" in failed(results)
    assert _seed_fields(results) == [({"file": "board/checkpoints.jsonl", "line": 2}, "seed")]


def test_seed_nested_in_the_paper_list(mini: Mini) -> None:
    doc = json.loads(mini.path("paper_overrides.json").read_bytes())
    doc["signatures"][0]["seed"] = "ab" * 32
    mini.write_json("paper_overrides.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert _seed_fields(results) == [({"file": "paper_overrides.json"}, "signatures[0].seed")]


def test_the_audit_seeds_themselves_are_allowed(mini: Mini) -> None:
    results = run_checks(mini.root, ca(mini))
    assert _seed_fields(results) == []
    assert [e["seed"] for e in mini.read_entries() if e["kind"] == "audit"] == [
        sha(b"seed 1"), sha(b"seed 5")]


@pytest.mark.parametrize("raw,field", [
    (b'{"ballot":{"ciphertexts":[],"seed":"ab"},"contest":"insured","pseudonym":"p","seq":1}',
     "ballot.seed"),
    (b'{"ballot":{},"contest":"insured","pseudonym":"p","se\\u0065d":"ab","seq":1}', "seed"),
    (b'[{"seed":"ab"}]', "[0].seed"),
])
def test_seed_in_a_ballot_line_at_any_depth(mini: Mini, raw: bytes, field: str) -> None:
    """Found by the loading scan of board/ballots.jsonl, escaped or nested."""
    mini.path("board/ballots.jsonl").write_bytes(raw + b"\n")
    results = run_checks(mini.root, ca(mini))
    assert _seed_fields(results) == [({"file": "board/ballots.jsonl", "line": 1}, field)]


def test_seed_key_escaped_in_a_ballot_entry(mini: Mini) -> None:
    entries = mini.read_entries()
    mini.rechain(entries)
    lines = mini.path("board/entries.jsonl").read_bytes().splitlines()
    lines[1] = lines[1][:-1] + b',"se\\u0065d":"ab"}'
    mini.path("board/entries.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    results = run_checks(mini.root, ca(mini))
    assert _seed_fields(results) == [({"file": "board/entries.jsonl", "line": 2, "seq": 2},
                                      "seed")]
