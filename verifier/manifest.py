"""The parts of the election manifest the verifier needs — docs/manifest.md §1."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verifier.encoding import expect_list, expect_str, parse_count
from verifier.errors import InvalidInput

MANIFEST_FORMAT = "ssbvote-manifest/1"
ELECTORATES = ("insured", "employer")


@dataclass(frozen=True)
class Candidate:
    id: str
    number: int
    raw: Any  # the manifest's candidate object (id, number, name, team)


@dataclass(frozen=True)
class Contest:
    id: str
    max_selections: int
    candidates: tuple[Candidate, ...]
    electorate: str = "insured"

    @property
    def size(self) -> int:
        return len(self.candidates)


def parse_contests(manifest: Any) -> dict[str, Contest]:
    """Contest ids, k and candidates in ballot order; raises InvalidInput naming the field."""
    if not isinstance(manifest, dict):
        raise InvalidInput("manifest: not an object")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise InvalidInput(f"manifest.format: not {MANIFEST_FORMAT}")
    out: dict[str, Contest] = {}
    contests = expect_list(manifest.get("contests"), "manifest.contests")
    if not 1 <= len(contests) <= 2:
        raise InvalidInput("manifest.contests: one or two contests expected")
    for ci, c in enumerate(contests):
        where = f"contests[{ci}]"
        if not isinstance(c, dict):
            raise InvalidInput(f"{where}: not an object")
        cid = expect_str(c.get("id"), f"{where}.id")
        if cid in out:
            raise InvalidInput(f"{where}.id: duplicate contest id {cid}")
        electorate = expect_str(c.get("electorate"), f"{where}.electorate")
        if electorate not in ELECTORATES:
            raise InvalidInput(f"{where}.electorate: not one of {', '.join(ELECTORATES)}")
        if any(o.electorate == electorate for o in out.values()):
            raise InvalidInput(f"{where}.electorate: two contests of electorate {electorate}")
        cands = expect_list(c.get("candidates"), f"{where}.candidates")
        if not 1 <= len(cands) <= 1000:
            raise InvalidInput(f"{where}.candidates: 1 to 1000 candidates expected")
        k = parse_count(c.get("max_selections"), f"{where}.max_selections", 1,
                        min(len(cands), 64))
        parsed = []
        ids, numbers = set(), set()
        for ki, cand in enumerate(cands):
            w = f"{where}.candidates[{ki}]"
            if not isinstance(cand, dict):
                raise InvalidInput(f"{w}: not an object")
            cand_id = expect_str(cand.get("id"), f"{w}.id")
            number = parse_count(cand.get("number"), f"{w}.number", 1)
            if cand_id in ids:
                raise InvalidInput(f"{w}.id: duplicate candidate id {cand_id}")
            if number in numbers:
                raise InvalidInput(f"{w}.number: duplicate ballot number {number}")
            ids.add(cand_id)
            numbers.add(number)
            parsed.append(Candidate(cand_id, number, cand))
        out[cid] = Contest(cid, k, tuple(parsed), electorate)
    return out


def _timestamp(value: Any, what: str) -> datetime:
    text = expect_str(value, what)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what}: not an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise InvalidInput(f"{what}: no time zone")
    return t


def parse_poll_window(manifest: Any) -> tuple[datetime, datetime]:
    """(opens, closes) of ``poll_window`` (docs/manifest.md §1: ISO 8601 with a time zone,
    closes > opens); raises InvalidInput naming the field."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("poll_window"), dict):
        raise InvalidInput("manifest.poll_window: not an object")
    window = manifest["poll_window"]
    opens = _timestamp(window.get("opens"), "manifest.poll_window.opens")
    closes = _timestamp(window.get("closes"), "manifest.poll_window.closes")
    if not closes > opens:
        raise InvalidInput("manifest.poll_window: closes is not after opens")
    return opens, closes


def parse_cast_at(value: str) -> datetime:
    """A board entry's ``cast_at`` (docs/record.md §2.1, already matched by check 6)."""
    return datetime.fromisoformat(value)
