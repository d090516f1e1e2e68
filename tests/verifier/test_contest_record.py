"""Record version 4 on a complete record (real ballots, tally, shares; tests/verifier/conftest.py):
the results' seats (checks 15, 39), the contests of every tally file (40), and the key attack of
issue 21 with real ballots — the server moves a voter's ballot into the other contest,
re-labelling its entry and ballot line, re-chaining the board, re-signing every checkpoint with
the board key and moving it in the counted set — which the verifier refuses naming the seq."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from tests.verifier.conftest import (BuiltRecord, Outcome, read_json, read_jsonl, rehash,
                                     write_json, write_jsonl)
from tests.verifier.test_tamper import rechain

Runner = Callable[..., Outcome]
ENTRIES = "board/entries.jsonl"


def codes(out: Outcome, check: str) -> list[str]:
    return [f["code"] for f in out.check(check)["failures"]]


def failures(out: Outcome, check: str, code: str) -> list[dict[str, Any]]:
    return [f for f in out.check(check)["failures"] if f["code"] == code]


def edit_results(record: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    doc = read_json(record / "results.json")
    edit(doc["contests"])
    write_json(record / "results.json", doc)
    rehash(record)


def test_the_record_is_version_4_with_seats(built_record: BuiltRecord,
                                            run_verifier: Runner) -> None:
    assert read_json(built_record.path / "FORMAT.json")["version"] == 4
    assert set(read_json(built_record.path / "credentials.json")["contests"]) == {
        "insured", "employer"}
    results = read_json(built_record.path / "results.json")["contests"]
    assert {c: r["seats"] for c, r in results.items()} == {"insured": 2, "employer": 2}
    out = run_verifier(built_record.path)
    assert out.code == 0, out.failed
    assert {n["params"]["contest"]: n["params"]["seats"]
            for n in out.check("results.seats")["notes"]} == {"insured": 2, "employer": 2}


# --- check 39 (and 15) --------------------------------------------------------------------------

def test_seats_differ_from_the_manifest(record: Path, run_verifier: Runner) -> None:
    edit_results(record, lambda c: c["insured"].update(seats=3))
    out = run_verifier(record)
    (f,) = failures(out, "results.seats", "seats.value")
    assert f["item"] == {"file": "results.json", "contest": "insured"}
    assert f["params"] == {"found": "3", "expected": 2}
    assert "3" in f["message"] and "2" in f["message"]


def test_seats_missing(record: Path, run_verifier: Runner) -> None:
    edit_results(record, lambda c: c["employer"].pop("seats"))
    out = run_verifier(record)
    assert failures(out, "results.seats", "seats.missing")[0]["item"] == {
        "file": "results.json", "contest": "employer"}
    assert "results.combination" in out.failed  # §4.4's exact keys


def test_one_elected_too_few(record: Path, run_verifier: Runner) -> None:
    edit_results(record, lambda c: c["insured"].update(elected=c["insured"]["elected"][:1]))
    out = run_verifier(record)
    (f,) = failures(out, "results.seats", "seats.elected_count")
    assert f["params"] == {"found": 1, "expected": 2}
    assert codes(out, "results.elected") == ["elected.mismatch"]


def test_elected_twice_and_elected_from_the_other_contest(record: Path,
                                                          run_verifier: Runner) -> None:
    def edit(c: dict[str, Any]) -> None:
        first = c["insured"]["elected"][0]
        c["insured"]["elected"] = [first, first]
        c["employer"]["elected"] = [c["employer"]["elected"][0], "I001"]
    edit_results(record, edit)
    out = run_verifier(record)
    assert [f["item"] for f in failures(out, "results.seats", "seats.elected_twice")] == [
        {"file": "results.json", "contest": "insured",
         "candidate": read_json(record / "results.json")["contests"]["insured"]["elected"][0]}]
    assert [f["item"] for f in failures(out, "results.seats", "seats.elected_unknown")] == [
        {"file": "results.json", "contest": "employer", "candidate": "I001"}]


# --- check 40 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["tally/counted.json", "tally/encrypted_tally.json",
                                 "tally/decryption_shares/trustee-1.json", "results.json"])
def test_a_tally_file_without_a_contest(record: Path, run_verifier: Runner, rel: str) -> None:
    doc = read_json(record / rel)
    doc["contests"].pop("employer")
    write_json(record / rel, doc)
    rehash(record)
    out = run_verifier(record)
    (f,) = failures(out, "tally.contests", "tally_contests.keys")
    assert f["item"] == {"file": rel}
    assert f["params"] == {"missing": "employer", "extra": "—"}


def test_a_tally_file_with_an_extra_contest(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "tally/counted.json")
    doc["contests"]["insured-39"] = {"counted": [], "excluded": []}
    write_json(record / "tally/counted.json", doc)
    rehash(record)
    out = run_verifier(record)
    (f,) = failures(out, "tally.contests", "tally_contests.keys")
    assert f["params"] == {"missing": "—", "extra": "insured-39"}
    assert "insured-39" in f["message"]


def test_a_ciphertext_too_many(record: Path, run_verifier: Runner) -> None:
    doc = read_json(record / "tally/encrypted_tally.json")
    cts = doc["contests"]["employer"]["ciphertexts"]
    cts.append(cts[0])
    write_json(record / "tally/encrypted_tally.json", doc)
    rehash(record)
    out = run_verifier(record)
    (f,) = failures(out, "tally.contests", "tally_contests.ciphertexts")
    assert f["item"] == {"file": "tally/encrypted_tally.json", "contest": "employer"}
    assert f["params"] == {"found": "5", "expected": 4}


# --- the key attack with real ballots ----------------------------------------------------------

def test_server_moves_a_ballot_into_the_other_contest(record: Path, built_record: BuiltRecord,
                                                      run_verifier: Runner) -> None:
    """An insured voter's counted ballot is re-labelled as the employer contest's: entry and
    ballot line, chain and checkpoints re-signed with the board key, counted set moved."""
    counted = read_json(record / "tally/counted.json")
    victim = counted["contests"]["insured"]["counted"][0]
    seq = victim["seq"]
    entries = read_jsonl(record / ENTRIES)
    credential = ""
    for e in entries:
        if e["seq"] == seq:
            e["contest"] = "employer"
            credential = e["credential"]
    write_jsonl(record / ENTRIES, entries)
    lines = read_jsonl(record / "board/ballots.jsonl")
    for line in lines:
        if line["seq"] == seq:
            line["contest"] = "employer"
    write_jsonl(record / "board/ballots.jsonl", lines)
    counted["contests"]["insured"]["counted"].remove(victim)
    counted["contests"]["employer"]["counted"] = sorted(
        counted["contests"]["employer"]["counted"] + [victim], key=lambda x: x["seq"])
    write_json(record / "tally/counted.json", counted)
    rechain(record, built_record)
    rehash(record)
    out = run_verifier(record)
    assert out.code == 1
    moved = failures(out, "board.signatures", "signatures.other_contest")
    assert [f["item"] for f in moved] == [{"file": ENTRIES, "seq": seq, "credential": credential}]
    assert moved[0]["params"] == {"contest": "employer", "other": "insured"}
    assert {"board.signatures", "ballots.proofs"} <= out.failed
    same_voter = sorted(e["seq"] for e in entries if e["pseudonym"] == victim["pseudonym"])

    def contest(s: int) -> str:
        return "employer" if s == seq else "insured"
    expected = [s for s in same_voter if contest(s) != contest(same_voter[0])]
    assert [f["item"]["seq"] for f in failures(out, "credentials.contests",
                                               "contests.pseudonym")] == expected
