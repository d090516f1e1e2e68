"""The lot at a tied last seat, recorded by two officials and published (docs/record.md §4.6).

After the results are published, a contest whose results flag ``tie_at_last_seat`` is decided
by lot by the returning officer.  One official records the outcome — the tied candidates and
the seats they compete for come from the published results, the official picks the chosen
ones — and signs it with their official credential; a different official sees the tied and the
chosen candidates, signs and so approves (the one signing mechanism of
:mod:`app.services.administration.decisions`).  The approved lot is added to the published
record as ``lots.json`` (HASHES.json rewritten) and shown on the results page.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ContestLot, Election, Official, PendingAction
from app.services.administration import approvals, authority, decisions
from app.services.errors import Conflict, InvalidRequest
from app.services.voting import results as published
from crypto.encoding import canonical_json
from election import decisions as rules
from election.board import iso_utc
from election.lifecycle import Status
from election.record import HASHES, hashes

ACTION = "record_lot"
WHAT = "the lot"


def _results(election: Election) -> dict[str, Any]:
    if election.status != Status.TALLIED.value or not election.results:
        raise approvals.ApprovalRefused("wrong_status")
    return dict(json.loads(election.results))


def lots(election: Election) -> list[dict[str, Any]]:
    """The signed lots, sorted by contest (``lots.json``'s list, record.md §4.6)."""
    return [json.loads(row.body) for row in db.session.scalars(
        select(ContestLot).where(ContestLot.election_pk == election.id).order_by(ContestLot.contest))]


def open_ties(election: Election) -> dict[str, tuple[list[str], int]]:
    """contest → (tied candidates, seats) for each tied last seat with no lot recorded yet."""
    if election.status != Status.TALLIED.value or not election.results:
        return {}
    data = json.loads(election.results)
    done = {lot["contest"] for lot in lots(election)}
    out: dict[str, tuple[list[str], int]] = {}
    for code, contest in data["contests"].items():
        found = rules.tie(contest) if contest.get("tie_at_last_seat") else None
        if found is not None and code not in done:
            out[code] = found
    return out


def draft(election: Election, official: Official, contest: str, chosen: list[str],
          now: datetime) -> decisions.SigningPage:
    """Make the unsigned lot (``at`` = now) as this official's draft, for signing."""
    data = _results(election)
    ties = open_ties(election)
    if contest not in ties:
        raise InvalidRequest(f"contest {contest!r} has no undecided tie at its last seat")
    tied, seats = ties[contest]
    body = rules.lot(election.election_id, opening=authority.opening_hash(election), contest=contest,
                     tied=tied, seats=seats, chosen=chosen, at=iso_utc(now))
    problems = rules.lot_problems(body, data)
    if problems:
        raise InvalidRequest("; ".join(problems))
    decisions.draft(election, official, ACTION, body, now)
    return page(election, official, body, "propose")


def _names(election: Election, contest: str) -> dict[str, str]:
    for c in election.contests:
        if c.code == contest:
            return {x.code: f"{x.ballot_number}. {x.name_th} / {x.name_en}" for x in c.candidates}
    return {}


def page(election: Election, official: Official, body: dict[str, Any], role: str,
         proposal: PendingAction | None = None) -> decisions.SigningPage:
    out = decisions.page(election, ACTION, body, role, official, proposal)
    names = _names(election, body["contest"])
    out.rows.extend([("contest", body["contest"]),
                     ("tied", ", ".join(f"{c} ({names.get(c, '?')})" for c in body["tied"])),
                     ("seats", str(body["seats"])),
                     ("chosen", ", ".join(f"{c} ({names.get(c, '?')})" for c in body["chosen"])),
                     ("at", body["at"])])
    return out


def draft_page(election: Election, official: Official) -> decisions.SigningPage | None:
    body = decisions.draft_body(election, official, ACTION)
    return None if body is None else page(election, official, body, "propose")


def approval_page(election: Election, official: Official) -> decisions.SigningPage | None:
    found = decisions.approval_body(election, official, ACTION)
    return None if found is None else page(election, official, found[1], "approve", found[0])


def on_approve(election: Election, pending: PendingAction) -> None:
    """Store the approved lot (rules of record.md §4.6, two distinct pinned officials), in the
    approval's transaction; the published zip follows once it is committed (:func:`sync_archive`)."""
    data = _results(election)
    obj = json.loads(pending.payload or "{}")
    body = decisions.paper_list_body(obj)
    if body.get("contest") not in open_ties(election):
        raise Conflict("this contest has no undecided tie at its last seat")
    problems = rules.lot_problems(body, data)
    if problems:
        raise Conflict("the lot breaks the rules: " + "; ".join(problems))
    decisions.require_two_officials(election, obj, WHAT)
    db.session.add(ContestLot(election_pk=election.id, contest=body["contest"],
                              body=canonical_json(obj).decode()))
    db.session.flush()


def sync_archive(election: Election) -> None:
    """Bring the published record's zip up to the committed lots: rewrite it (:func:`republish`)
    if its ``lots.json`` is not exactly the lots stored.  Called before the zip is served; the
    caller holds no uncommitted lot (the approval commits before anyone downloads)."""
    archive = published.archive_path(election)
    stored = lots(election)
    if not archive.exists():
        return
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        inside = json.loads(zf.read(rules.LOTS_FILE)) if rules.LOTS_FILE in names else {"lots": []}
    if inside != {"lots": stored}:
        republish(election)


def republish(election: Election) -> None:
    """Rewrite the published record's zip with ``lots.json`` and its new ``HASHES.json``
    (record.md §4.6, §4.5)."""
    archive = published.archive_path(election)
    if not archive.exists():
        return
    with tempfile.TemporaryDirectory(dir=archive.parent) as tmp:
        root = Path(tmp) / "record"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root)
        (root / rules.LOTS_FILE).write_bytes(canonical_json({"lots": lots(election)}))
        (root / HASHES).write_bytes(canonical_json(hashes(root)))
        made = shutil.make_archive(str(Path(tmp) / "new"), "zip", root_dir=root)
        Path(made).replace(archive)


def chosen_by_contest(election: Election) -> dict[str, list[str]]:
    return {lot["contest"]: list(lot["chosen"]) for lot in lots(election)}
