"""Attacks on the audited ballots of a real election (docs/record.md §5 checks 29–31, issue 16).

The election is ``ssbvote simulate --audits``: voters audit encryptions and check them by audit
code before casting (docs/protocol.md §14), re-vote, one votes on paper; the app exports the
board, the tally counts it, trustees decrypt, the verifier passes (tests/verifier/auditrecord.py).
Each test then plays the server (board key), the tally operator with colluding trustees, or a
voter's faulty device, does the attack for real on a copy of that record — re-chaining the
entries, re-signing every checkpoint with the server's key, re-hashing the record, re-tallying —
and shows the check that stops it, naming the offending entry.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Callable

import pytest

from crypto import encrypt_contest
from crypto.encoding import canonical_json
from tests.verifier.auditrecord import SimulatedElection, Tamper, read_jsonl, retally, sha
from tests.verifier.conftest import Outcome

pytestmark = pytest.mark.slow

Runner = Callable[..., Outcome]
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
COUNTED = "tally/counted.json"


@pytest.fixture
def tamper(audited_election: SimulatedElection, tmp_path: Path) -> Tamper:
    return Tamper(audited_election, tmp_path / "record")


def _failures(out: Outcome, check: str, code: str | None = None) -> list[dict[str, Any]]:
    return [f for f in out.check(check)["failures"] if code is None or f["code"] == code]


def _codes(out: Outcome, check: str) -> set[str]:
    return {f["code"] for f in out.check(check)["failures"]}


def _notes(out: Outcome, check: str) -> dict[str, Any]:
    return {f["code"]: f["params"] for f in out.check(check)["notes"]}


# --- the honest election ----------------------------------------------------------------------

def test_honest_election_with_audits_passes_all_31_checks(audited_election: SimulatedElection,
                                                           run_verifier: Runner) -> None:
    out = run_verifier(audited_election.record)
    assert out.code == 0, out.failed
    assert len(out.doc["checks"]) == 42  # 1–42 (32–35: issue 23; 37–40: issue 21; 41–42: issues 20, 21)
    audits = [e for e in read_jsonl(audited_election.record / ENTRIES) if e["kind"] == "audit"]
    assert len(audits) >= 3  # the simulation's auditors audit one or two encryptions each
    assert _notes(out, "audits.open")["audits.summary"] == {"count": len(audits),
                                                             "opened": len(audits)}
    assert _notes(out, "audits.not_counted")["audits.excluded"] == {"count": len(audits)}
    tested = _notes(out, "audits.seeds_secret")["seeds.tested"]
    assert tested["audits"] == len(audits) and tested["pairs"] >= 1  # an auditor's cast counts


def test_the_logged_seeds_are_the_devices(audited_election: SimulatedElection) -> None:
    """The test's window into the devices works: every audit's published seed and every
    cast ballot's (erased) seed are among the seeds the devices drew."""
    entries = read_jsonl(audited_election.record / ENTRIES)
    for e in entries:
        if e["kind"] == "audit":
            assert bytes.fromhex(e["seed"]) in audited_election.seeds
        else:
            audited_election.cast_seed(e)  # KeyError if none opens it


# --- an audited ballot is counted -----------------------------------------------------------

def test_audited_ballot_counted_by_the_tally_with_colluding_trustees(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """The tally operator moves an audited ballot (whose choices are public) from excluded to
    counted, recomputes the encrypted tally, and two colluding trustees decrypt and sign it: the
    tally, the shares and the results are consistent — only the counted-set rule says no."""
    audit = tamper.audits()[0]
    tamper.count(audit["seq"])
    tamper.write()
    retally(tamper.path, audited_election)
    out = run_verifier(tamper.path)
    assert out.code == 1
    assert out.failed == {"tally.counted_set", "audits.not_counted", "audits.seeds_secret"}
    item = {"file": COUNTED, "contest": audit["contest"], "seq": audit["seq"]}
    assert [f["item"] for f in _failures(out, "audits.not_counted")] == [item]
    assert _codes(out, "audits.not_counted") == {"audits.counted"}
    (f11,) = _failures(out, "tally.counted_set")
    assert f11["code"] == "counted.should_exclude" and f11["item"] == item
    assert f11["params"] == {"expected": "audited"}
    # and its published seed opens a counted ballot: this very one
    assert [(f["item"]["seq"], f["params"]["counted"])
            for f in _failures(out, "audits.seeds_secret")] == [(audit["seq"], audit["seq"])]


def test_audited_ballot_relabelled_as_superseded(tamper: Tamper, run_verifier: Runner) -> None:
    """Excluded, but not as ``audited``: check 30 names the reason (and 11 agrees)."""
    audit = tamper.audits()[-1]
    tamper.exclude(audit["seq"], "superseded")
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"tally.counted_set", "audits.not_counted"}
    (f,) = _failures(out, "audits.not_counted")
    assert f["code"] == "audits.reason" and f["params"] == {"found": "superseded"}
    assert f["item"] == {"file": COUNTED, "contest": audit["contest"], "seq": audit["seq"]}


# --- an audit whose seed does not open its ballot -------------------------------------------

def test_server_edits_an_audit_seed(tamper: Tamper, run_verifier: Runner) -> None:
    """The server changes an audit entry's seed (so that the published audit shows nothing, or
    something else), re-chains the board and re-signs every checkpoint with its key."""
    audit = tamper.audits()[0]
    audit["seed"] = secrets.token_hex(32)
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.code == 1 and out.failed == {"audits.open"}
    assert _codes(out, "audits.open") == {"audits.signature", "audits.not_open"}
    assert {f["item"]["seq"] for f in _failures(out, "audits.open")} == {audit["seq"]}
    (bad,) = _failures(out, "audits.open", "audits.not_open")
    assert bad["item"]["candidate"]  # names the first candidate that does not open


def test_faulty_device_posts_a_wrong_seed_and_signs_it(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """A faulty (or lying) device audits with a seed that did not make the ballot, signing the
    audit statement with the voter's credential: the signature is fine, the opening is not."""
    audit = tamper.audits()[0]
    audit["seed"] = secrets.token_hex(32)
    audit["signature"] = audited_election.voter_key(audit["credential"]).sign(
        tamper.audit_statement(audit)).hex()
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.open"}
    (f,) = _failures(out, "audits.open")
    assert f["code"] == "audits.not_open"
    assert f["item"]["seq"] == audit["seq"] and f["item"]["credential"] == audit["credential"]


# --- a cast ballot's seed published as an audit -----------------------------------------------

def _counted_ballot_of_an_auditor(tamper: Tamper) -> dict[str, Any]:
    auditors = {e["credential"] for e in tamper.audits()}
    return next(e for e in tamper.counted_entries() if e["credential"] in auditors)


def _audit_with_seed(tamper: Tamper, election: SimulatedElection, cast: dict[str, Any],
                     seed: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new encryption for ``cast``'s voter made with ``seed`` (other choices), as an audit
    entry (unsigned) and its ballot."""
    statement = election.statement(cast["contest"], cast["pseudonym"], cast["credential"])
    choices = election.opens(cast, seed)
    assert choices is not None
    other = [0] * len(choices)
    other[choices.index(0)] = 1  # a choice the voter did not make
    ballot = encrypt_contest(statement, other, seed).to_dict()
    entry = {"election_id": cast["election_id"], "kind": "audit", "pseudonym": cast["pseudonym"],
             "contest": cast["contest"], "credential": cast["credential"], "seed": seed.hex(),
             "signature": cast["signature"], "ballot_hash": sha(canonical_json(ballot))}
    return entry, ballot


def test_server_publishes_a_counted_ballots_seed_as_an_audit(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """The server learnt a cast ballot's seed (it must never leave the device) and publishes
    it as an audit of the same credential — every observer could open the counted vote.  It
    cannot sign for the voter (29); the seed opening a counted ballot is 31."""
    cast = _counted_ballot_of_an_auditor(tamper)
    seed = audited_election.cast_seed(cast)
    entry, ballot = _audit_with_seed(tamper, audited_election, cast, seed)
    seq = tamper.append(entry, ballot)
    tamper.exclude(seq, "audited")
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.open", "audits.seeds_secret"}
    assert _codes(out, "audits.open") == {"audits.signature"}  # the seed opens its own ballot
    (f,) = _failures(out, "audits.seeds_secret")
    assert f["code"] == "seeds.opens_counted"
    assert f["item"] == {"file": ENTRIES, "seq": seq, "credential": cast["credential"]}
    assert f["params"] == {"counted": cast["seq"]}


def test_device_reuses_the_seed_of_its_cast_ballot_for_an_audit(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """The same, signed by the voter's credential (a device that reuses seeds): everything
    else is in order, and check 31 alone refuses the record."""
    cast = _counted_ballot_of_an_auditor(tamper)
    entry, ballot = _audit_with_seed(tamper, audited_election, cast,
                                     audited_election.cast_seed(cast))
    entry["signature"] = audited_election.voter_key(cast["credential"]).sign(
        tamper.audit_statement(entry)).hex()
    seq = tamper.append(entry, ballot)
    tamper.exclude(seq, "audited")
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.seeds_secret"}
    assert [(f["item"]["seq"], f["params"]["counted"])
            for f in _failures(out, "audits.seeds_secret")] == [(seq, cast["seq"])]


# --- the audit's signature --------------------------------------------------------------------

def test_audit_signed_over_a_ballot_statement(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """The audit entry carries the voter's signature over the *ballot* statement of its ballot
    (the type the cast API takes), not over the audit statement: refused."""
    audit = tamper.audits()[0]
    audit["signature"] = audited_election.voter_key(audit["credential"]).sign(
        tamper.ballot_statement(audit)).hex()
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.open"}
    assert [(f["code"], f["item"]) for f in _failures(out, "audits.open")] == [
        ("audits.signature", {"file": ENTRIES, "seq": audit["seq"],
                              "credential": audit["credential"]})]


def test_audit_signed_by_another_credential(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    audit = tamper.audits()[0]
    other = next(e["credential"] for e in tamper.entries
                 if e["credential"] != audit["credential"] and e["contest"] == audit["contest"])
    audit["signature"] = audited_election.voter_key(other).sign(
        tamper.audit_statement(audit)).hex()
    tamper.write()
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.open"}
    assert [f["code"] for f in _failures(out, "audits.open")] == ["audits.signature"]


def test_server_turns_a_counted_ballot_into_an_audit(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner) -> None:
    """The server relabels a voter's counted cast ballot as an audit (to drop the vote), keeps
    the voter's signature — over the ballot statement — and a made-up seed; the tally is redone
    with colluding trustees so that every count adds up.  Check 29 refuses it."""
    cast = tamper.counted_entries()[0]  # its credential's latest cast ballot
    del cast["previous"]
    cast.update(kind="audit", seed=secrets.token_hex(32))
    tamper.exclude(cast["seq"], "audited")
    earlier = [e for e in tamper.entries
               if e["credential"] == cast["credential"] and e["kind"] == "ballot"]
    if earlier:  # the voter's earlier ballot is now its latest: the rule counts it
        tamper.count(earlier[-1]["seq"])
    tamper.write()
    retally(tamper.path, audited_election)
    out = run_verifier(tamper.path)
    assert out.failed == {"audits.open"}
    assert _codes(out, "audits.open") == {"audits.signature", "audits.not_open"}
    assert {f["item"]["seq"] for f in _failures(out, "audits.open")} == {cast["seq"]}


# --- no seed anywhere else --------------------------------------------------------------------

def test_ballot_entry_carrying_its_seed(tamper: Tamper, audited_election: SimulatedElection,
                                        run_verifier: Runner) -> None:
    """The server adds the cast ballot's seed to its entry (a receipt that proves the vote,
    published): the entry has a key its kind does not have (6) and a seed outside an audit
    (31)."""
    cast = tamper.counted_entries()[0]
    cast["seed"] = audited_election.cast_seed(cast).hex()
    tamper.write()
    out = run_verifier(tamper.path)
    assert {"board.chain", "audits.seeds_secret"} <= out.failed
    (f6,) = _failures(out, "board.chain")
    assert f6["code"] == "chain.shape" and f6["item"]["seq"] == cast["seq"]
    assert "unexpected seed" in f6["params"]["error"]
    (f31,) = _failures(out, "audits.seeds_secret")
    assert f31["code"] == "seeds.field" and f31["item"]["seq"] == cast["seq"]
    assert f31["params"] == {"field": "seed"}


@pytest.mark.parametrize("nested", [False, True])
def test_ballot_line_carrying_a_seed(tamper: Tamper, audited_election: SimulatedElection,
                                     run_verifier: Runner, nested: bool) -> None:
    """Beside the ballot (7 names the extra key) or inside it (9 names the malformed ballot,
    and its entry's hash no longer matches: 7)."""
    cast = tamper.counted_entries()[0]
    line = next(b for b in tamper.ballots if b["seq"] == cast["seq"])
    (line["ballot"] if nested else line)["seed"] = audited_election.cast_seed(cast).hex()
    tamper.write()
    out = run_verifier(tamper.path)
    assert {"board.ballots", "audits.seeds_secret"} <= out.failed
    (f31,) = _failures(out, "audits.seeds_secret")
    assert f31["item"] == {"file": BALLOTS, "line": cast["seq"]} and f31["params"] == {
        "field": "ballot.seed" if nested else "seed"}


def test_audit_entry_with_a_previous(tamper: Tamper, run_verifier: Runner) -> None:
    """An audit entry with the key of a cast ballot: malformed (6)."""
    audit = tamper.audits()[0]
    audit["previous"] = ""
    tamper.write()
    out = run_verifier(tamper.path)
    assert "board.chain" in out.failed
    (f6,) = _failures(out, "board.chain")
    assert f6["item"]["seq"] == audit["seq"] and "unexpected previous" in f6["params"]["error"]


def test_checks_29_and_31_across_worker_processes(
        tamper: Tamper, audited_election: SimulatedElection, run_verifier: Runner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool path (one audit per work unit, two workers) finds exactly what one process
    finds: an edited seed (29) and a cast ballot's seed reused by an audit (31)."""
    from verifier.checks import audits as audit_checks
    first = tamper.audits()[0]
    first["seed"] = secrets.token_hex(32)
    cast = _counted_ballot_of_an_auditor(tamper)
    entry, ballot = _audit_with_seed(tamper, audited_election, cast,
                                     audited_election.cast_seed(cast))
    entry["signature"] = audited_election.voter_key(cast["credential"]).sign(
        tamper.audit_statement(entry)).hex()
    seq = tamper.append(entry, ballot)
    tamper.exclude(seq, "audited")
    tamper.write()
    alone = run_verifier(tamper.path)
    monkeypatch.setattr(audit_checks, "OPEN_CHUNK", 1)
    monkeypatch.setattr(audit_checks, "TEST_CHUNK", 1)
    pooled = run_verifier(tamper.path, "--processes", "2")
    assert alone.failed == pooled.failed == {"audits.open", "audits.seeds_secret"}
    for check in ("audits.open", "audits.seeds_secret"):
        assert _failures(alone, check) == _failures(pooled, check)
    assert {f["item"]["seq"] for f in _failures(pooled, "audits.open")} == {first["seq"]}
    assert [f["item"]["seq"] for f in _failures(pooled, "audits.seeds_secret")] == [seq]
