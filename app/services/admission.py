"""Admission control for the cast API: answer "busy" at once rather than queue into timeouts.

Verifying a 7-of-228 ballot at 2048 bits costs a few hundred milliseconds of one core, and
gmpy2 keeps the GIL during each modular exponentiation, so one worker process verifies one
ballot at a time however many threads it has. Without a bound, a burst above the server's rate
piles up in gunicorn's queues and every caller waits until its client or gunicorn times out.

Each worker process therefore admits at most ``CAST_MAX_INFLIGHT`` casts (verifying or waiting
for their turn); of those, at most ``CAST_MAX_ACTIVE`` run at once (1: the GIL would only
interleave them, making every one of them slower). A cast that finds the worker full is refused
with 503 ``{"error": "busy"}`` and a ``Retry-After`` header, before any work is done; nothing is
written. With gunicorn's ``sync`` workers a worker handles one request at a time, so the bound
can never be reached and overload waits in the listen backlog: serve with ``gthread`` workers
(``--worker-class gthread --threads 4``), as ``ssbvote serve`` and the simulator do.

Proof verification is never skipped or deferred: admission decides only *whether* a cast is
taken now, never *how* it is checked.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

from flask import Flask, current_app, jsonify, request
from flask_babel import gettext as _

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

EXTENSION = "ssbvote_admission"


class Busy(Exception):
    """The worker has no free cast slot; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy; try again in {retry_after} s")
        self.retry_after = retry_after


class AdmissionGate:
    """A per-process bound on concurrent casts: non-blocking admission, serialised work.

    ``retry_after`` is an estimate (whole seconds, at least ``min_retry_after``) of how long the
    admitted casts will take, from a moving average of recent service times.
    """

    def __init__(self, max_inflight: int, max_active: int = 1, min_retry_after: int = 1,
                 max_retry_after: int = 30):
        if max_inflight < 1 or max_active < 1:
            raise ValueError("max_inflight and max_active must be at least 1")
        self.max_inflight = max_inflight
        self.max_active = min(max_active, max_inflight)
        self.min_retry_after = min_retry_after
        self.max_retry_after = max_retry_after
        self._admitted = threading.BoundedSemaphore(max_inflight)
        self._active = threading.BoundedSemaphore(self.max_active)
        self._lock = threading.Lock()
        self._inflight = 0
        self._service_seconds = 0.5  # moving average of one cast's work
        self.rejected = 0

    @property
    def inflight(self) -> int:
        return self._inflight

    def retry_after(self) -> int:
        backlog = self._service_seconds * max(1, self._inflight) / self.max_active
        return max(self.min_retry_after, min(self.max_retry_after, math.ceil(backlog)))

    @contextmanager
    def admit(self, before_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold a slot for the body of the ``with``; raise :class:`Busy` if there is none.

        ``before_wait`` runs if the cast must wait for its turn: the caller must not hold
        database locks while it waits (SQLite's write lock would deadlock the running cast).
        """
        if not self._admitted.acquire(blocking=False):
            with self._lock:
                self.rejected += 1
            raise Busy(self.retry_after())
        with self._lock:
            self._inflight += 1
        try:
            if not self._active.acquire(blocking=False):
                if before_wait is not None:
                    before_wait()
                self._active.acquire()
            started = time.perf_counter()
            try:
                yield
            finally:
                self._active.release()
                elapsed = time.perf_counter() - started
                with self._lock:
                    self._service_seconds = 0.8 * self._service_seconds + 0.2 * elapsed
        finally:
            with self._lock:
                self._inflight -= 1
            self._admitted.release()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = AdmissionGate(
        int(app.config.get("CAST_MAX_INFLIGHT", 2)),
        int(app.config.get("CAST_MAX_ACTIVE", 1)),
        min_retry_after=int(app.config.get("CAST_RETRY_AFTER", 1)),
    )


def gate(app: Flask | None = None) -> AdmissionGate:
    """This worker process's gate for casts."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]


def admitted(view: F) -> F:
    """Run ``view`` holding a cast slot of this worker, or answer 503 "busy" at once.

    Apply it outside ``limiter.limit``: Flask-Limiter rewrites ``Retry-After`` on responses of
    rate-limited views to the end of the limit's window (up to an hour), and a refused cast
    should not use up the voter's allowance either.
    """
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            # The sign-in check only read; end that transaction before a wait for our turn.
            with gate().admit(before_wait=db.session.rollback):
                return view(*args, **kwargs)
        except Busy as exc:
            # Read the ballot we refuse: a server that answers and closes while the client is
            # still sending makes the client's TCP stack reset the connection, losing the answer.
            while request.stream.read(1 << 16):
                pass
            response = jsonify({
                "error": "busy",
                "message": _("The server is busy. Your ballot was not cast; "
                             "please try again in a moment."),
                "retry_after": exc.retry_after,
            })
            response.status_code = 503
            response.headers["Retry-After"] = str(exc.retry_after)
            return response

    return wrapped  # type: ignore[return-value]
