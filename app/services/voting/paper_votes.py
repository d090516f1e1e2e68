"""Paper votes override e-votes (docs/record.md §2.4), signed by two officials.

After close, one official uploads the list of voters who voted on paper (as national IDs or
employer account numbers, the way polling stations record them).  The server turns it into the
unsigned list (:func:`election.board.paper_overrides`: the voters' pseudonyms, this election's
opening hash and ``at``, fixed now and kept in a draft) and shows the official the count, the
identities and the list's digest.  The official signs the list with their own official
credential in the browser (docs/protocol.md §13.2, purpose ``official``) and the signature,
checked here with that official's key pinned in the opening, makes the proposal
(:func:`propose_signed`).  A second official sees the same list, signs it the same way and so
approves it (:func:`approve_signed`); the stored list carries both signatures.  The tally drops
every e-ballot of a listed voter.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, PaperListDraft, PaperOverrideList, PendingAction, RollEntry
from app.services.administration import approvals, authority, decisions
from app.services.voting import board
from app.services.errors import Conflict, InputFileError
from crypto.encoding import canonical_json
from election.board import iso_utc, paper_list_body, paper_list_digest, paper_overrides, paper_signature_problems
from election.lifecycle import Status

ACTION = "record_paper_votes"
_COLUMNS = {"national_id": "insured", "employer_account": "employer"}
_LOOKUP_CHUNK = 2000


#: Messages in the page's language during a request, English for the CLI (Babel extracts ``_``).
_ = decisions.page_text


def parse_list(election: Election, text: str, source: str = "paper votes") -> list[str]:
    """CSV with a ``voter_id`` column (national ID or employer account) → sorted pseudonyms.
    Every problem of the file is reported (not only the first), each with its line number, in
    the official's language."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise InputFileError(source, [_("line %(line)d: not a readable CSV line (%(reason)s)",
                                         line=reader.line_num or 1, reason=str(exc))]) from None
    if header != ["voter_id"]:
        raise InputFileError(source, [_("line %(line)d: the header must be exactly: voter_id "
                                         "(found: %(found)s)", line=1, found=",".join(header) or "-")])
    problems: list[tuple[int, str]] = []  # (line, message)
    keys: dict[str, int] = {}
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((reader.line_num, _("line %(line)d: not a readable CSV line (%(reason)s)",
                                                 line=reader.line_num, reason=str(exc))))
            break
        if not record or not record[0].strip():
            continue
        key = record[0].strip().replace("-", "").replace(" ", "")
        if len(record) != 1:
            problems.append((reader.line_num, _("line %(line)d: expected 1 field, found %(found)d",
                                                 line=reader.line_num, found=len(record))))
        elif not key.isascii() or not key.isdigit() or not 5 <= len(key) <= 20:
            problems.append((reader.line_num, _("line %(line)d: \"%(value)s\" is not a national ID or "
                                                 "employer account number (digits only)",
                                                 line=reader.line_num, value=key[:40])))
        elif key in keys:
            problems.append((reader.line_num, _("line %(line)d: %(key)s appears again (first on line %(first)d)",
                                                 line=reader.line_num, key=key, first=keys[key])))
        else:
            keys[key] = reader.line_num
    found: dict[str, str] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        for entry in db.session.scalars(select(RollEntry).where(
                RollEntry.election_pk == election.id,
                RollEntry.voter_key.in_(wanted[start:start + _LOOKUP_CHUNK]))):
            found[entry.voter_key] = entry.pseudonym
    for key, line in keys.items():
        if key not in found:
            problems.append((line, _("line %(line)d: %(key)s is not on this election's roll", line=line, key=key)))
    if problems:
        raise InputFileError(source, [message for _line, message in sorted(problems, key=lambda p: p[0])])
    return sorted(set(found.values()))


def is_signed(election: Election) -> bool:
    return db.session.get(PaperOverrideList, election.id) is not None


def pending_list(election: Election) -> PendingAction | None:
    """The pending proposal of the paper-vote list, if any."""
    return next((p for p in approvals.pending_for(election) if p.action == ACTION), None)


@dataclass(frozen=True)
class SigningPage:
    """What the paper-vote page shows an official before they sign (docs/record.md §2.4): the
    unsigned list, its digest, the count and the identities (roll IDs and names)."""

    body: dict[str, Any]
    digest: str
    count: int
    identities: list[dict[str, str]]
    role: str  # "propose" or "approve"
    proposer: str = ""  # approve: the display name of the official who proposed it
    official_key: str | None = None  # this official's pinned public key (64 hex)
    pending_id: int | None = None


def identities(election: Election, pseudonyms: list[str]) -> list[dict[str, str]]:
    """The voters behind ``pseudonyms``, from the roll: ID, name and electorate, by ID."""
    out: list[dict[str, str]] = []
    for start in range(0, len(pseudonyms), _LOOKUP_CHUNK):
        for entry in db.session.scalars(select(RollEntry).where(
                RollEntry.election_pk == election.id,
                RollEntry.pseudonym.in_(pseudonyms[start:start + _LOOKUP_CHUNK]))):
            out.append({"voter_id": entry.voter_key, "name": entry.display_name,
                        "electorate": entry.electorate})
    return sorted(out, key=lambda p: (p["electorate"], p["voter_id"]))


def _pinned_key(election: Election, official: Official) -> str | None:
    return authority.pinned_officials(election).get(official.username)


def _page(election: Election, body: dict[str, Any], role: str, official: Official,
          pending: PendingAction | None = None) -> SigningPage:
    pseudonyms = list(body["pseudonyms"])
    return SigningPage(body, paper_list_digest(body), len(pseudonyms), identities(election, pseudonyms), role,
                       proposer=pending.proposer.display_name if pending is not None else "",
                       official_key=_pinned_key(election, official),
                       pending_id=pending.id if pending is not None else None)


def _check_can_record(election: Election) -> None:
    if is_signed(election):
        raise Conflict(_("the paper-vote list of this election is already signed"))
    if election.status != Status.CLOSED.value:
        raise approvals.ApprovalRefused("wrong_status")


def draft(election: Election, official: Official, text: str, now: datetime) -> SigningPage:
    """Step 1 of the proposal: parse the uploaded CSV and keep the unsigned list (``at`` = now)
    as this official's draft; the page shows it for signing."""
    _check_can_record(election)
    approvals.expire_due(now)
    if pending_list(election) is not None:
        raise approvals.ApprovalRefused("already_proposed")
    pseudonyms = parse_list(election, text)
    body = paper_overrides(election.election_id, pseudonyms, iso_utc(now),
                           opening=authority.opening_hash(election))
    row = db.session.scalar(select(PaperListDraft).where(PaperListDraft.election_pk == election.id,
                                                         PaperListDraft.official_pk == official.id))
    if row is None:
        row = PaperListDraft(election_pk=election.id, official_pk=official.id)
        db.session.add(row)
    row.body = canonical_json(body).decode()
    row.digest = paper_list_digest(body)
    row.created_at = now
    db.session.commit()
    return _page(election, body, "propose", official)


def draft_page(election: Election, official: Official) -> SigningPage | None:
    """The official's draft list (after an upload), for signing again after a refusal."""
    row = db.session.scalar(select(PaperListDraft).where(PaperListDraft.election_pk == election.id,
                                                         PaperListDraft.official_pk == official.id))
    return None if row is None else _page(election, json.loads(row.body), "propose", official)


def approval_page(election: Election, official: Official) -> SigningPage | None:
    """The pending list for a second official to check and sign; None if there is none or
    ``official`` proposed it."""
    pending = pending_list(election)
    if pending is None or pending.proposer_pk == official.id:
        return None
    return _page(election, paper_list_body(json.loads(pending.payload or "{}")), "approve", official, pending)


def _check_signature(election: Election, official: Official, body: dict[str, Any], digest: str,
                     signature: str) -> None:
    """The official saw ``body`` (its digest is ``digest``) and signed it with their pinned key."""
    decisions.check_signature(election, official, body, digest, signature, "the list")


def propose_signed(election: Election, official: Official, digest: str, signature: str,
                   now: datetime) -> PendingAction:
    """Step 2: the official's signature of their draft list makes the proposal; its payload
    is the list with that first signature."""
    _check_can_record(election)
    row = db.session.scalar(select(PaperListDraft).where(PaperListDraft.election_pk == election.id,
                                                         PaperListDraft.official_pk == official.id))
    if row is None:
        raise Conflict(_("upload the paper-vote list first"))
    body = json.loads(row.body)
    _check_signature(election, official, body, digest, signature)
    signed = {**body, "signatures": [{"official": official.username, "signature": signature}]}
    db.session.delete(row)
    return approvals.propose(election, ACTION, official, now, payload=canonical_json(signed).decode())


def approve_signed(pending_id: int, official: Official, digest: str, signature: str,
                   now: datetime) -> PendingAction:
    """The second official's signature of the proposed list approves it (four eyes: the
    proposer cannot)."""
    pending = db.session.get(PendingAction, pending_id)
    if pending is None or pending.action != ACTION or pending.state != "pending":
        raise approvals.ApprovalRefused("not_pending")
    proposed = json.loads(pending.payload or "{}")
    body = paper_list_body(proposed)
    if pending.proposer_pk != official.id:  # approvals.approve refuses a self-approval, audited
        _check_signature(pending.election, official, body, digest, signature)
    signatures = list(proposed.get("signatures", []))
    signatures.append({"official": official.username, "signature": signature})
    payload = canonical_json({**body, "signatures": signatures}).decode()
    return approvals.approve(pending_id, official, now, payload=payload)


def on_approve(election: Election, pending: PendingAction) -> None:
    """Store the approved list; there is one list per election and it is final.  It must carry
    the signatures of two distinct officials pinned in the opening (record.md §2.4)."""
    if is_signed(election):
        raise Conflict(_("the paper-vote list of this election is already signed"))
    if board.final_checkpoint(election) is None:
        raise Conflict("the paper-vote list can be signed only after polls have closed")
    obj = json.loads(pending.payload or "{}")
    if not isinstance(obj, dict) or obj.get("opening") != authority.opening_hash(election) \
            or obj.get("election_id") != election.election_id:
        raise Conflict("the paper-vote list is not of this election's opening")
    problems = paper_signature_problems(obj, authority.pinned_officials(election))
    if problems:
        raise Conflict("the paper-vote list needs the signatures of two officials, each made with "
                       "their own official credential on the list's page: " + "; ".join(problems))
    db.session.add(PaperOverrideList(election_pk=election.id, body=canonical_json(obj).decode()))


def signed_list(election: Election) -> dict[str, object] | None:
    row = db.session.get(PaperOverrideList, election.id)
    return json.loads(row.body) if row else None
