"""The counted-set rule (docs/record.md §4.1): whether a board entry is counted, and if not, why.

One implementation, shared by the tally (``tally prepare``, the trustees' rebuild, ``tally
preverify``) and the server's tracker lookup (record.md §2.6), so that a tracker's status is
exactly what the record will say.

For each contest every entry is counted or excluded, with the first reason that applies in
this order: ``audited`` (an audit entry, docs/protocol.md §14: never counted), ``revoked`` (its
credential was revoked by the CA, §6.3), ``paper-vote`` (its pseudonym is on the paper list,
§2.4), ``superseded`` (not its credential's latest *ballot* entry, §2.2), ``invalid: <why>``
(its proofs fail; only a credential's latest ballot is checked).
"""
from __future__ import annotations

from typing import Optional

from .board import KIND_AUDIT, KIND_BALLOT

AUDITED = "audited"
REVOKED = "revoked"
PAPER_VOTE = "paper-vote"
SUPERSEDED = "superseded"
INVALID = "invalid"
#: Every reason, in the order of precedence (``invalid`` is written ``invalid: <why>``).
REASONS = (AUDITED, REVOKED, PAPER_VOTE, SUPERSEDED, INVALID)


def exclusion(kind: str, *, latest: bool, revoked: bool, paper_vote: bool,
              invalid: Optional[str] = None) -> Optional[str]:
    """The reason the entry is excluded, or None if it is counted (record.md §4.1).

    ``kind``: the entry's kind; ``latest``: it is its credential's highest-seq ballot entry;
    ``revoked``: its credential is revoked; ``paper_vote``: its pseudonym is on the paper list;
    ``invalid``: why its proofs fail (None: valid, or not checked)."""
    if kind == KIND_AUDIT:
        return AUDITED
    if kind != KIND_BALLOT:
        raise ValueError(f"unknown entry kind {kind!r}")
    if revoked:
        return REVOKED
    if paper_vote:
        return PAPER_VOTE
    if not latest:
        return SUPERSEDED
    if invalid is not None:
        return f"{INVALID}: {invalid}"
    return None


def to_count(kind: str, *, latest: bool, revoked: bool, paper_vote: bool) -> bool:
    """True if the entry is counted unless its proofs fail: the ballots the tally verifies and
    aggregates (record.md §4.1)."""
    return exclusion(kind, latest=latest, revoked=revoked, paper_vote=paper_vote) is None
