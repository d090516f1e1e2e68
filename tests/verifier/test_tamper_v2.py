"""Version-2 tampers on a complete record (docs/record.md §5, checks 8, 17–23) and voter mode
(§5.1) on it.  Each tamper is done as a compromised server could — re-linking the entries and
re-signing the checkpoints with the board key, recomputing HASHES.json — but without the
voters' credential keys, the CA key or the officials' keys, and names the check that must fail
and the offending item."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.conftest import (BuiltRecord, Outcome, canonical, read_json, read_jsonl,
                                     rehash, write_json, write_jsonl)
from tests.verifier.test_tamper import rechain
from verifier import cli

Runner = Callable[..., Outcome]
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"


def _key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


def _pub(k: Ed25519PrivateKey) -> str:
    return k.public_key().public_bytes_raw().hex()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _opening_hash(record: Path) -> str:
    return _sha(canonical(read_json(record / "opening.json")))


def _statement(record: Path, e: dict[str, Any]) -> bytes:
    return canonical({"type": "ssbvote-ballot", "election_id": e["election_id"],
                      "opening": _opening_hash(record), "contest": e["contest"],
                      "pseudonym": e["pseudonym"], "credential": e["credential"],
                      "previous": e["previous"], "ballot_hash": e["ballot_hash"]})


def _utc(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _window(record: Path) -> tuple[datetime, datetime]:
    w = read_json(record / "manifest.json")["poll_window"]
    return datetime.fromisoformat(w["opens"]), datetime.fromisoformat(w["closes"])


def _by_credential(record: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for e in read_jsonl(record / ENTRIES):
        out.setdefault(e["credential"], []).append(e["seq"])
    return out


def _finish(record: Path, built: BuiltRecord, relink: bool = True) -> None:
    if relink:
        rechain(record, built)
    rehash(record)


def _items(out: Outcome, check: str, code: str) -> list[dict[str, Any]]:
    return [f["item"] for f in out.check(check)["failures"] if f["code"] == code]


def _codes(out: Outcome, check: str) -> set[str]:
    return {f["code"] for f in out.check(check)["failures"]}


# --- check 19: the voters' signatures -------------------------------------------------------

def test_entry_signed_by_an_unknown_credential(record: Path, built_record: BuiltRecord,
                                               run_verifier: Runner) -> None:
    """The server re-casts the board's last ballot under a credential of its own, signed."""
    entries = read_jsonl(record / ENTRIES)
    rogue = _key("the server's own credential")
    e = entries[-1]
    e.update(credential=_pub(rogue), previous="")
    e["signature"] = rogue.sign(_statement(record, e)).hex()
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert out.code == 1 and "board.signatures" in out.failed
    assert _items(out, "board.signatures", "signatures.unknown_credential") == [
        {"file": ENTRIES, "seq": e["seq"], "credential": _pub(rogue)}]
    assert "signatures.invalid" not in _codes(out, "board.signatures")
    assert {"board.chain", "board.checkpoints"}.isdisjoint(out.failed)


def test_entry_signature_invalid(record: Path, built_record: BuiltRecord,
                                 run_verifier: Runner) -> None:
    entries = read_jsonl(record / ENTRIES)
    e = entries[4]
    e["signature"] = ("0" if e["signature"][0] != "0" else "1") + e["signature"][1:]
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert out.failed == {"board.signatures"}
    assert _items(out, "board.signatures", "signatures.invalid") == [
        {"file": ENTRIES, "seq": e["seq"], "credential": e["credential"]}]


def test_credential_of_the_other_contest(record: Path, built_record: BuiltRecord,
                                         run_verifier: Runner) -> None:
    employer = read_json(record / "credentials.json")["contests"]["employer"][0]
    entries = read_jsonl(record / ENTRIES)
    e = next(x for x in reversed(entries) if x["contest"] == "insured")
    e["credential"] = employer
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert _items(out, "board.signatures", "signatures.other_contest") == [
        {"file": ENTRIES, "seq": e["seq"], "credential": employer}]


def test_ballot_replayed(record: Path, built_record: BuiltRecord, run_verifier: Runner) -> None:
    """The server appends a copy of a voter's signed ballot (same ballot hash twice)."""
    entries = read_jsonl(record / ENTRIES)
    ballots = read_jsonl(record / BALLOTS)
    k = 3
    new_seq = len(entries) + 1
    entries.append(dict(entries[k - 1], seq=new_seq, cast_at=entries[-1]["cast_at"]))
    ballots.append(dict(ballots[k - 1], seq=new_seq))
    write_jsonl(record / ENTRIES, entries)
    write_jsonl(record / BALLOTS, ballots)
    _finish(record, built_record)
    out = run_verifier(record)
    assert {"board.unique", "board.signatures"} <= out.failed
    (f,) = out.check("board.unique")["failures"]
    assert f["item"] == {"file": ENTRIES, "seq": new_seq,
                         "credential": entries[k - 1]["credential"]}
    assert f["params"]["first"] == k
    assert new_seq in [i["seq"] for i in _items(out, "board.signatures", "signatures.chain")]
    assert {"board.chain", "board.checkpoints", "board.ballots"}.isdisjoint(out.failed)


def test_per_credential_chain_broken_by_reordering(record: Path, built_record: BuiltRecord,
                                                   run_verifier: Runner) -> None:
    """Two ballots of one voter swapped on the board (re-chained, checkpoints re-signed): the
    voter's own signatures, chained through ``previous``, show it."""
    credential, seqs = next((c, s) for c, s in _by_credential(record).items() if len(s) >= 2)
    a, b = seqs[0], seqs[1]
    entries = read_jsonl(record / ENTRIES)
    ballots = read_jsonl(record / BALLOTS)
    for rows in (entries, ballots):
        rows[a - 1], rows[b - 1] = dict(rows[b - 1], seq=a), dict(rows[a - 1], seq=b)
    entries[a - 1]["cast_at"], entries[b - 1]["cast_at"] = (entries[b - 1]["cast_at"],
                                                            entries[a - 1]["cast_at"])
    write_jsonl(record / ENTRIES, entries)
    write_jsonl(record / BALLOTS, ballots)
    _finish(record, built_record)
    out = run_verifier(record)
    assert {"board.chain", "board.ballots", "board.checkpoints", "board.times",
            "board.unique"}.isdisjoint(out.failed)
    chain = _items(out, "board.signatures", "signatures.chain")
    assert {"file": ENTRIES, "seq": a, "credential": credential} in chain
    assert {"file": ENTRIES, "seq": b, "credential": credential} in chain


# --- check 21: times --------------------------------------------------------------------------

def test_cast_at_outside_the_poll_window(record: Path, built_record: BuiltRecord,
                                         run_verifier: Runner) -> None:
    entries = read_jsonl(record / ENTRIES)
    late = _utc(_window(record)[1] + timedelta(seconds=1))
    entries[-1]["cast_at"] = late
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert out.failed == {"board.times"}
    (f,) = out.check("board.times")["failures"]
    assert f["code"] == "times.window" and f["item"] == {"file": ENTRIES, "seq": len(entries)}
    assert f["params"]["cast_at"] == late


def test_cast_at_before_the_poll_window(record: Path, built_record: BuiltRecord,
                                        run_verifier: Runner) -> None:
    entries = read_jsonl(record / ENTRIES)
    entries[0]["cast_at"] = _utc(_window(record)[0] - timedelta(microseconds=1))
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert out.failed == {"board.times"}
    assert _items(out, "board.times", "times.window") == [{"file": ENTRIES, "seq": 1}]


def test_cast_at_decreasing(record: Path, built_record: BuiltRecord,
                            run_verifier: Runner) -> None:
    entries = read_jsonl(record / ENTRIES)
    entries[4]["cast_at"], entries[5]["cast_at"] = entries[5]["cast_at"], entries[4]["cast_at"]
    write_jsonl(record / ENTRIES, entries)
    _finish(record, built_record)
    out = run_verifier(record)
    assert out.failed == {"board.times"}
    (f,) = out.check("board.times")["failures"]
    assert f["code"] == "times.decreasing" and f["item"]["seq"] == 6
    assert f["params"]["previous"] == 5


# --- check 22: the officials' signatures of the paper list -----------------------------------

def _paper(record: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    doc = read_json(record / "paper_overrides.json")
    edit(doc)
    write_json(record / "paper_overrides.json", doc)
    rehash(record)


def test_paper_list_with_one_official_signature(record: Path, run_verifier: Runner) -> None:
    _paper(record, lambda d: d["signatures"].pop())
    out = run_verifier(record)
    assert out.failed == {"overrides.officials"}
    assert _codes(out, "overrides.officials") == {"officials.count"}


def test_paper_list_signed_twice_by_one_official(record: Path, run_verifier: Runner) -> None:
    _paper(record, lambda d: d["signatures"].__setitem__(1, d["signatures"][0]))
    out = run_verifier(record)
    assert out.failed == {"overrides.officials"}
    (f,) = out.check("overrides.officials")["failures"]
    assert f["code"] == "officials.twice"
    assert f["item"]["official"] == read_json(record / "paper_overrides.json")[
        "signatures"][0]["official"]


def test_paper_list_signed_by_an_unpinned_official(record: Path, run_verifier: Runner) -> None:
    mallory = _key("mallory")

    def edit(d: dict[str, Any]) -> None:
        body = {k: v for k, v in d.items() if k != "signatures"}
        d["signatures"][1] = {"official": "mallory",
                              "signature": mallory.sign(canonical(body)).hex()}
    _paper(record, edit)
    out = run_verifier(record)
    assert out.failed == {"overrides.officials"}
    assert _items(out, "overrides.officials", "officials.unpinned") == [
        {"file": "paper_overrides.json", "official": "mallory"}]


def test_paper_list_changed_after_the_officials_signed(record: Path,
                                                       run_verifier: Runner) -> None:
    _paper(record, lambda d: d.__setitem__("pseudonyms", d["pseudonyms"][1:]))
    out = run_verifier(record)
    assert "overrides.officials" in out.failed
    assert _codes(out, "overrides.officials") == {"officials.signature"}
    assert len(out.check("overrides.officials")["failures"]) == 2  # both officials named


# --- checks 8 and 17: the pins ----------------------------------------------------------------

def test_opening_signed_by_another_ca_key(record: Path, run_verifier: Runner) -> None:
    """The server makes its own opening (same pins, its own 'CA'): the observer's CA key
    refuses it."""
    fake = _key("fake CA")
    doc = read_json(record / "opening.json")
    doc["ca_key"] = _pub(fake)
    body = {k: v for k, v in doc.items() if k != "signature"}
    write_json(record / "opening.json", dict(body, signature=fake.sign(canonical(body)).hex()))
    rehash(record)
    out = run_verifier(record)
    assert "pins.opening" in out.failed
    assert {"pins.signature", "pins.ca_key"} <= _codes(out, "pins.opening")


def test_board_key_replaced_and_everything_resigned(record: Path, built_record: BuiltRecord,
                                                    run_verifier: Runner) -> None:
    rogue = _key("rogue board key")
    write_json(record / "board_key.json", {"algorithm": "Ed25519", "public_key": _pub(rogue)})
    cps = read_jsonl(record / "board/checkpoints.jsonl")
    out_cps = []
    for cp in cps:
        body = {k: v for k, v in cp.items() if k != "signature"}
        out_cps.append(dict(body, signature=rogue.sign(canonical(body)).hex()))
    write_jsonl(record / "board/checkpoints.jsonl", out_cps)
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"board.checkpoints", "pins.opening"}
    assert _items(out, "board.checkpoints", "checkpoints.board_key_pin") == [
        {"file": "board_key.json"}]
    assert _items(out, "pins.opening", "pins.board_key") == [{"file": "board_key.json"}]


# --- checks 18 and 23: the credential list ----------------------------------------------------

def test_credentials_changed(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "credentials.json")
    doc["contests"]["insured"] = sorted(doc["contests"]["insured"] + [_pub(_key("x"))])
    write_json(record / "credentials.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert {"pins.opening", "credentials.list"} == out.failed
    assert _items(out, "pins.opening", "pins.file") == [{"file": "credentials.json"}]
    assert _codes(out, "credentials.list") == {"credentials.signature"}


def test_revocation_not_signed_by_the_ca(record: Path, run_verifier: Runner) -> None:
    """A revocation of a voter's credential, signed by someone else: reported, and not
    followed (the voter's ballot still counts)."""
    cid = "insured"
    counted = read_json(record / "tally/counted.json")["contests"][cid]["counted"]
    victim = next(e for e in read_jsonl(record / ENTRIES) if e["seq"] == counted[0]["seq"])
    forger = _key("not the CA")
    body = {"type": "ssbvote-revocation", "election_id": victim["election_id"],
            "contest": "insured", "revoked": victim["credential"], "replacement": None,
            "at": victim["cast_at"]}
    revocation = dict(body, signature=forger.sign(canonical(body)).hex())
    lines = read_jsonl(record / "revocations.jsonl")
    write_jsonl(record / "revocations.jsonl", lines + [revocation])
    rehash(record)
    out = run_verifier(record)
    assert out.failed == {"credentials.list"}
    assert _items(out, "credentials.list", "revocations.signature") == [
        {"file": "revocations.jsonl", "line": len(lines) + 1,
         "credential": victim["credential"]}]


def test_turnout_above_the_number_of_credentials(record: Path, run_verifier: Runner) -> None:
    """The employer list shrunk to fewer credentials than counted ballots."""
    doc = read_json(record / "credentials.json")
    counted = len(read_json(record / "tally/counted.json")["contests"]["employer"]["counted"])
    assert counted >= 2
    doc["contests"]["employer"] = doc["contests"]["employer"][:counted - 1]
    write_json(record / "credentials.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert "tally.turnout" in out.failed
    (f,) = out.check("tally.turnout")["failures"]
    assert f["item"] == {"file": "tally/counted.json", "contest": "employer"}
    assert f["params"]["counted"] == counted and f["params"]["credentials"] == counted - 1


# --- voter mode (§5.1) ------------------------------------------------------------------------

def _receipt(record: Path, built: BuiltRecord, seq: int, **change: Any) -> dict[str, Any]:
    """The receipt the server signed for the ballot at ``seq`` (read from the record)."""
    e = next(x for x in read_jsonl(record / ENTRIES) if x["seq"] == seq)
    body = {"type": "ssbvote-receipt", "election_id": e["election_id"],
            "opening": _opening_hash(record), "seq": seq, "pseudonym": e["pseudonym"],
            "credential": e["credential"], "contest": e["contest"],
            "ballot_hash": e["ballot_hash"], "entry_hash": e["entry_hash"],
            "cast_at": e["cast_at"], **change}
    return built.board.sign(body)


def _check(record: Path, receipt: dict[str, Any], capsys: pytest.CaptureFixture[str],
           lang: str = "en") -> tuple[int, dict[str, Any]]:
    path = record.parent / "receipt.json"
    path.write_bytes(canonical(receipt))
    capsys.readouterr()
    code = cli.main(["--receipt", str(path), "--json", "--lang", lang, str(record)])
    return code, json.loads(capsys.readouterr().out)


def _counted(record: Path) -> dict[str, Any]:
    return read_json(record / "tally/counted.json")["contests"]


def test_receipt_counted_superseded_and_paper(record: Path, built_record: BuiltRecord,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    contests = _counted(record)
    last = {e["credential"]: e["seq"] for e in read_jsonl(record / ENTRIES)}
    seen = set()
    for cid, c in contests.items():
        for x in c["counted"][:2]:
            code, doc = _check(record, _receipt(record, built_record, x["seq"]), capsys)
            assert (code, doc["status"]) == (0, "counted")
            seen.add("counted")
        for x in c["excluded"]:
            code, doc = _check(record, _receipt(record, built_record, x["seq"]), capsys, "th")
            assert code == 0
            if x["reason"] == "superseded":
                assert doc["status"] == "superseded"
                credential = next(e["credential"] for e in read_jsonl(record / ENTRIES)
                                  if e["seq"] == x["seq"])
                assert doc["params"]["later"] == last[credential] > x["seq"]
            else:
                assert doc["status"] == {"paper-vote": "paper_vote",
                                         "revoked": "revoked"}[x["reason"]]
            seen.add(doc["status"])
    assert seen == {"counted", "superseded", "paper_vote", "revoked"}


def test_receipt_of_an_invalid_ballot(record_with_invalid_ballot: BuiltRecord,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    built = record_with_invalid_ballot
    (seq,) = built.board.invalid_seqs
    code, doc = _check(built.path, _receipt(built.path, built, seq), capsys)
    assert (code, doc["status"]) == (0, "invalid")
    assert doc["params"]["why"]


def test_receipt_of_a_dropped_ballot(record: Path, built_record: BuiltRecord,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The server drops the voter's last ballot and re-signs the board: only the receipt
    shows it (docs/record.md §5: the full verification cannot)."""
    entries = read_jsonl(record / ENTRIES)
    receipt = _receipt(record, built_record, entries[-1]["seq"])
    write_jsonl(record / ENTRIES, entries[:-1])
    write_jsonl(record / BALLOTS, read_jsonl(record / BALLOTS)[:-1])
    _finish(record, built_record)
    code, doc = _check(record, receipt, capsys)
    assert (code, doc["status"]) == (1, "missing")
    assert doc["params"] == {"seq": entries[-1]["seq"]}


def test_receipt_of_a_replaced_ballot(record: Path, built_record: BuiltRecord,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    seq = _counted(record)["insured"]["counted"][0]["seq"]
    receipt = _receipt(record, built_record, seq)
    other = _counted(record)["insured"]["counted"][1]["seq"]
    ballots = read_jsonl(record / BALLOTS)
    ballots[seq - 1]["ballot"] = ballots[other - 1]["ballot"]
    write_jsonl(record / BALLOTS, ballots)
    _finish(record, built_record)
    code, doc = _check(record, receipt, capsys)
    assert (code, doc["status"]) == (1, "different")
    assert doc["params"]["fields"] == "ballot_hash, entry_hash"


def test_receipt_not_of_this_election(record: Path, built_record: BuiltRecord,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check(record, _receipt(record, built_record, 1, election_id=_sha(b"x")),
                       capsys)
    assert (code, doc["status"]) == (2, "other_election")
    receipt = _receipt(record, built_record, 1)
    code, doc = _check(record, dict(receipt, seq=2), capsys)
    assert (code, doc["status"]) == (2, "bad_signature")


# --- revocations (§6.3) on the full record ----------------------------------------------------

def test_ballot_of_a_revoked_credential_counted(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "tally/counted.json")
    c = doc["contests"]["insured"]
    x = next(x for x in c["excluded"] if x["reason"] == "revoked")
    c["excluded"].remove(x)
    c["counted"] = sorted(c["counted"] + [{"pseudonym": x["pseudonym"], "seq": x["seq"]}],
                          key=lambda y: y["seq"])
    write_json(record / "tally/counted.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert "tally.counted_set" in out.failed
    (f,) = [f for f in out.check("tally.counted_set")["failures"]
            if f["item"].get("seq") == x["seq"]]
    assert f["code"] == "counted.should_exclude" and f["params"] == {"expected": "revoked"}


def test_revocation_with_replacement_removed(record: Path, run_verifier: Runner) -> None:
    """Without the CA's revocation, the replacement credential is nobody's: its ballot fails
    check 19, and the exclusions as ``revoked`` fail check 11."""
    lines = read_jsonl(record / "revocations.jsonl")
    (revocation,) = [r for r in lines if r["replacement"] is not None]
    write_jsonl(record / "revocations.jsonl", [r for r in lines if r is not revocation])
    rehash(record)
    out = run_verifier(record)
    assert {"board.signatures", "tally.counted_set"} <= out.failed
    unknown = _items(out, "board.signatures", "signatures.unknown_credential")
    assert unknown and {i["credential"] for i in unknown} == {revocation["replacement"]}
    assert "signatures.pseudonym_credentials" in _codes(out, "board.signatures")
