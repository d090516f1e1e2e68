"""Public lookups of the board for anyone, no sign-in (docs/record.md §2.6): an audited ballot for
the check page on a second device (docs/protocol.md §14.4) and a tracker's status (§14.5).

A tracker's status after the close is the counted-set rule of record.md §4.1 —
:func:`election.counted.exclusion`, the one the tally applies — with what the server knows:
its kind, whether it is its credential's latest ballot entry, whether the credential is revoked
and whether the pseudonym is on the signed paper-vote list.  The server checked every ballot's
proofs before accepting it, so "invalid" does not arise here.
"""
from __future__ import annotations

from typing import Any

from app.models import Election
from app.services.administration import authority
from app.services.errors import BadTracker, BallotNotFound
from app.services.voting import board, paper_votes
from app.services.voting.casting import ballot_of
from election import counted
from election.board import KIND_AUDIT, KIND_BALLOT
from election.receipt import is_ballot_hash

ON_BOARD = "on-board"
COUNTED = "counted"

__all__ = ["COUNTED", "ON_BOARD", "audited_ballot", "tracker_status"]


def audited_ballot(election: Election, seq: int) -> dict[str, Any]:
    """``{"entry": <the audit entry>, "ballot": <EncryptedContest>}`` of the audit entry at
    ``seq``; :class:`BallotNotFound` if ``seq`` is not an audit entry.  Public at any time: an
    audited ballot and its seed are published (docs/record.md §2.1)."""
    entry = board.entry_at(election, seq)
    if entry is None or entry.kind != KIND_AUDIT:
        raise BallotNotFound("no audited ballot at this position")
    return {"entry": board.entry_dict(entry, election.election_id), "ballot": ballot_of(entry)}


def tracker_status(election: Election, ballot_hash: str) -> dict[str, Any]:
    """``{"seq", "kind", "status"}`` of the entry whose ballot hash is ``ballot_hash``: "on-board"
    while the board is open; after the close "counted" or the §4.1 reason it is excluded
    ("superseded", "audited", "paper-vote", "revoked")."""
    if not is_ballot_hash(ballot_hash):
        raise BadTracker("a tracker is 64 lowercase hex digits")
    entry = board.entry_by_hash(election, ballot_hash)
    if entry is None:
        raise BallotNotFound("no ballot with this tracker is on the board")
    answer: dict[str, Any] = {"seq": entry.seq, "kind": entry.kind}
    if not board.is_closed(election):
        answer["status"] = ON_BOARD
        return answer
    latest = False
    if entry.kind == KIND_BALLOT:
        current = board.current_credential_entry(election, entry.credential)
        latest = current is not None and current.seq == entry.seq
    revoked = authority.is_revoked(election, entry.credential)
    paper = paper_votes.signed_list(election) or {}
    pseudonyms = paper.get("pseudonyms")
    on_paper = isinstance(pseudonyms, list) and entry.pseudonym in pseudonyms
    reason = counted.exclusion(entry.kind, latest=latest, revoked=revoked, paper_vote=on_paper)
    answer["status"] = COUNTED if reason is None else reason
    return answer
