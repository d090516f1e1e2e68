"""Paper votes override e-votes (docs/record.md §2.4).

After close, one official uploads the list of voters who voted on paper (as national IDs or
employer account numbers, the way polling stations record them); a second official approves;
approval signs the list of their pseudonyms with the server key. The tally drops every e-ballot
of a listed voter.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, PaperOverrideList, PendingAction, RollEntry
from app.models.base import utcnow
from app.services.administration import approvals
from app.services.platform import signing
from app.services.voting import board
from app.services.errors import Conflict, InputFileError
from crypto.encoding import canonical_json
from election.board import iso_utc, paper_overrides

ACTION = "record_paper_votes"
_COLUMNS = {"national_id": "insured", "employer_account": "employer"}


def parse_list(election: Election, text: str, source: str = "paper votes") -> list[str]:
    """CSV with a ``voter_id`` column (national ID or employer account) → sorted pseudonyms."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    if header != ["voter_id"]:
        raise InputFileError(source, ["line 1: the header must be exactly: voter_id"])
    problems: list[str] = []
    keys: dict[str, int] = {}
    for record in reader:
        if not record or not record[0].strip():
            continue
        key = record[0].strip().replace("-", "").replace(" ", "")
        if len(record) != 1:
            problems.append(f"line {reader.line_num}: expected 1 field, found {len(record)}")
        elif key in keys:
            problems.append(f"line {reader.line_num}: {key} appears again (first on line {keys[key]})")
        else:
            keys[key] = reader.line_num
    found = {
        entry.voter_key: entry.pseudonym
        for entry in db.session.scalars(select(RollEntry).where(
            RollEntry.election_pk == election.id, RollEntry.voter_key.in_(list(keys))))
    } if keys else {}
    for key, line in keys.items():
        if key not in found:
            problems.append(f"line {line}: {key} is not on this election's roll")
    if problems:
        raise InputFileError(source, problems)
    return sorted(found.values())


def is_signed(election: Election) -> bool:
    return db.session.get(PaperOverrideList, election.id) is not None


def propose(election: Election, official: Official, text: str, now: datetime) -> PendingAction:
    if is_signed(election):
        raise Conflict("the paper-vote list of this election is already signed")
    pseudonyms = parse_list(election, text)
    return approvals.propose(election, ACTION, official, now,
                             payload=canonical_json(pseudonyms).decode())


def on_approve(election: Election, pending: PendingAction) -> None:
    """Sign the approved list; there is one list per election and it is final."""
    if is_signed(election):
        raise Conflict("the paper-vote list of this election is already signed")
    if board.final_checkpoint(election) is None:
        raise Conflict("the paper-vote list can be signed only after polls have closed")
    pseudonyms = json.loads(pending.payload or "[]")
    body = signing.sign(paper_overrides(
        election.election_id, pseudonyms, iso_utc(pending.decided_at or utcnow()),
        [pending.proposer.username, pending.decider.username if pending.decider else ""]))
    db.session.add(PaperOverrideList(election_pk=election.id, body=canonical_json(body).decode()))


def signed_list(election: Election) -> dict[str, object] | None:
    row = db.session.get(PaperOverrideList, election.id)
    return json.loads(row.body) if row else None
