"""An election's lifecycle: its status and when ballots are accepted.

``draft`` (manifest stored; key ceremony and roll imports) → ``open`` (two officials open the
polls; the empty board gets its first checkpoint, docs/record.md §2.3) → ``closed`` (two
officials close the polls; the final checkpoint is signed, then the paper-vote list, §2.4) →
``tallied`` (the verified record's results are published, record.md §4).  Ballots are accepted
only while the status is ``open`` *and* the manifest's poll window contains the moment
(docs/manifest.md §1 ``poll_window``).
"""
from __future__ import annotations

import enum
from datetime import datetime

from .manifest import PollWindow


class Status(enum.StrEnum):
    """The stored status of an election (the values are what the database holds)."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    TALLIED = "tallied"


#: The allowed status changes; ``closed``/``tallied`` → ``tallied`` is (re)publishing results.
TRANSITIONS: frozenset[tuple[Status, Status]] = frozenset({
    (Status.DRAFT, Status.OPEN),
    (Status.OPEN, Status.CLOSED),
    (Status.CLOSED, Status.TALLIED),
    (Status.TALLIED, Status.TALLIED),
})

#: Statuses in which the election's setup may still change (election key, voter rolls).
SETUP = frozenset({Status.DRAFT})
#: Statuses in which voters may register and sign in for the election (docs/accounts.md §1).
REGISTRATION = frozenset({Status.DRAFT, Status.OPEN})
#: Statuses after the polls have closed (the board is final).
AFTER_CLOSE = frozenset({Status.CLOSED, Status.TALLIED})


def can_move(before: str, after: str) -> bool:
    """True if the status may change from ``before`` to ``after``."""
    return (Status(before), Status(after)) in TRANSITIONS


def polls_open(status: str, window: PollWindow, now: datetime) -> bool:
    """Ballots are accepted: the polls are open and ``now`` is inside the poll window."""
    return status == Status.OPEN and window.contains(now)
