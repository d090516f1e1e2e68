"""Proof verification for the cast API, batched across concurrent casts (docs/protocol.md §7.3).

Checking a ballot's proofs is most of a cast's cost, and gmpy2 keeps the GIL while it computes, so a worker process checks one thing at a time
however many threads it has.  Each worker process therefore has one *verifier thread*: a cast
hands its ballot over and waits; the thread takes every ballot waiting at that moment (up to
``max_batch``) and checks them in one batch across ballots (crypto.verify_many), which
costs less per ballot (benchmarks/cast_batch_bench.py; figures in docs/performance.md).

The batch is checked in the worker's *proof process* (crypto/proof_process.py), a child process
of its own, fed each ballot's canonical JSON: there the proofs do not compete with the worker's
request threads for the GIL, which made them cost up to half as much again per ballot inside a
busy worker (docs/performance.md, session 9).  The verifier thread only waits on the pipe
meanwhile.  A proof process that dies is replaced and the batch sent again; if that fails too,
the batch's casts get :class:`app.services.errors.VerifierUnavailable` (503, send again).

Under load the thread *lingers* before a batch, so that batches grow: up to ``linger`` seconds
(default 0.1) it waits while another cast of this process is still on its way to the queue
(receiving or parsing its ballot), or while the batch is smaller than ``min_batch`` (default 3)
and other casts are in progress in this process.  A lone cast on a quiet server has nobody to
wait for and is checked at once: batching never makes a quiet server slower (the effect on
throughput: benchmarks/load_cast.py, docs/performance.md).

A batch that fails is never held against its other ballots: crypto.verify_many bisects it, with
fresh weights, down to the ballots that fail alone, so one voter's bad ballot is refused with the
error naming the failing proof and every valid ballot of the batch is accepted.  Verification is
never skipped or weakened: the batch equation has the soundness of the per-ballot one (protocol.md §7.1).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from crypto import ContestStatement, EncryptedContest
from crypto.proof_process import ProofProcess, item

LOG = logging.getLogger("ssbvote.verification")
#: Seconds between two summary lines of batch statistics in the log (and one at exit).
REPORT_EVERY = 60.0

#: At most this many ballots in one batch (``SSBVOTE_VERIFY_MAX_BATCH``): 16 gets most of the
#: gain while a batch still takes under 1.5 s (docs/performance.md, batch sizes).
MAX_BATCH = 16
#: Under load, wait for a batch of at least this many (see the module docstring) …
MIN_BATCH = 3
#: … but never longer than this many seconds.
LINGER_SECONDS = 0.1


@dataclass
class _Job:
    statement: ContestStatement
    ballot: Optional[EncryptedContest]  # None: only its canonical JSON is known (the proof process parses it)
    canonical: Optional[bytes] = None  # the ballot's canonical JSON (None: encoded when checked)
    done: threading.Event = field(default_factory=threading.Event)
    error: Optional[BaseException] = None


class GroupVerifier:
    """One verifier thread per process, started on first use (after gunicorn forks)."""

    def __init__(self, max_batch: int = MAX_BATCH, min_batch: int = MIN_BATCH,
                 linger: float = LINGER_SECONDS):
        self.configure(max_batch, min_batch, linger)
        self._wake = threading.Condition()
        self._queue: list[_Job] = []
        self._active = 0  # casts inside cast_in_progress() in this process
        self._coming = 0  # … of which not yet handed to verify()
        self._local = threading.local()
        self._thread: Optional[threading.Thread] = None
        self._pid: Optional[int] = None
        self.batches = 0  # batches checked by this process (for tests and metrics)
        self.ballots = 0
        self.largest_batch = 0
        self.cpu_seconds = 0.0  # the verifier thread's CPU time in check_jobs (thread_time)
        self._reported = time.monotonic()

    def configure(self, max_batch: int, min_batch: int, linger: float) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if not 1 <= min_batch <= max_batch:
            raise ValueError("min_batch must be between 1 and max_batch")
        if not 0 <= linger <= 5:
            raise ValueError("linger must be between 0 and 5 seconds")
        self.max_batch, self.min_batch, self.linger = max_batch, min_batch, linger

    @contextmanager
    def cast_in_progress(self) -> Iterator[None]:
        """Mark the body as one cast of this process, whose ballot may soon reach :meth:`verify`
        (the verifier thread lingers for it under load)."""
        with self._wake:
            self._active += 1
            self._coming += 1
        self._local.coming = True
        try:
            yield
        finally:
            with self._wake:
                self._active -= 1
                if self._local.coming:  # refused before its proofs were checked
                    self._coming -= 1
                self._local.coming = False
                self._wake.notify()

    def verify(self, statement: ContestStatement, ballot: Optional[EncryptedContest],
               canonical: Optional[bytes] = None) -> None:
        """Return when the ballot's proofs are verified; raise InvalidInput naming the failure
        (a value out of range too, when only ``canonical`` is given), ProofProcessLost when
        undecided.  ``canonical``: the ballot's canonical JSON, if the caller has it (it is what
        the proof process reads); at least one of the two."""
        if ballot is None and canonical is None:
            raise ValueError("verify needs the ballot or its canonical JSON")
        job = _Job(statement, ballot, canonical)
        with self._wake:
            self._start_if_needed()
            self._queue.append(job)
            if getattr(self._local, "coming", False):
                self._local.coming = False
                self._coming -= 1
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
                self._linger()
                jobs = self._queue[:self.max_batch]
                del self._queue[:self.max_batch]
            self.batches += 1
            self.ballots += len(jobs)
            self.largest_batch = max(self.largest_batch, len(jobs))
            started = time.thread_time()
            try:
                started -= check_jobs(jobs)  # the proof process's CPU counts as this thread's
            except BaseException as exc:  # ProofProcessLost (503) or a bug (500): fail these casts, keep the thread
                for job in jobs:
                    if not job.done.is_set() and job.error is None:
                        job.error = exc
            finally:
                self.cpu_seconds += time.thread_time() - started
                for job in jobs:
                    job.done.set()
            if time.monotonic() - self._reported >= REPORT_EVERY:
                self.report()

    def _linger(self) -> None:
        """Wait (holding ``_wake``) while a bigger batch is worth it, at most ``linger`` seconds:
        while a cast of this process is still coming, or while the batch is below ``min_batch``
        and other casts are in progress."""
        deadline = time.monotonic() + self.linger
        while len(self._queue) < self.max_batch and (
                self._coming > 0 or len(self._queue) < min(self.min_batch, self._active)):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)

    def report(self) -> None:
        """Log how many ballots this process verified in how many batches."""
        self._reported = time.monotonic()
        if self.batches:
            LOG.info("verifier: %d ballots in %d batches (mean %.2f, largest %d), %.1f ms CPU per ballot "
                     "in process %d", self.ballots, self.batches, self.ballots / self.batches,
                     self.largest_batch, 1000 * self.cpu_seconds / self.ballots, os.getpid())


def check_jobs(jobs: list[_Job]) -> float:
    """Verify ``jobs`` in this process's proof process, setting each one's ``error`` (None:
    valid): crypto.verify_many there (one batch per public key, a failed batch bisected down to
    the ballots that fail alone).  Returns the proof process's CPU seconds."""
    errors, cpu = _PROOFS.check([item(job.statement, _canonical(job)) for job in jobs])
    for position, error in errors.items():
        jobs[position].error = error
    return cpu


def _canonical(job: _Job) -> bytes:
    if job.canonical is not None:
        return job.canonical
    assert job.ballot is not None  # verify() takes one or the other
    return job.ballot.to_json()


#: This process's proof process (crypto/proof_process.py), started on first use (after gunicorn forks).
_PROOFS = ProofProcess()
_VERIFIER = GroupVerifier()


def verify(statement: ContestStatement, ballot: Optional[EncryptedContest], canonical: Optional[bytes] = None) -> None:
    """Verify a cast ballot's proofs in this process's verifier (see the module docstring)."""
    _VERIFIER.verify(statement, ballot, canonical)


def group_verifier() -> GroupVerifier:
    return _VERIFIER


def configure(min_batch: int, linger: float, max_batch: int = MAX_BATCH) -> None:
    """Set this process's batching policy (``SSBVOTE_VERIFY_MIN_BATCH``, ``SSBVOTE_VERIFY_LINGER_MS``,
    ``SSBVOTE_VERIFY_MAX_BATCH``)."""
    _VERIFIER.configure(max_batch, min_batch, linger)


def cast_in_progress() -> Any:
    """Context manager around one cast: see :meth:`GroupVerifier.cast_in_progress`."""
    return _VERIFIER.cast_in_progress()


