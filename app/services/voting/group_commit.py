"""Group commit for the board: several concurrent casts appended under one head lock and stored by
one commit (docs/operations.md "The board's group commit", figures in docs/performance.md).

The serial part of a cast is the board append: the head lock (``SELECT … FOR UPDATE`` on the
election's BoardHead row, docs/record.md §2.1) is held until the commit, so one entry per
transaction caps the whole election at one disk flush per ballot.  Here the casts of one worker
process that reach the board together form a *batch*:

* the first cast to arrive becomes the **leader**; the others that arrive meanwhile are
  **followers** and wait;
* the leader waits up to ``window`` seconds for more casts while other appenders of its process
  are still on their way (a lone cast on a quiet server never waits), or until ``max_batch``
  are queued; then it takes the queue (at most ``max_batch``, in arrival order) and appends
  them all with :func:`app.services.voting.board.append_many` — ballot rows, one head lock,
  consecutive ``seq`` and chain hashes, the checkpoints due (record.md §2.3) — in its own
  transaction, and commits **once**;
* only after that commit does each follower get its own outcome: its entry (then it signs its
  receipt) or its own refusal (a stale ``previous``, a revoked credential, a replay, closed
  polls refuse only that ballot).  If the batch's transaction fails, every ballot of the batch
  gets :class:`BoardWriteFailed` (503 busy, the ballot may be sent again) and none a receipt —
  unless the commit is found to have happened after all (the database answered the COMMIT but
  the answer was lost), in which case the stored entries are the receipts' (no receipt without
  a stored ballot, both ways);
* then leadership passes to the first cast still queued.

Batching is per process: N processes (gunicorn workers on several hosts) make N batches at a
time, which take turns on the database's head lock, so the chain cannot fork.  Nothing here is
shared between processes and nothing is kept after a batch: a process killed mid-batch leaves
an uncommitted transaction, which the database rolls back.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

from flask import Flask, current_app
from sqlalchemy import inspect, select

from app.extensions import db
from app.models import BoardEntry, Election
from app.services.errors import BoardWriteFailed, ServiceError
from app.services.voting import board

LOG = logging.getLogger("ssbvote.group_commit")
#: Seconds between two log lines of batch statistics (per process).
REPORT_EVERY = 60.0
EXTENSION = "ssbvote_group_commit"

__all__ = ["EXTENSION", "GroupCommit", "append", "appender", "group_commit", "init_app"]


@dataclass(eq=False)
class _Pending:
    """One append waiting in its election's queue."""

    request: board.Append
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # set (under the lock) when this one is to lead the next batch
    outcome: Optional[board.Outcome] = None


@dataclass
class _Lane:
    """The queue of one election's appends in this process, and whether a leader is at work."""

    queue: list[_Pending] = field(default_factory=list)
    leading: bool = False


class GroupCommit:
    """This process's batcher for one app (one database).  ``window`` in seconds (0 ≤ w ≤ 1),
    ``max_batch`` ≥ 1 (1: one entry per transaction, no batching)."""

    def __init__(self, window: float, max_batch: int):
        if not 0 <= window <= 1:
            raise ValueError("window must be between 0 and 1 second")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.window, self.max_batch = window, max_batch
        self._lock = threading.Condition()
        self._lanes: dict[int, _Lane] = {}
        self._appenders = 0
        self.batches = 0  # committed or failed batches of this process (tests, metrics)
        self.appends = 0
        self.largest = 0
        self.failed = 0
        self._reported = time.monotonic()

    @contextmanager
    def appender(self) -> Iterator[None]:
        """Mark the body as one cast (or benchmark appender) of this process that will reach the
        board soon: a leader waits up to ``window`` for the ones not yet queued."""
        with self._lock:
            self._appenders += 1
        try:
            yield
        finally:
            with self._lock:
                self._appenders -= 1
                self._lock.notify_all()

    def queued(self, election_pk: int) -> int:
        """Appends of this election waiting in this process (tests, metrics)."""
        with self._lock:
            lane = self._lanes.get(election_pk)
            return len(lane.queue) if lane else 0

    def append(self, election: Election, request: board.Append) -> BoardEntry:
        """Append ``request`` with whatever else this process is appending to ``election`` now
        and return its entry once it is committed; raise its refusal (a :class:`ServiceError`).

        The caller must hold no uncommitted changes in its session: if it leads the batch, the
        batch is written and committed in its session.  A follower waits without touching the
        database (with SQLite an open transaction would hold the write lock the leader needs)."""
        pending = _Pending(request)
        identity = inspect(election).identity  # its primary key, without loading an expired row
        key = int(identity[0]) if identity else election.id
        with self._lock:
            lane = self._lanes.setdefault(key, _Lane())
            lane.queue.append(pending)
            if not lane.leading:
                lane.leading = pending.lead = True
            self._lock.notify_all()
        if not pending.lead:
            pending.wake.wait()  # set once: with this append's outcome, or to lead the next batch
        if pending.outcome is None:
            self._lead(election, lane)
        outcome = pending.outcome
        if isinstance(outcome, ServiceError):
            raise outcome
        assert outcome is not None
        return outcome

    def _lead(self, election: Election, lane: _Lane) -> None:
        deadline = time.monotonic() + self.window
        with self._lock:
            while len(lane.queue) < min(self.max_batch, self._appenders):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            batch = lane.queue[:self.max_batch]
            del lane.queue[:self.max_batch]
        try:
            outcomes = self._write(election, [p.request for p in batch])
        except BaseException:  # a bug or the process stopping: nobody waits forever, nobody gets a receipt
            outcomes = [BoardWriteFailed() for _ in batch]
            raise
        finally:
            for pending, outcome in zip(batch, outcomes):
                pending.outcome = outcome
            with self._lock:
                self.batches += 1
                self.appends += len(batch)
                self.largest = max(self.largest, len(batch))
                if lane.queue:
                    successor = lane.queue[0]
                    successor.lead = True
                    successor.wake.set()
                else:
                    lane.leading = False
                report = time.monotonic() - self._reported >= REPORT_EVERY
                if report:
                    self._reported = time.monotonic()
            for pending in batch:
                pending.wake.set()
            if report:
                LOG.info("board: %d ballots in %d group commits (mean %.2f, largest %d, %d failed) in process %d",
                         self.appends, self.batches, self.appends / self.batches, self.largest, self.failed,
                         os.getpid())

    def _write(self, election: Election, requests: Sequence[board.Append]) -> list[board.Outcome]:
        """The batch's one transaction; every outcome decided."""
        outcomes: Optional[list[board.Outcome]] = None
        try:
            outcomes = board.append_many(election, requests)
            db.session.commit()
            return outcomes
        except Exception as exc:
            db.session.rollback()
            with self._lock:
                self.failed += 1
            LOG.warning("board: a group commit of %d ballots failed: %s: %s", len(requests),
                        type(exc).__name__, str(exc)[:300])
            if outcomes is None:
                return [BoardWriteFailed() for _ in requests]
            return _committed_after_all(election, outcomes)


def _committed_after_all(election: Election, outcomes: list[board.Outcome]) -> list[board.Outcome]:
    """After a failed COMMIT: each entry found stored exactly as written (the database committed
    but its answer was lost) keeps its outcome; every other ballot of the batch fails."""
    entries = {o.ballot_hash: o for o in outcomes if isinstance(o, BoardEntry)}
    try:
        stored = set(db.session.execute(select(BoardEntry.seq, BoardEntry.entry_hash).where(
            BoardEntry.election_pk == election.id, BoardEntry.ballot_hash.in_(list(entries)))).all())
        db.session.commit()
    except Exception:
        db.session.rollback()
        stored = set()
    return [o if isinstance(o, BoardEntry) and (o.seq, o.entry_hash) in stored else BoardWriteFailed()
            for o in outcomes]


def init_app(app: Flask) -> None:
    """This process's batcher for ``app`` (``SSBVOTE_BOARD_BATCH_WINDOW_MS``, ``SSBVOTE_BOARD_BATCH_MAX``)."""
    app.extensions[EXTENSION] = GroupCommit(int(app.config.get("BOARD_BATCH_WINDOW_MS", 10)) / 1000,
                                            int(app.config.get("BOARD_BATCH_MAX", 32)))


def group_commit(app: Flask | None = None) -> GroupCommit:
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]


def append(election: Election, request: board.Append) -> BoardEntry:
    """:meth:`GroupCommit.append` in this app's batcher."""
    return group_commit().append(election, request)


def appender() -> AbstractContextManager[None]:
    """:meth:`GroupCommit.appender` of this app's batcher."""
    return group_commit().appender()
