"""The two-official signed decisions (docs/record.md §2.4, §2.7, §4.6): one mechanism.

An official makes the unsigned object (the server fixes its ``at``) and sees it with its
digest; they sign it in the browser with their own official credential (docs/protocol.md
§13.2, purpose ``official``) and the signature, checked here with that official's key pinned in
the opening (:func:`check_signature`), makes the proposal.  A second official sees the same
object, signs it the same way and so approves it; the approval hook of the action stores the
object with both signatures, after checking them again with
:func:`election.board.paper_signature_problems`.  The paper-vote list
(app/services/voting/paper_votes.py) keeps its own draft table and page; poll extensions and
lots use :func:`draft`, :func:`propose_signed` and :func:`approve_signed` below.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import has_request_context
from flask_babel import gettext
from sqlalchemy import select

from app.extensions import db
from app.models import DecisionDraft, Election, Official, PendingAction
from app.services.administration import approvals, authority
from app.services.errors import Conflict, Forbidden, InvalidRequest
from crypto.encoding import canonical_json
from election.board import paper_list_body, paper_list_digest, paper_signature_problems

__all__ = ["SigningPage", "approval_body", "approve_signed", "check_signature", "draft", "draft_body",
           "page", "paper_list_body", "pending", "pinned_key", "propose_signed", "require_two_officials"]


def page_text(message: str, **values: object) -> str:
    """``message`` in the page's language (Thai or English) during a request; English (as
    written) for the CLI and scenario, which have no page."""
    if has_request_context():
        return str(gettext(message, **values))
    return message % values if values else message


_ = page_text  # (named ``_`` so Babel extracts the messages)


def _not_shown(what: str) -> str:
    """The digest the official signed is not the one of the object shown (one sentence per kind,
    so that each reads naturally in Thai)."""
    if what == "the poll extension":
        return _("the poll extension's digest is not the digest of the extension shown: check it again")
    if what == "the lot":
        return _("the lot's digest is not the digest of the lot shown: check it again")
    return _("the list's digest is not the digest of the list shown: check the list again")


def _not_pinned(what: str, username: str) -> str:
    if what == "the poll extension":
        return _("official %(username)s is not pinned in this election's opening: only the officials "
                 "the credential authority pinned can sign the poll extension", username=username)
    if what == "the lot":
        return _("official %(username)s is not pinned in this election's opening: only the officials "
                 "the credential authority pinned can sign the lot", username=username)
    return _("official %(username)s is not pinned in this election's opening: only the officials the "
             "credential authority pinned can sign the list", username=username)


def pinned_key(election: Election, official: Official) -> str | None:
    return authority.pinned_officials(election).get(official.username)


def check_signature(election: Election, official: Official, body: dict[str, Any], digest: str,
                    signature: str, what: str = "the list") -> None:
    """The official saw ``body`` (its digest is ``digest``) and signed it with their pinned key
    (record.md §2.4)."""
    if digest != paper_list_digest(body):
        raise InvalidRequest(_not_shown(what))
    public = pinned_key(election, official)
    if public is None:
        raise Forbidden(_not_pinned(what, official.username))
    if not isinstance(signature, str) or len(signature) != 128 or signature != signature.lower():
        raise InvalidRequest(_("the signature must be 128 lowercase hex digits"))
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            bytes.fromhex(signature), canonical_json(body))
    except (ValueError, InvalidSignature):
        raise InvalidRequest(_("the signature does not verify with your pinned official key: "
                               "sign with your own official credential")) from None


def require_two_officials(election: Election, obj: dict[str, Any], what: str) -> None:
    """The approval hook's last word: ``obj`` is of this election's opening and carries the
    signatures of two distinct officials pinned in the opening."""
    if obj.get("opening") != authority.opening_hash(election) or obj.get("election_id") != election.election_id:
        raise Conflict(f"{what} is not of this election's opening")
    problems = paper_signature_problems(obj, authority.pinned_officials(election))
    if problems:
        raise Conflict(f"{what} needs the signatures of two officials, each made with their own official "
                       "credential on its page: " + "; ".join(problems))


@dataclass(frozen=True)
class SigningPage:
    """What an official sees before signing a decision: the unsigned object and its digest,
    with the rows of a summary (label, value) the template shows."""

    action: str
    body: dict[str, Any]
    digest: str
    role: str  # "propose" or "approve"
    proposer: str = ""
    official_key: str | None = None
    pending_id: int | None = None
    rows: list[tuple[str, str]] = field(default_factory=list)


def pending(election: Election, action: str) -> PendingAction | None:
    return next((p for p in approvals.pending_for(election) if p.action == action), None)


def page(election: Election, action: str, body: dict[str, Any], role: str, official: Official,
         proposal: PendingAction | None = None) -> SigningPage:
    return SigningPage(action, body, paper_list_digest(body), role,
                       proposer=proposal.proposer.display_name if proposal is not None else "",
                       official_key=pinned_key(election, official),
                       pending_id=proposal.id if proposal is not None else None)


def draft(election: Election, official: Official, action: str, body: dict[str, Any], now: datetime) -> None:
    """Keep ``body`` as ``official``'s draft of ``action`` (replacing an earlier one)."""
    approvals.expire_due(now)
    if pending(election, action) is not None:
        raise approvals.ApprovalRefused("already_proposed")
    row = db.session.scalar(select(DecisionDraft).where(
        DecisionDraft.election_pk == election.id, DecisionDraft.official_pk == official.id,
        DecisionDraft.action == action))
    if row is None:
        row = DecisionDraft(election_pk=election.id, official_pk=official.id, action=action)
        db.session.add(row)
    row.body = canonical_json(body).decode()
    row.created_at = now
    db.session.commit()


def draft_body(election: Election, official: Official, action: str) -> dict[str, Any] | None:
    row = db.session.scalar(select(DecisionDraft).where(
        DecisionDraft.election_pk == election.id, DecisionDraft.official_pk == official.id,
        DecisionDraft.action == action))
    return None if row is None else dict(json.loads(row.body))


def approval_body(election: Election, official: Official, action: str
                  ) -> tuple[PendingAction, dict[str, Any]] | None:
    """The pending object of ``action`` for a second official to check and sign; None if there
    is none or ``official`` proposed it."""
    proposal = pending(election, action)
    if proposal is None or proposal.proposer_pk == official.id:
        return None
    return proposal, paper_list_body(json.loads(proposal.payload or "{}"))


def propose_signed(election: Election, official: Official, action: str, digest: str, signature: str,
                   now: datetime, what: str) -> PendingAction:
    """The official's signature of their draft makes the proposal; its payload is the object
    with that first signature."""
    row = db.session.scalar(select(DecisionDraft).where(
        DecisionDraft.election_pk == election.id, DecisionDraft.official_pk == official.id,
        DecisionDraft.action == action))
    if row is None:
        raise Conflict(f"make {what} first")
    body = json.loads(row.body)
    check_signature(election, official, body, digest, signature, what)
    signed = {**body, "signatures": [{"official": official.username, "signature": signature}]}
    db.session.delete(row)
    return approvals.propose(election, action, official, now, payload=canonical_json(signed).decode())


def approve_signed(pending_id: int, official: Official, action: str, digest: str, signature: str,
                   now: datetime, what: str) -> PendingAction:
    """The second official's signature of the proposed object approves it (four eyes)."""
    proposal = db.session.get(PendingAction, pending_id)
    if proposal is None or proposal.action != action or proposal.state != "pending":
        raise approvals.ApprovalRefused("not_pending")
    proposed = json.loads(proposal.payload or "{}")
    body = paper_list_body(proposed)
    if proposal.proposer_pk != official.id:  # approvals.approve refuses a self-approval, audited
        check_signature(proposal.election, official, body, digest, signature, what)
    signatures = [*proposed.get("signatures", []), {"official": official.username, "signature": signature}]
    return approvals.approve(pending_id, official, now,
                             payload=canonical_json({**body, "signatures": signatures}).decode())
