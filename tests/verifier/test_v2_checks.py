"""The version-2 checks (docs/record.md §5: 8, 10, 11, 17–23) and voter mode (§5.1) on a small
hand-built record (tests/verifier/minirecord.py): every tamper names the check that must fail
and the offending item."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.minirecord import (Mini, Voter, canonical, key, pub, run_checks, sha,
                                       sign)
from verifier import cli
from verifier.checks import (CheckResult, Context, Options, check_03_manifest_election_id,
                             check_06_board_chain)
from verifier.checks import credentials as checks_credentials
from verifier.errors import InvalidInput, RecordUnreadable
from verifier.record import load_record
from verifier.signatures import read_key_option

#: the checks a mini record can pass (it has no ballots, shares or results)
V2_CHECKS = ("manifest.election_id", "board.chain", "board.checkpoints",
             "overrides.signature", "tally.counted_set", "pins.opening", "credentials.list",
             "board.signatures", "board.unique", "board.times", "overrides.officials",
             "tally.turnout")


@pytest.fixture
def mini(tmp_path: Path) -> Mini:
    return Mini(tmp_path / "record").write()


def ca(m: Mini) -> bytes:
    return m.ca.public_key().public_bytes_raw()


def failed(results: dict[str, CheckResult]) -> set[str]:
    return {name for name in V2_CHECKS if not results[name].passed}


def codes(r: CheckResult) -> list[str]:
    return [f.code for f in r.failures]


def items(r: CheckResult, code: str) -> list[dict[str, Any]]:
    return [f.item for f in r.failures if f.code == code]


def test_mini_record_passes_the_v2_checks(mini: Mini) -> None:
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == set(), {n: results[n].failures for n in failed(results)}
    assert [r.number for r in results.values()] == list(range(1, 43))


def test_without_the_ca_key_check_17_fails_saying_what_to_pass(mini: Mini) -> None:
    results = run_checks(mini.root)
    assert failed(results) == {"pins.opening"}
    assert codes(results["pins.opening"]) == ["pins.no_ca_key"]
    from verifier.i18n import message
    text = message("pins.no_ca_key", {}, "en")
    assert "--ca-key" in text and "credential authority" in text


def test_a_wrong_ca_key_fails_check_17(mini: Mini) -> None:
    results = run_checks(mini.root, key("someone").public_key().public_bytes_raw())
    assert failed(results) == {"pins.opening"}
    assert set(codes(results["pins.opening"])) == {"pins.ca_key", "pins.signature"}


def test_opening_signed_by_another_ca_key(tmp_path: Path) -> None:
    """A server that makes up its own CA: every CA object is consistent, but the observer's CA
    key does not sign the opening."""
    honest = key("ca")
    m = Mini(tmp_path / "r", ca=key("fake ca")).write()
    results = run_checks(m.root, honest.public_key().public_bytes_raw())
    assert failed(results) == {"pins.opening"}
    assert "pins.signature" in codes(results["pins.opening"])


def test_board_key_replaced_and_everything_resigned(mini: Mini) -> None:
    """board_key.json and the checkpoints by another key, the opening unchanged: 8 and 17."""
    rogue = key("rogue board")
    mini.write_json("board_key.json", {"algorithm": "Ed25519", "public_key": pub(rogue)})
    mini.resign_checkpoints(mini.read_entries(), mini.opening_hash, rogue)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.checkpoints", "pins.opening"}
    assert codes(results["board.checkpoints"]) == ["checkpoints.board_key_pin"]
    assert codes(results["pins.opening"]) == ["pins.board_key"]


def test_board_key_replaced_with_a_new_opening_not_signed_by_the_ca(tmp_path: Path) -> None:
    m = Mini(tmp_path / "r", board=key("rogue board"), ca=key("rogue ca")).write()
    m.write_json("credentials.json", Mini(tmp_path / "x").credentials())  # the CA's list
    results = run_checks(m.root, ca(Mini(tmp_path / "y")))
    assert "pins.opening" in failed(results)
    assert {"pins.signature", "pins.ca_key", "pins.file"} <= set(codes(results["pins.opening"]))


def test_credentials_changed(mini: Mini) -> None:
    """A credential added to the list: the CA's signature and the opening's pin break."""
    doc = json.loads(mini.path("credentials.json").read_bytes())
    doc["contests"]["insured"] = sorted(doc["contests"]["insured"] + [pub(key("x"))])
    mini.write_json("credentials.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"pins.opening", "credentials.list"}
    assert items(results["pins.opening"], "pins.file") == [{"file": "credentials.json"}]
    assert codes(results["credentials.list"]) == ["credentials.signature"]


def test_credentials_changed_and_resigned_by_the_ca_but_not_pinned(mini: Mini) -> None:
    doc = json.loads(mini.path("credentials.json").read_bytes())
    doc["contests"]["insured"] = sorted(doc["contests"]["insured"] + [pub(key("x"))])
    mini.write_json("credentials.json", sign(doc, mini.ca))
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"pins.opening"}


@pytest.mark.parametrize("change,code", [
    ("unsorted", "credentials.shape"), ("twice", "credentials.shape"),
    ("not hex", "credentials.shape"), ("two contests", "credentials.two_contests"),
    ("unknown contest", "credentials.contests"), ("election", "credentials.election_id"),
])
def test_credential_list_shape(mini: Mini, change: str, code: str) -> None:
    doc = json.loads(mini.path("credentials.json").read_bytes())
    lists = doc["contests"]
    if change == "unsorted":
        lists["insured"].reverse()
    elif change == "twice":
        lists["insured"].insert(1, lists["insured"][0])
    elif change == "not hex":
        lists["insured"][0] = lists["insured"][0].upper()
    elif change == "two contests":
        lists["employer"] = sorted(lists["employer"] + [lists["insured"][0]])
    elif change == "unknown contest":
        lists["staff"] = []
    elif change == "election":
        doc["election_id"] = sha(b"another")
    doc = sign(doc, mini.ca)
    mini.write_json("credentials.json", doc)
    mini.write_json("opening.json", mini.opening())  # re-pinned by the CA
    entries = mini.read_entries()
    mini.rechain(entries)
    mini.write_json("paper_overrides.json", mini.paper_list(mini.opening_hash))
    results = run_checks(mini.root, ca(mini))
    assert code in codes(results["credentials.list"]), results["credentials.list"].failures
    assert "credentials.signature" not in codes(results["credentials.list"])
    assert "pins.opening" not in failed(results)


def test_revocation_not_signed_by_the_ca(tmp_path: Path) -> None:
    m = Mini(tmp_path / "r", revoked=[(1, key("new-1"))])
    m.write()
    lines = [json.loads(x) for x in m.path("revocations.jsonl").read_bytes().splitlines()]
    m.write_jsonl("revocations.jsonl", [sign(lines[0], key("not the ca"))])
    results = run_checks(m.root, ca(m))
    # the tally followed the forged revocation: its exclusion of seq 2 is wrong too
    assert failed(results) == {"credentials.list", "tally.counted_set"}
    assert [(f.code, f.item["seq"]) for f in results["tally.counted_set"].failures] == [
        ("counted.should_count", 2)]
    assert items(results["credentials.list"], "revocations.signature") == [
        {"file": "revocations.jsonl", "line": 1, "credential": m.voters[1].credential}]


def test_revocation_and_replacement_pass_and_exclude_as_revoked(tmp_path: Path) -> None:
    """Voter 1 loses the letter after voting at seq 2; the replacement votes at seq 9."""
    new = key("new-1")
    m = Mini(tmp_path / "r", revoked=[(1, new)])
    m.casts = m.casts + [(1, "2026-12-20T08:00:00.000000Z")]
    m.replaced_casts = {9: new}
    m.write()
    results = run_checks(m.root, ca(m))
    assert failed(results) == set(), {n: results[n].failures for n in failed(results)}
    counted = json.loads(m.path("tally/counted.json").read_bytes())["contests"]["insured"]
    assert {"pseudonym": m.voters[1].pseudonym, "seq": 2, "reason": "revoked"} in \
        counted["excluded"]
    assert {"pseudonym": m.voters[1].pseudonym, "seq": 9} in counted["counted"]


def test_ballot_of_a_revoked_credential_counted(tmp_path: Path) -> None:
    m = Mini(tmp_path / "r", revoked=[(1, None)]).write()
    doc = json.loads(m.path("tally/counted.json").read_bytes())
    c = doc["contests"]["insured"]
    c["excluded"] = [x for x in c["excluded"] if x["seq"] != 2]
    c["counted"] = sorted(c["counted"] + [{"pseudonym": m.voters[1].pseudonym, "seq": 2}],
                          key=lambda x: x["seq"])
    m.write_json("tally/counted.json", doc)
    results = run_checks(m.root, ca(m))
    assert failed(results) == {"tally.counted_set"}
    (f,) = results["tally.counted_set"].failures
    assert f.code == "counted.should_exclude" and f.params == {"expected": "revoked"}
    assert f.item["seq"] == 2


def test_revoked_comes_before_paper_vote_and_superseded(tmp_path: Path) -> None:
    m = Mini(tmp_path / "r", revoked=[(0, None)], paper=[0]).write()
    doc = json.loads(m.path("tally/counted.json").read_bytes())
    assert [x["reason"] for x in doc["contests"]["insured"]["excluded"]
            if x["pseudonym"] == m.voters[0].pseudonym] == ["revoked"] * 3
    assert failed(run_checks(m.root, ca(m))) == set()
    for x in doc["contests"]["insured"]["excluded"]:
        if x["seq"] == 4:
            x["reason"] = "superseded"
    m.write_json("tally/counted.json", doc)
    r = run_checks(m.root, ca(m))["tally.counted_set"]
    assert [(f.code, f.item["seq"], f.params) for f in r.failures] == [
        ("counted.wrong_reason", 4, {"found": "superseded", "expected": "revoked"})]


@pytest.mark.parametrize("what", ["revoked twice", "not listed", "replacement listed",
                                  "replacement reused", "other contest"])
def test_revocation_rules(tmp_path: Path, what: str) -> None:
    m = Mini(tmp_path / "r")
    v0, v4 = m.voters[0], m.voters[4]
    if what == "revoked twice":
        m.revoked = [(0, None), (0, None)]
    elif what == "not listed":
        m.voters.append(Voter("insured", "f" * 32, key("stranger")))
        m.write()
        stranger = m.voters.pop()
        m.write_json("credentials.json", m.credentials())
        m.write_json("opening.json", m.opening())
        m.rechain(m.read_entries())
        m.write_json("paper_overrides.json", m.paper_list(m.opening_hash))
        revocation = sign({"type": "ssbvote-revocation", "election_id": m.election_id,
                           "contest": "insured", "revoked": stranger.credential,
                           "replacement": None, "at": "2026-12-20T01:30:00.000000Z"}, m.ca)
        m.write_jsonl("revocations.jsonl", [revocation])
    elif what == "replacement listed":
        m.revoked = [(0, v4.key)]
    elif what == "replacement reused":
        m.revoked = [(0, key("n")), (1, key("n"))]
    elif what == "other contest":
        m.revoked = [(4, None)]
    if what != "not listed":
        m.write()
    if what == "other contest":
        lines = [json.loads(x) for x in m.path("revocations.jsonl").read_bytes().splitlines()]
        lines[0]["contest"] = "insured"
        m.write_jsonl("revocations.jsonl", [sign(lines[0], m.ca)])
    r = run_checks(m.root, ca(m))["credentials.list"]
    expected = {"revoked twice": "revocations.not_live", "not listed": "revocations.not_live",
                "replacement listed": "revocations.not_new",
                "replacement reused": "revocations.not_new",
                "other contest": "revocations.not_live"}[what]
    assert expected in codes(r), r.failures
    assert v0  # (the voters used above)


# --- check 19 -----------------------------------------------------------------------------------

def test_entry_signed_by_an_unknown_credential(mini: Mini) -> None:
    """The server casts a ballot for an abstainer with a key of its own, chained and signed."""
    entries = mini.read_entries()
    stranger = Voter("insured", "e" * 32, key("server's own"))
    mini.voters.append(stranger)  # for rechain's re-signing only: not on the CA's list
    entries.append(dict(entries[-1], pseudonym=stranger.pseudonym,
                        credential=stranger.credential, previous="",
                        ballot_hash=sha(b"stuffed"), cast_at="2026-12-20T08:00:00.000000Z"))
    mini.rechain(entries)
    results = run_checks(mini.root, ca(mini))
    assert "board.signatures" in failed(results)
    assert items(results["board.signatures"], "signatures.unknown_credential") == [
        {"file": "board/entries.jsonl", "seq": 9, "credential": stranger.credential}]
    assert "signatures.invalid" not in codes(results["board.signatures"])


def test_entry_signature_invalid(mini: Mini) -> None:
    """The server moves voter 3's ballot to voter 1's pseudonym: the signature breaks."""
    entries = mini.read_entries()
    entries[7]["ballot_hash"] = sha(b"replaced")
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.signatures"}
    assert items(results["board.signatures"], "signatures.invalid") == [
        {"file": "board/entries.jsonl", "seq": 8, "credential": mini.voters[3].credential}]


def test_credential_of_the_other_contest(mini: Mini) -> None:
    entries = mini.read_entries()
    employer = mini.voters[4]
    entries.append(dict(entries[-1], pseudonym=mini.voters[3].pseudonym,
                        credential=employer.credential, previous=entries[2]["ballot_hash"],
                        ballot_hash=sha(b"cross"), cast_at="2026-12-20T08:00:00.000000Z"))
    mini.rechain(entries)
    r = run_checks(mini.root, ca(mini))["board.signatures"]
    assert items(r, "signatures.other_contest") == [
        {"file": "board/entries.jsonl", "seq": 9, "credential": employer.credential}]


def test_ballot_replay_same_hash_twice(mini: Mini) -> None:
    """The server replays voter 1's signed ballot (seq 2) at the end."""
    entries = mini.read_entries()
    entries.append(dict(entries[1], cast_at="2026-12-20T08:00:00.000000Z"))
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert {"board.unique", "board.signatures"} <= failed(results)
    (f,) = results["board.unique"].failures
    assert f.item == {"file": "board/entries.jsonl", "seq": 9,
                      "credential": mini.voters[1].credential}
    assert f.params["first"] == 2
    assert items(results["board.signatures"], "signatures.chain")[0]["seq"] == 9


def test_per_credential_chain_broken_by_reordering(mini: Mini) -> None:
    """Voter 0's ballots at seq 4 and 7 swapped (entries re-chained, checkpoints re-signed by
    the server; the voter's own signatures cannot be redone)."""
    entries = mini.read_entries()
    entries[3], entries[6] = entries[6], entries[3]
    for e, at in ((entries[3], "2026-12-20T03:00:00.000000Z"),
                  (entries[6], "2026-12-20T06:00:00.000000Z")):
        e["cast_at"] = at
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    assert "board.signatures" in failed(results)
    assert {"board.chain", "board.checkpoints", "board.times"}.isdisjoint(failed(results))
    chain = items(results["board.signatures"], "signatures.chain")
    assert [i["seq"] for i in chain] == [4, 7]
    assert all(i["credential"] == mini.voters[0].credential for i in chain)


def test_dropped_superseded_ballot_breaks_the_chain(mini: Mini) -> None:
    entries = mini.read_entries()
    del entries[3]  # voter 0's second ballot
    mini.rechain(entries, resign=False)
    results = run_checks(mini.root, ca(mini))
    chain = items(results["board.signatures"], "signatures.chain")
    assert [i["seq"] for i in chain] == [6]  # voter 0's third ballot, now at seq 6


def test_pseudonym_with_two_credentials_and_credential_with_two_pseudonyms(mini: Mini) -> None:
    entries = mini.read_entries()
    entries.append(dict(entries[-1], pseudonym=mini.voters[1].pseudonym, previous=
                        entries[-1]["ballot_hash"], ballot_hash=sha(b"a"),
                        cast_at="2026-12-20T08:00:00.000000Z"))  # voter 3's key, 1's pseudonym
    mini.rechain(entries)
    r = run_checks(mini.root, ca(mini))["board.signatures"]
    assert set(codes(r)) == {"signatures.credential_pseudonyms",
                             "signatures.pseudonym_credentials"}
    assert {f.item["seq"] for f in r.failures} == {9}


# --- checks 20, 21, 22, 23, 8, 10, 6 ----------------------------------------------------------

@pytest.mark.parametrize("seq,at,code", [
    (1, "2026-12-20T00:59:59.999999Z", "times.window"),
    (8, "2026-12-20T13:00:00.000001Z", "times.window"),
    (5, "2026-12-20T02:59:59.000000Z", "times.decreasing"),
])
def test_cast_at(mini: Mini, seq: int, at: str, code: str) -> None:
    entries = mini.read_entries()
    entries[seq - 1]["cast_at"] = at
    mini.rechain(entries)
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.times"}
    assert [(f.code, f.item["seq"]) for f in results["board.times"].failures] == [(code, seq)]


@pytest.mark.parametrize("signers,code", [
    (("alice",), "officials.count"),
    (("alice", "alice"), "officials.twice"),
    (("alice", "mallory"), "officials.unpinned"),
    (("alice", "bob", "carol"), "officials.count"),
])
def test_paper_list_signatures(mini: Mini, signers: tuple[str, ...], code: str) -> None:
    mini.officials["mallory"] = key("mallory")  # signs, but is not pinned in the opening
    mini.write_json("paper_overrides.json", mini.paper_list(mini.opening_hash, signers))
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"overrides.officials"}
    assert code in codes(results["overrides.officials"])
    if code == "officials.unpinned":
        assert items(results["overrides.officials"], code) == [
            {"file": "paper_overrides.json", "official": "mallory"}]


def test_paper_list_changed_after_signing(mini: Mini) -> None:
    doc = json.loads(mini.path("paper_overrides.json").read_bytes())
    doc["pseudonyms"] = sorted(doc["pseudonyms"] + [mini.voters[3].pseudonym])
    mini.write_json("paper_overrides.json", doc)
    results = run_checks(mini.root, ca(mini))
    assert {"overrides.officials", "tally.counted_set"} == failed(results)
    assert [f.item.get("official") for f in results["overrides.officials"].failures] == [
        "alice", "bob"]


def test_paper_list_of_version_1_is_malformed(mini: Mini) -> None:
    doc = json.loads(mini.path("paper_overrides.json").read_bytes())
    del doc["signatures"], doc["opening"]
    mini.write_json("paper_overrides.json", dict(doc, approved_by=["a", "b"], signature="00"))
    results = run_checks(mini.root, ca(mini))
    assert codes(results["overrides.signature"]) == ["overrides.shape"]
    assert "overrides.officials" in failed(results)


def test_opening_hash_of_checkpoints_and_paper_list(mini: Mini) -> None:
    other = sha(b"another opening")
    mini.resign_checkpoints(mini.read_entries(), other)
    mini.write_json("paper_overrides.json", mini.paper_list(other))
    results = run_checks(mini.root, ca(mini))
    assert failed(results) == {"board.checkpoints", "pins.opening", "overrides.officials"}
    assert set(codes(results["board.checkpoints"])) == {"checkpoints.opening"}
    assert set(codes(results["overrides.officials"])) == {"officials.opening"}
    assert {"file": "paper_overrides.json"} in items(results["pins.opening"],
                                                     "pins.opening_hash")


def test_turnout_above_the_list_size(tmp_path: Path) -> None:
    """The CA's employer list has one credential; two employers' ballots are counted."""
    m = Mini(tmp_path / "r")
    m.write()
    doc = json.loads(m.path("credentials.json").read_bytes())
    doc["contests"]["employer"] = [m.voters[4].credential]
    m.write_json("credentials.json", sign(doc, m.ca))
    m.write_json("opening.json", m.opening())
    m.rechain(m.read_entries())
    m.write_json("paper_overrides.json", m.paper_list(m.opening_hash))
    results = run_checks(m.root, ca(m))
    assert {"tally.turnout", "board.signatures"} == failed(results)
    (f,) = results["tally.turnout"].failures
    assert f.item == {"file": "tally/counted.json", "contest": "employer"}
    assert f.params == {"counted": 2, "credentials": 1}


def test_entry_without_credential_is_malformed(mini: Mini) -> None:
    entries = mini.read_entries()
    for k in ("credential", "previous", "signature"):
        entries[0].pop(k)
    mini.rechain(entries, resign=False)
    r = run_checks(mini.root, ca(mini))["board.chain"]
    assert codes(r) == ["chain.shape"] and "credential" in r.failures[0].params["error"]


def test_entry_hash_covers_credential_previous_and_signature(mini: Mini) -> None:
    entries = mini.read_entries()
    entries[1]["signature"] = entries[0]["signature"]
    mini.write_jsonl("board/entries.jsonl", entries)
    r = run_checks(mini.root, ca(mini))["board.chain"]
    assert [(f.code, f.item["seq"]) for f in r.failures] == [("chain.entry_hash", 2)]


def test_version_1_is_unsupported(mini: Mini) -> None:
    mini.write_json("FORMAT.json", {"format": "ssbvote-record", "version": 1})
    with pytest.raises(RecordUnreadable, match="unsupported version 1"):
        load_record(mini.root)


# --- --ca-key ---------------------------------------------------------------------------------

def test_ca_key_option_forms(tmp_path: Path) -> None:
    raw = bytes(range(32))
    (tmp_path / "hex.txt").write_text(raw.hex().upper() + "\n")
    (tmp_path / "key.json").write_text(json.dumps({"algorithm": "Ed25519",
                                                   "public_key": raw.hex()}))
    (tmp_path / "bare.json").write_text(json.dumps({"public_key": raw.hex()}))
    for value in (raw.hex(), str(tmp_path / "hex.txt"), str(tmp_path / "key.json"),
                  str(tmp_path / "bare.json")):
        assert read_key_option(value) == raw
    (tmp_path / "bad.json").write_text(json.dumps({"public_key": "00"}))
    for bad in ("00", str(tmp_path / "bad.json"), str(tmp_path / "missing")):
        with pytest.raises(InvalidInput):
            read_key_option(bad)


def test_cli_with_a_bad_ca_key_is_a_usage_error(mini: Mini,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--ca-key", "nonsense", str(mini.root)])
    assert exc.value.code == 2
    assert "--ca-key" in capsys.readouterr().err


# --- voter mode (§5.1) ------------------------------------------------------------------------

def _receipt_run(m: Mini, receipt: Any, capsys: pytest.CaptureFixture[str],
                 lang: str = "en") -> tuple[int, dict[str, Any], str]:
    path = m.root.parent / "receipt.json"
    path.write_bytes(receipt if isinstance(receipt, bytes) else canonical(receipt))
    code = cli.main(["--receipt", str(path), "--json", "--lang", lang, str(m.root)])
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == code
    text_code = cli.main(["--receipt", str(path), "--lang", lang, str(m.root)])
    assert text_code == code
    return code, doc, capsys.readouterr().out


@pytest.mark.parametrize("seq,status,params", [
    (7, "counted", {}), (1, "superseded", {"later": 7}), (4, "superseded", {"later": 7}),
    (5, "paper_vote", {}), (3, "counted", {}),
])
def test_receipt_on_the_board(mini: Mini, capsys: pytest.CaptureFixture[str], seq: int,
                              status: str, params: dict[str, Any]) -> None:
    entry = mini.read_entries()[seq - 1]
    code, doc, text = _receipt_run(mini, mini.receipt(entry, mini.opening_hash), capsys)
    assert code == 0 and doc["status"] == status and doc["on_board"] is True
    assert params.items() <= doc["params"].items()
    assert f"seq {seq}" in text
    if status == "superseded":
        assert "seq 7" in text


def test_receipt_of_a_revoked_credential(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    m = Mini(tmp_path / "r", revoked=[(1, None)]).write()
    code, doc, text = _receipt_run(m, m.receipt(m.read_entries()[1], m.opening_hash), capsys,
                                   "th")
    assert code == 0 and doc["status"] == "revoked"
    assert "เพิกถอน" in text


def test_receipt_whose_ballot_was_dropped(mini: Mini,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    entries = mini.read_entries()
    receipt = mini.receipt(entries[-1], mini.opening_hash)
    mini.rechain(entries[:-1], resign=False)
    code, doc, text = _receipt_run(mini, receipt, capsys)
    assert code == 1 and doc["status"] == "missing" and doc["params"] == {"seq": 8}
    assert "proof" in text


def test_receipt_whose_ballot_was_replaced(mini: Mini,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    entries = mini.read_entries()
    receipt = mini.receipt(entries[-1], mini.opening_hash)
    entries[-1]["ballot_hash"] = sha(b"replaced")
    mini.rechain(entries)
    code, doc, text = _receipt_run(mini, receipt, capsys, "th")
    assert code == 1 and doc["status"] == "different"
    assert doc["params"]["fields"] == "ballot_hash, entry_hash"
    assert "ไม่ตรงกัน" in text


def test_receipt_of_another_election(mini: Mini, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    entry = mini.read_entries()[0]
    receipt = mini.receipt(entry, mini.opening_hash)
    forged = sign(dict(receipt, election_id=sha(b"other")), mini.board)
    code, doc, _ = _receipt_run(mini, forged, capsys)
    assert code == 2 and doc["status"] == "other_election"
    code, doc, _ = _receipt_run(mini, dict(receipt, seq=2), capsys)  # altered
    assert code == 2 and doc["status"] == "bad_signature"
    code, doc, _ = _receipt_run(mini, sign(receipt, key("another board")), capsys)
    assert code == 2 and doc["status"] == "bad_signature"
    code, doc, _ = _receipt_run(mini, {"type": "something"}, capsys)
    assert code == 2 and doc["status"] == "not_a_receipt"
    code, doc, _ = _receipt_run(mini, b"{not json", capsys)
    assert code == 2 and doc["status"] == "unreadable"


def test_receipt_under_another_opening(mini: Mini,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    entry = mini.read_entries()[0]
    code, doc, _ = _receipt_run(mini, mini.receipt(entry, sha(b"earlier opening")), capsys)
    assert code == 1 and doc["status"] == "other_opening"


def test_receipt_against_an_unreadable_record(mini: Mini,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    receipt = mini.receipt(mini.read_entries()[0], mini.opening_hash)
    mini.write_json("FORMAT.json", {"format": "ssbvote-record", "version": 1})
    path = mini.root.parent / "receipt.json"
    path.write_bytes(canonical(receipt))
    assert cli.main(["--receipt", str(path), str(mini.root)]) == 2
    assert "unsupported version" in capsys.readouterr().err


def test_a_revocation_the_ca_did_not_sign_lets_no_replacement_vote(tmp_path: Path) -> None:
    """The server forges a revocation of voter 1 with a replacement of its own, and votes
    with it: check 18 sees the forgery, check 19 refuses the replacement's ballot, and voter
    1's own ballot is not revoked (the tally here counted it, and counted.json passes)."""
    rogue = key("server's replacement")
    m = Mini(tmp_path / "r", revoked=[(1, rogue)])
    m.casts = m.casts + [(1, "2026-12-20T08:00:00.000000Z")]
    m.replaced_casts = {9: rogue}
    m.write()
    lines = [json.loads(x) for x in m.path("revocations.jsonl").read_bytes().splitlines()]
    m.write_jsonl("revocations.jsonl", [sign(lines[0], rogue)])
    m.revoked = []
    m.write_json("tally/counted.json", m.counted(m.read_entries()))  # seq 2 counted
    results = run_checks(m.root, ca(m))
    assert {"credentials.list", "board.signatures"} == failed(results)
    assert codes(results["credentials.list"]) == ["revocations.signature"]
    assert items(results["board.signatures"], "signatures.unknown_credential") == [
        {"file": "board/entries.jsonl", "seq": 9, "credential": pub(rogue)}]
    assert "signatures.pseudonym_credentials" in codes(results["board.signatures"])


def test_ballot_signatures_verified_across_the_pool(mini: Mini,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Check 19 in chunks across two worker processes names the same ballots as in one."""
    entries = mini.read_entries()
    for k in (1, 4, 6):
        entries[k]["signature"] = entries[0]["signature"]
    mini.rechain(entries, resign=False)
    monkeypatch.setattr(checks_credentials, "SIGNATURE_CHUNK", 2)
    found = []
    for processes in (1, 2):
        ctx = Context(load_record(mini.root), Options(processes=processes, ca_key=ca(mini)))
        check_03_manifest_election_id(ctx)
        check_06_board_chain(ctx)
        r = checks_credentials.check_19_board_signatures(ctx)
        found.append([(f.code, f.item["seq"]) for f in r.failures])
    assert found[0] == found[1] == [("signatures.invalid", s) for s in (2, 5, 7)]


def test_receipt_when_the_record_pins_were_replaced(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The voter's genuine receipt against a record whose opening and board key a server
    replaced: voter mode cannot authenticate the receipt there and says why (exit 2); with
    the CA key it shows the record's opening is not the CA's (exit 1)."""
    honest = Mini(tmp_path / "honest").write()
    receipt = honest.receipt(honest.read_entries()[6], honest.opening_hash)
    forged = Mini(tmp_path / "forged", board=key("rogue board"), ca=key("rogue ca")).write()
    code, doc, text = _receipt_run(forged, receipt, capsys)
    assert (code, doc["status"]) == (2, "unverifiable_opening")
    assert "--ca-key" in text
    path = forged.root.parent / "receipt.json"
    for ca_key, want in ((honest.ca, (1, "opening_not_ca")),
                         (forged.ca, (2, "unverifiable_opening"))):
        capsys.readouterr()
        got = cli.main(["--receipt", str(path), "--json", "--ca-key", pub(ca_key),
                        str(forged.root)])
        doc = json.loads(capsys.readouterr().out)
        assert (got, doc["status"]) == want
    path.write_bytes(canonical(receipt))
    assert cli.main(["--receipt", str(path), "--ca-key", pub(honest.ca), str(honest.root)]) == 0
    assert "COUNTED" in capsys.readouterr().out
