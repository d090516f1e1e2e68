"""Proof verification for the cast API, batched across concurrent casts (docs/protocol.md §7.3).

Checking a ballot's proofs is most of a cast's cost (7-of-228 at 2048 bits: about 0.11 s of one
core), and gmpy2 keeps the GIL while it computes, so a worker process checks one thing at a time
however many threads it has.  Each worker process therefore has one *verifier thread*: a cast
hands its ballot over and waits; the thread takes every ballot waiting at that moment (up to
``max_batch``) and checks them in one batch across ballots (crypto.batch.BatchVerifier), which
costs less per ballot — measured with benchmarks/cast_batch_bench.py (CPU, 7-of-228 at 2048
bits): about 0.10 s alone, 0.077 s per ballot in fours, 0.069 s in eights.  A cast that
arrives while the thread is idle is checked at once, alone: batching never makes a quiet server
slower.

A batch that fails is never held against its other ballots: each is then verified on its own
(crypto.ballot.verify_contest), so one voter's bad ballot is refused with the error naming the
failing proof and every valid ballot of the batch is accepted.  Verification is never skipped or
weakened: the batch equation has the soundness of the per-ballot one (§7.1).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

from crypto.ballot import EncryptedContest, verify_contest
from crypto.batch import BatchVerifier, verify_contest_unbatched
from crypto.errors import InvalidInput
from crypto.paillier import PublicKey

LOG = logging.getLogger("ssbvote.verification")
#: Seconds between two summary lines of batch statistics in the log (and one at exit).
REPORT_EVERY = 60.0

#: At most this many ballots in one batch: 8 gets most of the gain (0.069 s vs 0.10 s per
#: 7-of-228 ballot) while a batch still takes well under a second.
MAX_BATCH = 8


@dataclass
class _Job:
    public_key: PublicKey
    args: tuple[str, str, str, int, int, EncryptedContest]  # election, contest, pseudonym, N, k, ballot
    done: threading.Event = field(default_factory=threading.Event)
    error: Optional[BaseException] = None


class GroupVerifier:
    """One verifier thread per process, started on first use (after gunicorn forks)."""

    def __init__(self, max_batch: int = MAX_BATCH):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.max_batch = max_batch
        self._wake = threading.Condition()
        self._queue: list[_Job] = []
        self._thread: Optional[threading.Thread] = None
        self._pid: Optional[int] = None
        self.batches = 0  # batches checked by this process (for tests and metrics)
        self.ballots = 0
        self.largest_batch = 0
        self._reported = time.monotonic()

    def verify(self, public_key: PublicKey, election_id: str, contest_id: str, pseudonym: str,
               num_candidates: int, max_selections: int, ballot: EncryptedContest) -> None:
        """Return when the ballot's proofs are verified; raise InvalidInput naming the failure."""
        job = _Job(public_key, (election_id, contest_id, pseudonym, num_candidates, max_selections, ballot))
        with self._wake:
            self._start_if_needed()
            self._queue.append(job)
            self._wake.notify()
        job.done.wait()
        if job.error is not None:
            raise job.error

    def _start_if_needed(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        if self._pid is None:
            atexit.register(self.report)
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="ssbvote-verifier", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                jobs = self._queue[:self.max_batch]
                del self._queue[:self.max_batch]
            self.batches += 1
            self.ballots += len(jobs)
            self.largest_batch = max(self.largest_batch, len(jobs))
            try:
                check_jobs(jobs)
            except BaseException as exc:  # a bug: fail these casts (500), keep the thread
                for job in jobs:
                    if not job.done.is_set() and job.error is None:
                        job.error = exc
            finally:
                for job in jobs:
                    job.done.set()
            if time.monotonic() - self._reported >= REPORT_EVERY:
                self.report()

    def report(self) -> None:
        """Log how many ballots this process verified in how many batches."""
        self._reported = time.monotonic()
        if self.batches:
            LOG.info("verifier: %d ballots in %d batches (mean %.2f, largest %d) in process %d",
                     self.ballots, self.batches, self.ballots / self.batches, self.largest_batch, os.getpid())


def check_jobs(jobs: list[_Job]) -> None:
    """Verify ``jobs``, setting each one's ``error`` (None: valid); one batch per public key."""
    by_key: dict[int, list[_Job]] = {}
    for job in jobs:
        by_key.setdefault(job.public_key.n, []).append(job)
    for group in by_key.values():
        batch = BatchVerifier(group[0].public_key)
        added = []
        for job in group:
            try:
                batch.add_contest(*job.args)  # cheap checks now (InvalidInput names them)
            except InvalidInput as exc:
                job.error = exc
                continue
            added.append(job)
        if not added or batch.check():
            continue
        for job in added:  # someone's ballot is bad: judge each on its own
            try:
                if len(added) == 1:
                    verify_contest_unbatched(job.public_key, *job.args)
                else:
                    verify_contest(job.public_key, *job.args)
            except InvalidInput as exc:
                job.error = exc
            else:
                if len(added) == 1:  # pragma: no cover - (V2) is squared: batch and per-proof agree
                    job.error = InvalidInput("ballot: batch verification failed")


_VERIFIER = GroupVerifier()


def verify(public_key: PublicKey, election_id: str, contest_id: str, pseudonym: str,
           num_candidates: int, max_selections: int, ballot: EncryptedContest) -> None:
    """Verify a cast ballot's proofs in this process's verifier (see the module docstring)."""
    _VERIFIER.verify(public_key, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)


def group_verifier() -> GroupVerifier:
    return _VERIFIER


