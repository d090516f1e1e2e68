"""Two-official decisions besides the paper-vote list: poll extensions (docs/record.md §2.7) and
lots at a tied last seat (§4.6).

They are signed exactly as the paper-vote list (§2.4) is — each of two distinct officials signs
the canonical JSON of the object without ``signatures`` with their own pinned key — by the same
functions of :mod:`election.board` (:func:`~election.board.add_official_signature`,
:func:`~election.board.paper_signature_problems`, :func:`~election.board.paper_list_digest`).
This module builds the objects and states their rules, for the server and the tally.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from .board import paper_list_body, paper_list_digest, paper_signature_problems

POLL_EXTENSION_TYPE = "ssbvote-poll-extension"  # record.md §2.7
LOT_TYPE = "ssbvote-lot"  # record.md §4.6
POLL_EXTENSION_KEYS = frozenset({"type", "election_id", "opening", "closes", "previous_closes", "reason",
                                 "at", "signatures"})
LOT_KEYS = frozenset({"type", "election_id", "opening", "contest", "tied", "seats", "chosen", "at",
                      "signatures"})
#: record.md §2.7: at most this many extensions, each moving the close by at most this much.
MAX_EXTENSIONS = 3
MAX_EXTENSION = timedelta(hours=24)
REASON_MAX = 500

#: The file names of record.md §2.7 and §4.6.
POLL_EXTENSIONS_FILE = "poll_extensions.jsonl"
LOTS_FILE = "lots.json"

decision_body = paper_list_body
decision_digest = paper_list_digest
signature_problems = paper_signature_problems


def parse_time(text: Any, what: str) -> datetime:
    """An ISO 8601 timestamp with a time zone (manifest.md §1); ValueError naming ``what``."""
    if not isinstance(text, str):
        raise ValueError(f"{what} is not a string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise ValueError(f"{what} has no time zone")
    return moment


def poll_extension(election_id: str, *, opening: str, closes: str, previous_closes: str, reason: str,
                   at: str) -> dict[str, Any]:
    """The unsigned poll extension (record.md §2.7): what the two officials see and sign."""
    return {"type": POLL_EXTENSION_TYPE, "election_id": election_id, "opening": opening, "closes": closes,
            "previous_closes": previous_closes, "reason": reason, "at": at}


def extension_problems(ext: Mapping[str, Any], *, close_in_force: datetime, opens: datetime,
                       previous_at: str | None, number: int) -> list[str]:
    """What breaks the rules of record.md §2.7 in extension number ``number`` (1-based), the
    signatures aside: ``close_in_force`` is the close before it, ``previous_at`` the previous
    extension's ``at`` (None for the first)."""
    problems: list[str] = []
    if set(ext) - {"signatures"} != POLL_EXTENSION_KEYS - {"signatures"}:
        return [f"keys {sorted(ext)} are not those of a poll extension"]
    if ext["type"] != POLL_EXTENSION_TYPE:
        problems.append(f"type is not {POLL_EXTENSION_TYPE}")
    if number > MAX_EXTENSIONS:
        problems.append(f"more than {MAX_EXTENSIONS} extensions")
    reason = ext["reason"]
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
        problems.append(f"the reason must be a non-empty text of at most {REASON_MAX} characters")
    try:
        closes = parse_time(ext["closes"], "closes")
        previous = parse_time(ext["previous_closes"], "previous_closes")
        at = parse_time(ext["at"], "at")
    except ValueError as exc:
        return problems + [str(exc)]
    if not (isinstance(ext["at"], str) and ext["at"].endswith("Z")):
        problems.append("at is not UTC (…Z)")
    if previous != close_in_force:
        problems.append(f"previous_closes {ext['previous_closes']} is not the close in force "
                        f"({close_in_force.isoformat()})")
    if not closes > close_in_force:
        problems.append("closes is not later than the close in force")
    elif closes - close_in_force > MAX_EXTENSION:
        problems.append("closes moves the close by more than 24 hours")
    if not opens <= at < close_in_force:
        problems.append("at is not while the polls were open, before the close in force")
    if previous_at is not None and isinstance(ext["at"], str) and ext["at"] < previous_at:
        problems.append("at is before the previous extension's")
    return problems


def effective_close(manifest_closes: datetime, extensions: Sequence[Mapping[str, Any]]) -> datetime:
    """The close in force after ``extensions`` (taken as valid, in order; record.md §2.7)."""
    close = manifest_closes
    for ext in extensions:
        close = parse_time(ext["closes"], "closes")
    return close


# --- lots (record.md §4.6) -----------------------------------------------------------------------


def seats(contest: Mapping[str, Any]) -> int:
    """The number of seats of a contest of results.json (§4.4, §4.6): its ``seats`` (record
    version 4, manifest format 2), else its ``max_selections``.  The one place that says it."""
    return int(contest.get("seats", contest["max_selections"]))


def tie(contest: Mapping[str, Any]) -> tuple[list[str], int] | None:
    """(tied candidate ids sorted, seats they compete for) of a results.json contest whose last
    seat is tied (§4.4, §4.6); None if it is not."""
    candidates = contest["candidates"]
    count = seats(contest)
    if count <= 0 or len(candidates) <= count:
        return None
    ranked = sorted(candidates, key=lambda c: (-c["votes"], c["number"]))
    last = ranked[count - 1]["votes"]
    if ranked[count]["votes"] != last:
        return None
    tied = sorted(c["id"] for c in candidates if c["votes"] == last)
    above = sum(1 for c in candidates if c["votes"] > last)
    return tied, count - above


def lot(election_id: str, *, opening: str, contest: str, tied: Sequence[str], seats: int,
        chosen: Sequence[str], at: str) -> dict[str, Any]:
    """The unsigned lot (record.md §4.6); ``tied`` and ``chosen`` are sorted here."""
    return {"type": LOT_TYPE, "election_id": election_id, "opening": opening, "contest": contest,
            "tied": sorted(tied), "seats": seats, "chosen": sorted(chosen), "at": at}


def lot_problems(obj: Mapping[str, Any], results: Mapping[str, Any]) -> list[str]:
    """What breaks record.md §4.6 in a lot, the signatures aside, against results.json."""
    if set(obj) - {"signatures"} != LOT_KEYS - {"signatures"}:
        return [f"keys {sorted(obj)} are not those of a lot"]
    problems: list[str] = []
    if obj["type"] != LOT_TYPE:
        problems.append(f"type is not {LOT_TYPE}")
    contest = results.get("contests", {}).get(obj["contest"])
    if contest is None:
        return problems + [f"contest {obj['contest']!r} is not in the results"]
    found = tie(contest)
    if found is None or not contest.get("tie_at_last_seat"):
        return problems + [f"contest {obj['contest']} has no tie at its last seat"]
    tied, count = found
    if obj["tied"] != tied:
        problems.append(f"tied is not exactly the candidates with the last seat's votes {tied}")
    if obj["seats"] != count:
        problems.append(f"seats is not {count}, the seats the tied candidates compete for")
    chosen = obj["chosen"]
    if not isinstance(chosen, list) or chosen != sorted(set(chosen)) or not set(chosen) <= set(tied) \
            or len(chosen) != count:
        problems.append(f"chosen must be {count} distinct tied candidates, sorted")
    return problems


def elected_after_lots(contest: Mapping[str, Any], chosen: Sequence[str] | None) -> list[str]:
    """The elected of a results.json contest once its lot (if any) is drawn (§4.6)."""
    elected = list(contest["elected"])
    found = tie(contest)
    if chosen is None or found is None:
        return elected
    tied = set(found[0])
    return [c for c in elected if c not in tied] + sorted(chosen)
