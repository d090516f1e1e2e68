"""The rules of the two-official decisions (docs/record.md §2.7, §4.6) in election/decisions.py,
against the tally's tie flag (§4.4) and the verifier's own reading of §4.6 (check 42)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from election import decisions
from tally.finish import _rank
from verifier.checks.decisions import _tie as verifier_tie
from verifier.checks.decisions import seats as verifier_seats

OPENS = datetime(2026, 12, 20, 1, 0, tzinfo=timezone.utc)
CLOSE = datetime(2026, 12, 20, 9, 0, tzinfo=timezone.utc)


def contest(votes: list[int], k: int) -> dict[str, Any]:
    candidates = [{"id": f"C{i:03d}", "number": i + 1, "votes": v} for i, v in enumerate(votes)]
    elected, tie = _rank(candidates, k)
    out: dict[str, Any] = {"max_selections": k, "candidates": candidates, "elected": elected}
    if tie:
        out["tie_at_last_seat"] = True
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=9), st.integers(1, 9))
def test_tie_agrees_with_the_tally_flag_and_the_verifier(votes: list[int], k: int) -> None:
    c = contest(votes, k)
    found = decisions.tie(c)
    assert (found is not None) == bool(c.get("tie_at_last_seat"))
    assert found == verifier_tie(c, verifier_seats(c))
    if found is not None:
        tied, seats = found
        ranked = sorted(c["candidates"], key=lambda x: (-x["votes"], x["number"]))
        last = ranked[k - 1]["votes"]
        assert tied == sorted(x["id"] for x in c["candidates"] if x["votes"] == last)
        assert 1 <= seats < len(tied)
        # After the lot the contest still elects exactly k, the chosen among them.
        chosen = tied[-seats:]
        after = decisions.elected_after_lots(c, chosen)
        assert len(after) == k and set(chosen) <= set(after)
        body = decisions.lot("e" * 64, opening="o" * 64, contest="x", tied=tied, seats=seats, chosen=chosen,
                             at="2026-12-21T00:00:00.000000Z")
        assert decisions.lot_problems(body, {"contests": {"x": c}}) == []


def test_lot_problems_name_each_rule() -> None:
    c = contest([5, 3, 3, 3, 1], 2)
    results = {"contests": {"x": c}}

    def problems(**changes: Any) -> list[str]:
        body = {**decisions.lot("e" * 64, opening="o" * 64, contest="x", tied=["C001", "C002", "C003"], seats=1,
                                chosen=["C002"], at="2026-12-21T00:00:00.000000Z"), **changes}
        return decisions.lot_problems(body, results)

    assert problems() == []
    assert "chosen must be 1" in problems(chosen=["C004"])[0]  # not tied
    assert "chosen must be 1" in problems(chosen=["C001", "C002"])[0]
    assert "tied is not exactly" in problems(tied=["C001", "C002"])[0]
    assert "seats is not 1" in problems(seats=2)[0]
    assert "no tie" in problems(contest="y")[0] or "not in the results" in problems(contest="y")[0]
    untied = {"contests": {"x": contest([5, 4, 3], 2)}}
    body = decisions.lot("e" * 64, opening="o" * 64, contest="x", tied=["C001"], seats=1, chosen=["C001"],
                         at="2026-12-21T00:00:00.000000Z")
    assert "has no tie" in decisions.lot_problems(body, untied)[0]


def extension(closes: datetime, previous: datetime, at: datetime, reason: str = "outage") -> dict[str, Any]:
    return decisions.poll_extension("e" * 64, opening="o" * 64, closes=closes.isoformat(),
                                    previous_closes=previous.isoformat(), reason=reason,
                                    at=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def test_extension_rules() -> None:
    at = CLOSE - timedelta(minutes=10)

    def problems(ext: dict[str, Any], number: int = 1, previous_at: str | None = None) -> list[str]:
        return decisions.extension_problems(ext, close_in_force=CLOSE, opens=OPENS, previous_at=previous_at,
                                            number=number)

    assert problems(extension(CLOSE + timedelta(hours=24), CLOSE, at)) == []
    assert problems(extension(CLOSE + timedelta(hours=24, seconds=1), CLOSE, at)) == [
        "closes moves the close by more than 24 hours"]
    assert problems(extension(CLOSE, CLOSE, at)) == ["closes is not later than the close in force"]
    assert "is not the close in force" in problems(extension(CLOSE + timedelta(hours=1), at, at))[0]
    assert problems(extension(CLOSE + timedelta(hours=1), CLOSE, CLOSE)) == [
        "at is not while the polls were open, before the close in force"]
    assert problems(extension(CLOSE + timedelta(hours=1), CLOSE, OPENS - timedelta(seconds=1))) == [
        "at is not while the polls were open, before the close in force"]
    assert problems(extension(CLOSE + timedelta(hours=1), CLOSE, at), number=4) == ["more than 3 extensions"]
    assert "non-empty" in problems(extension(CLOSE + timedelta(hours=1), CLOSE, at, reason=" "))[0]
    assert problems(extension(CLOSE + timedelta(hours=1), CLOSE, at),
                    previous_at="2026-12-20T08:55:00.000000Z") == ["at is before the previous extension's"]
    # the same instant in another zone is the close in force
    bangkok = timezone(timedelta(hours=7))
    assert problems(extension(CLOSE + timedelta(hours=1), CLOSE.astimezone(bangkok), at)) == []
    assert decisions.effective_close(CLOSE, [extension(CLOSE + timedelta(hours=2), CLOSE, at)]) == \
        CLOSE + timedelta(hours=2)
