"""Checks 41 ``poll.extensions`` and 42 ``results.lots`` (docs/record.md §2.7, §4.6) and check
21 with the close in force, on the small hand-built record of tests/verifier/minirecord.py.

Each attack of issues 20 and 21 is performed on the written record and must fail the named
check: the server (a database insider, holding the board key but no official's key) adds an
extension signed with the board key or by one official, signs with the same official twice,
back-dates or makes one after the close, stuffs ballots after the real close; a lot choosing a
candidate who was not tied, the wrong tied set or seat count, a lot for an untied contest."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.verifier.minirecord import ELECTION_ID, Mini, canonical, run_checks

CLOSES = "2026-12-20T20:00:00+07:00"  # the mini manifest's close: 13:00 UTC
LATE_CAST = "2026-12-20T14:00:00.000000Z"  # after the manifest's close


def ca(m: Mini) -> bytes:
    return m.ca.public_key().public_bytes_raw()


def signed(m: Mini, body: dict[str, Any], signers: tuple[str, ...] = ("alice", "bob"),
           keys: dict[str, Ed25519PrivateKey] | None = None) -> dict[str, Any]:
    keys = keys or m.officials
    return {**body, "signatures": [{"official": u, "signature": keys[u].sign(canonical(body)).hex()}
                                   for u in signers]}


def extension(m: Mini, closes: str = "2026-12-20T22:00:00+07:00", previous: str = CLOSES,
              at: str = "2026-12-20T12:00:00.000000Z", **kw: Any) -> dict[str, Any]:
    body = {"type": "ssbvote-poll-extension", "election_id": ELECTION_ID,
            "opening": m.opening_hash, "closes": closes, "previous_closes": previous,
            "reason": "network outage in Region 3", "at": at}
    return signed(m, body, **kw)


def with_late_cast(tmp_path: Path) -> Mini:
    m = Mini(tmp_path / "record")
    m.__post_init__()
    m.casts = [*m.casts, (1, LATE_CAST)]
    return m.write()


def codes(results: dict[str, Any], name: str) -> list[str]:
    return [f.code for f in results[name].failures]


def test_no_extension_passes_with_a_note(tmp_path: Path) -> None:
    m = Mini(tmp_path / "record").write()
    r = run_checks(m.root, ca(m))
    assert r["poll.extensions"].passed and [n.code for n in r["poll.extensions"].notes] == ["extensions.none"]
    assert r["board.times"].passed


def test_ballots_after_the_close_fail_without_an_extension(tmp_path: Path) -> None:
    m = with_late_cast(tmp_path)
    r = run_checks(m.root, ca(m))
    assert codes(r, "board.times") == ["times.window"]


def test_a_valid_extension_moves_the_close_of_check_21(tmp_path: Path) -> None:
    m = with_late_cast(tmp_path)
    m.write_jsonl("poll_extensions.jsonl", [extension(m)])
    r = run_checks(m.root, ca(m))
    assert r["poll.extensions"].passed, r["poll.extensions"].failures
    assert r["board.times"].passed, r["board.times"].failures
    assert r["board.times"].notes[-1].params["closes"] == "2026-12-20T15:00:00.000000Z"


def test_three_chained_extensions_pass_a_fourth_fails(tmp_path: Path) -> None:
    m = with_late_cast(tmp_path)
    closes = ["2026-12-20T21:00:00+07:00", "2026-12-20T22:00:00+07:00", "2026-12-20T23:00:00+07:00",
              "2026-12-21T00:00:00+07:00"]
    exts, previous = [], CLOSES
    for i, c in enumerate(closes):
        exts.append(extension(m, closes=c, previous=previous, at=f"2026-12-20T12:0{i}:00.000000Z"))
        previous = c
    m.write_jsonl("poll_extensions.jsonl", exts[:3])
    assert run_checks(m.root, ca(m))["poll.extensions"].passed
    m.write_jsonl("poll_extensions.jsonl", exts)
    r = run_checks(m.root, ca(m))
    assert codes(r, "poll.extensions") == ["extensions.too_many"]
    assert r["board.times"].passed  # the first three stand: the close in force is 16:00 UTC


@pytest.mark.parametrize("attack, expected", [
    ("board_key", ["officials.unpinned", "officials.signature"]),
    ("one_official", ["officials.count"]),
    ("same_official_twice", ["officials.twice"]),
    ("server_resigned", ["officials.signature", "officials.signature"]),
    ("after_close", ["extensions.after_close"]),
    ("backdated_edit", ["officials.signature", "officials.signature"]),
    ("not_chained", ["extensions.chain"]),
    ("too_long", ["extensions.too_long"]),
    ("earlier", ["extensions.not_later"]),
    ("no_reason", ["extensions.reason"]),
    ("other_opening", ["extensions.opening"]),
])
def test_forged_extensions_fail_41_and_the_stuffed_ballot_fails_21(
        tmp_path: Path, attack: str, expected: list[str]) -> None:
    """The insider wants the ballot cast at 14:00 UTC (after the real 13:00 close) to count."""
    m = with_late_cast(tmp_path)
    if attack == "board_key":  # signed with the server's own key, named as an official
        ext = extension(m, signers=("alice", "bob"), keys={"alice": m.board, "bob": m.board})
        ext["signatures"][0]["official"] = "server"
    elif attack == "one_official":
        ext = extension(m, signers=("alice",))
    elif attack == "same_official_twice":
        ext = extension(m, signers=("alice", "alice"))
    elif attack == "server_resigned":  # the officials' names, signatures by the board key
        ext = extension(m, keys={"alice": m.board, "bob": m.board})
    elif attack == "after_close":  # two officials, but after the close (13:00 UTC)
        ext = extension(m, at="2026-12-20T13:30:00.000000Z")
    elif attack == "backdated_edit":  # made after the close, its at edited afterwards
        ext = extension(m, at="2026-12-20T13:30:00.000000Z")
        ext["at"] = "2026-12-20T12:00:00.000000Z"
    elif attack == "not_chained":
        ext = extension(m, previous="2026-12-20T19:00:00+07:00")
    elif attack == "too_long":
        ext = extension(m, closes="2026-12-21T21:00:00+07:00")
    elif attack == "earlier":
        ext = extension(m, closes="2026-12-20T19:00:00+07:00")
    elif attack == "no_reason":
        body = {k: v for k, v in extension(m).items() if k != "signatures"}
        ext = signed(m, {**body, "reason": " "})
    else:
        body = {k: v for k, v in extension(m).items() if k != "signatures"}
        ext = signed(m, {**body, "opening": "0" * 64})
    m.write_jsonl("poll_extensions.jsonl", [ext])
    r = run_checks(m.root, ca(m))
    assert sorted(codes(r, "poll.extensions")) == sorted(expected)
    assert r["poll.extensions"].failures[0].item["line"] == 1
    assert codes(r, "board.times") == ["times.window"]  # the forged extension extends nothing


def test_an_extension_missing_its_keys_is_malformed(tmp_path: Path) -> None:
    m = with_late_cast(tmp_path)
    ext = extension(m)
    del ext["previous_closes"]
    m.write_jsonl("poll_extensions.jsonl", [ext])
    r = run_checks(m.root, ca(m))
    assert codes(r, "poll.extensions") == ["extensions.shape"]
    assert codes(r, "board.times") == ["times.window"]


# --- check 42: lots ----------------------------------------------------------------------------

def results(votes: list[int], max_selections: int = 1, tie: bool = True) -> dict[str, Any]:
    candidates = [{"id": f"I00{i + 1}", "number": i + 1, "name": {"th": "x", "en": "x"}, "team": None,
                   "votes": v} for i, v in enumerate(votes)]
    ranked = sorted(candidates, key=lambda c: (-c["votes"], c["number"]))
    contest: dict[str, Any] = {"counted_ballots": sum(votes), "max_selections": max_selections,
                               "candidates": candidates,
                               "elected": [c["id"] for c in ranked[:max_selections]]}
    if tie:
        contest["tie_at_last_seat"] = True
    return {"election_id": ELECTION_ID, "trustees_used": [1],
            "contests": {"insured": contest,
                         "employer": {"counted_ballots": 0, "max_selections": 1, "candidates": [],
                                      "elected": []}}}


def lot(m: Mini, tied: list[str], seats: int, chosen: list[str], contest: str = "insured",
        **kw: Any) -> dict[str, Any]:
    body = {"type": "ssbvote-lot", "election_id": ELECTION_ID, "opening": m.opening_hash,
            "contest": contest, "tied": tied, "seats": seats, "chosen": chosen,
            "at": "2026-12-21T09:00:00.000000Z"}
    return signed(m, body, **kw)


def test_a_tie_without_a_lot_passes_as_not_yet_decided(tmp_path: Path) -> None:
    m = Mini(tmp_path / "record").write()
    m.write_json("results.json", results([3, 3, 1]))
    r = run_checks(m.root, ca(m))["results.lots"]
    assert r.passed and {n.code for n in r.notes} == {"lots.undecided", "lots.count"}
    assert r.notes[0].params == {"contest": "insured"}


def test_a_right_lot_passes(tmp_path: Path) -> None:
    m = Mini(tmp_path / "record").write()
    # two seats; I001 leads, I002, I003, I004 tie at the second seat
    m.write_json("results.json", results([5, 3, 3, 3, 1], max_selections=2))
    m.write_json("lots.json", {"lots": [lot(m, ["I002", "I003", "I004"], 1, ["I004"])]})
    r = run_checks(m.root, ca(m))
    assert r["results.lots"].passed, r["results.lots"].failures
    assert "lots.undecided" not in {n.code for n in r["results.lots"].notes}
    assert not [f for f in r["record.format"].failures if f.code == "format.unexpected"]  # expected file


@pytest.mark.parametrize("attack, expected", [
    ("not_tied_chosen", ["lots.chosen"]),
    ("two_chosen", ["lots.chosen"]),
    ("tied_incomplete", ["lots.tied"]),
    ("wrong_seats", ["lots.seats"]),
    ("one_official", ["officials.count"]),
    ("same_official_twice", ["officials.twice"]),
    ("server_resigned", ["officials.signature", "officials.signature"]),
    ("edited_after_signing", ["officials.signature", "officials.signature"]),
    ("no_tie", ["lots.no_tie"]),
    ("two_lots", ["lots.order"]),
])
def test_wrong_lots_fail_42(tmp_path: Path, attack: str, expected: list[str]) -> None:
    m = Mini(tmp_path / "record").write()
    m.write_json("results.json", results([5, 3, 3, 3, 1], max_selections=2, tie=attack != "no_tie"))
    tied = ["I002", "I003", "I004"]
    lots = {
        "not_tied_chosen": [lot(m, tied, 1, ["I005"])],
        "two_chosen": [lot(m, tied, 1, ["I002", "I003"])],
        "tied_incomplete": [lot(m, ["I002", "I003"], 1, ["I002"])],
        "wrong_seats": [lot(m, tied, 2, ["I002"])],
        "one_official": [lot(m, tied, 1, ["I002"], signers=("alice",))],
        "same_official_twice": [lot(m, tied, 1, ["I002"], signers=("bob", "bob"))],
        "server_resigned": [lot(m, tied, 1, ["I002"], keys={"alice": m.board, "bob": m.board})],
        "edited_after_signing": [{**lot(m, tied, 1, ["I002"]), "chosen": ["I003"]}],
        "no_tie": [lot(m, tied, 1, ["I002"])],
        "two_lots": [lot(m, tied, 1, ["I002"]), lot(m, tied, 1, ["I003"])],
    }[attack]
    m.write_json("lots.json", {"lots": lots})
    r = run_checks(m.root, ca(m))["results.lots"]
    assert sorted(f.code for f in r.failures) == sorted(expected)
    assert r.failures[0].item["contest"] == "insured"


def test_lots_json_of_another_shape_fails(tmp_path: Path) -> None:
    m = Mini(tmp_path / "record").write()
    m.write_json("results.json", results([3, 3]))
    m.write_json("lots.json", [lot(m, ["I001", "I002"], 1, ["I001"])])
    assert [f.code for f in run_checks(m.root, ca(m))["results.lots"].failures] == ["lots.shape"]

