"""Admission control for the cast API: answer "busy" at once rather than queue into timeouts.

Verifying a 7-of-228 ballot at 2048 bits costs about a tenth of a second of one core, and gmpy2
keeps the GIL while it computes, so a worker process verifies one batch at a time however many
threads it has (app/services/voting/verification.py). Without a bound, a burst above the server's rate
piles up in gunicorn's queues and every caller waits until its client or gunicorn times out.

Each worker process therefore admits at most ``CAST_MAX_INFLIGHT`` casts at once (parsing,
waiting for or in verification, appending to the board). A cast that finds the worker full is
refused with :class:`~app.services.errors.Busy` — 503 ``{"error": "busy"}`` and a ``Retry-After``
header (app/views/errors.py) — before any work is done;
nothing is written. The admitted casts overlap: while the verifier thread checks one batch, the
others parse their ballots or write to the database. Serve with ``gthread`` workers and more
threads than ``CAST_MAX_INFLIGHT`` (``ssbvote serve``: 8 threads, 6 casts), so that a full
worker still has a thread to say "busy"; with ``sync`` workers overload waits in the listen
backlog instead.

Proof verification is never skipped or deferred: admission decides only *whether* a cast is
taken now, never *how* it is checked.
"""
from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app

from app.services.errors import Busy

__all__ = ["EXTENSION", "AdmissionGate", "Busy", "gate", "init_app"]

EXTENSION = "ssbvote_admission"


class AdmissionGate:
    """A per-process bound on concurrent casts, with non-blocking admission.

    ``retry_after`` is an estimate (whole seconds, at least ``min_retry_after``) of how long the
    admitted casts will take to clear, from a moving average of recent cast durations.
    """

    def __init__(self, max_inflight: int, min_retry_after: int = 1, max_retry_after: int = 30):
        if max_inflight < 1:
            raise ValueError("max_inflight must be at least 1")
        self.max_inflight = max_inflight
        self.min_retry_after = min_retry_after
        self.max_retry_after = max_retry_after
        self._admitted = threading.BoundedSemaphore(max_inflight)
        self._lock = threading.Lock()
        self._inflight = 0
        self._cast_seconds = 0.5  # moving average of one admitted cast's duration
        self.rejected = 0

    @property
    def inflight(self) -> int:
        return self._inflight

    def retry_after(self) -> int:
        return max(self.min_retry_after, min(self.max_retry_after, math.ceil(self._cast_seconds)))

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a slot for the body of the ``with``; raise :class:`Busy` if there is none."""
        if not self._admitted.acquire(blocking=False):
            with self._lock:
                self.rejected += 1
            raise Busy(self.retry_after())
        with self._lock:
            self._inflight += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._inflight -= 1
                self._cast_seconds = 0.8 * self._cast_seconds + 0.2 * elapsed
            self._admitted.release()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = AdmissionGate(
        int(app.config.get("CAST_MAX_INFLIGHT", 6)),
        min_retry_after=int(app.config.get("CAST_RETRY_AFTER", 1)),
    )


def gate(app: Flask | None = None) -> AdmissionGate:
    """This worker process's gate for casts."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]

