"""Extending the poll window by the two-official rule (docs/record.md §2.7).

The manifest's window never changes.  While the polls are open and before the close in force,
one official makes a poll extension (the new close and a reason; ``at`` and ``previous_closes``
are fixed by the server) and signs it with their official credential; a different official
checks and signs it, which approves it (the one signing mechanism of
:mod:`app.services.administration.decisions`).  The approval, under the board's head lock,
stores it; from then on casts are accepted until its ``closes``
(:func:`app.services.voting.board.effective_close`).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, PendingAction, PollExtension
from app.services.administration import approvals, authority, decisions
from app.services.errors import Conflict, InvalidRequest
from app.services.voting import board
from crypto.encoding import canonical_json
from election import decisions as rules
from election.board import iso_utc
from election.lifecycle import Status

ACTION = "extend_polls"
WHAT = "the poll extension"


def extensions(election: Election) -> list[dict[str, Any]]:
    """The signed extensions in the order made (``poll_extensions.jsonl``, record.md §2.7)."""
    return [json.loads(row.body) for row in db.session.scalars(
        select(PollExtension).where(PollExtension.election_pk == election.id).order_by(PollExtension.number))]


def _close_in_force(election: Election, made: list[dict[str, Any]]) -> tuple[datetime, str]:
    """(the close in force, its text for ``previous_closes``)."""
    if made:
        text = made[-1]["closes"]
        return rules.parse_time(text, "closes"), text
    return election.closes_at, election.closes_at.isoformat()


def close_in_force(election: Election) -> datetime:
    """The close in force now (the manifest's, or the last extension's)."""
    return _close_in_force(election, extensions(election))[0]


def _problems(election: Election, body: dict[str, Any], made: list[dict[str, Any]]) -> list[str]:
    close, _text = _close_in_force(election, made)
    return rules.extension_problems(body, close_in_force=close, opens=election.opens_at,
                                    previous_at=made[-1]["at"] if made else None, number=len(made) + 1)


def draft(election: Election, official: Official, closes: str, reason: str,
          now: datetime) -> decisions.SigningPage:
    """Make the unsigned extension (``at`` = now) as this official's draft; the page shows it
    for signing.  Refused unless the polls are open and before the close in force, or if it
    breaks a rule of record.md §2.7 (named)."""
    if election.status != Status.OPEN.value:
        raise approvals.ApprovalRefused("wrong_status")
    made = extensions(election)
    close, previous = _close_in_force(election, made)
    if now >= close:
        raise Conflict("the polls have closed: an extension must be approved before the close in force")
    try:
        rules.parse_time(closes.strip(), "the new closing time")
    except ValueError as exc:
        raise InvalidRequest(f"{exc} (e.g. 2026-12-20T18:00:00+07:00)") from None
    body = rules.poll_extension(election.election_id, opening=authority.opening_hash(election),
                                closes=closes.strip(), previous_closes=previous, reason=reason.strip(),
                                at=iso_utc(now))
    problems = _problems(election, body, made)
    if problems:
        raise InvalidRequest("; ".join(problems))
    decisions.draft(election, official, ACTION, body, now)
    return page(election, official, body, "propose")


def page(election: Election, official: Official, body: dict[str, Any], role: str,
         proposal: PendingAction | None = None) -> decisions.SigningPage:
    out = decisions.page(election, ACTION, body, role, official, proposal)
    out.rows.extend([("previous_closes", body["previous_closes"]), ("closes", body["closes"]),
                     ("reason", body["reason"]), ("at", body["at"])])
    return out


def draft_page(election: Election, official: Official) -> decisions.SigningPage | None:
    body = decisions.draft_body(election, official, ACTION)
    return None if body is None else page(election, official, body, "propose")


def approval_page(election: Election, official: Official) -> decisions.SigningPage | None:
    found = decisions.approval_body(election, official, ACTION)
    return None if found is None else page(election, official, found[1], "approve", found[0])


def on_approve(election: Election, pending: PendingAction) -> None:
    """Store the approved extension: under the head lock (so no cast is judged by one close and
    admitted by the next), only while the polls are open and before the close in force, by the
    rules of record.md §2.7, with the signatures of two distinct pinned officials."""
    board.lock_head(election)
    obj = json.loads(pending.payload or "{}")
    made = extensions(election)
    close, _text = _close_in_force(election, made)
    decided = pending.decided_at
    if election.status != Status.OPEN.value or board.final_checkpoint(election) is not None:
        raise Conflict("the polls are not open: they can no longer be extended")
    if decided is None or decided >= close:
        raise Conflict("the close in force has passed: the extension came too late")
    problems = _problems(election, decisions.paper_list_body(obj), made)
    if problems:
        raise Conflict("the poll extension breaks the rules: " + "; ".join(problems))
    decisions.require_two_officials(election, obj, WHAT)
    db.session.add(PollExtension(election_pk=election.id, number=len(made) + 1,
                                 closes_at=rules.parse_time(obj["closes"], "closes"),
                                 body=canonical_json(obj).decode()))
