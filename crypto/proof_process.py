"""Ballot proofs checked in a child process (docs/protocol.md §7.3; docs/operations.md "Casting capacity").

gmpy2 holds the GIL while it computes, so proof checking inside a web worker process competes
with the worker's request threads for one interpreter lock, and costs more per ballot there than
in a process of its own (docs/performance.md, session 9).  A :class:`ProofProcess` is one child
process that checks batches for its parent: the parent sends each ballot as its canonical JSON
bytes (docs/protocol.md §2.1, §9.3) with its statement's fields (key n, election, contest,
party, N, k); the child parses them (crypto.ballot.parse_canonical_ballot, the strict parser for
anything else) and runs :func:`crypto.verify_many` — the same function, the same policy, the
same error per ballot as when the parent calls it itself.  It returns only, per position, the
error of a ballot that fails (an :class:`InvalidInput`), and its CPU time.  The parent takes that
verdict as its own: the child is the same code in the same trust boundary (the server's), and a
server that accepted a bad ballot would be caught by the independent verifier, which re-checks
every counted ballot's proofs (docs/record.md, verifier check 9).

The child is started with the ``spawn`` method (no copy of the parent's threads or
connections), on first use and again after the parent forked; a child that dies is replaced and
the batch sent once more, then :class:`ProofProcessLost` is raised.  The child exits when its
parent's end of the pipe closes (the parent exited or was killed).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Callable, Optional, Sequence

from .ballot import EncryptedContest, parse_canonical_ballot
from .batch import verify_many
from .errors import CryptoError, InvalidInput
from .paillier import PublicKey
from .statement import ContestStatement

#: One ballot to check: (n, allow_insecure_test_key, election_id, contest_id, party,
#: num_candidates, max_selections, canonical JSON of the ballot).
Item = tuple[int, bool, str, str, str, int, int, bytes]


class ProofProcessLost(CryptoError):
    """The proof process died twice while checking one batch (the batch is not decided)."""


def item(statement: ContestStatement, canonical: bytes) -> Item:
    """The wire form of one ballot with its statement."""
    key = statement.public_key
    return (key.n, key.allow_insecure_test_key, statement.election_id, statement.contest_id, statement.party,
            statement.num_candidates, statement.max_selections, canonical)


class _Keys:
    """Public keys by (n, insecure): built (and validated) once per child, with their tables."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, bool], PublicKey] = {}

    def get(self, n: int, insecure: bool) -> PublicKey:
        key = self._keys.get((n, insecure))
        if key is None:
            key = self._keys[(n, insecure)] = PublicKey(n, insecure)
        return key


def check_items(items: Sequence[Item], keys: Optional[_Keys] = None) -> dict[int, InvalidInput]:
    """The error of each ballot of ``items`` that fails, by position (empty: all valid):
    parsed from its canonical bytes, then :func:`crypto.verify_many` over the parsed ones."""
    keys = keys or _Keys()
    errors: dict[int, InvalidInput] = {}
    parsed: list[tuple[int, ContestStatement, EncryptedContest]] = []
    for position, (n, insecure, election_id, contest_id, party, candidates, selections, data) in enumerate(items):
        try:
            key = keys.get(n, insecure)
            statement = ContestStatement(key, election_id, contest_id, party, candidates, selections)
            ballot = parse_canonical_ballot(data, key, candidates, selections)
            if ballot is None:  # not the canonical skeleton: the strict parser names the problem
                ballot = EncryptedContest.from_json(data, key)
        except InvalidInput as exc:
            errors[position] = exc
            continue
        parsed.append((position, statement, ballot))
    for index, error in verify_many((s, b) for _, s, b in parsed).items():
        errors[parsed[index][0]] = error
    return errors


def serve(connection: Connection) -> None:
    """The child's loop: a batch in, ``(errors, CPU seconds)`` out, until the pipe closes."""
    keys = _Keys()
    while True:
        try:
            items = connection.recv()
        except (EOFError, OSError):
            return
        started = time.process_time()
        try:
            errors: Any = check_items(items, keys)
        except Exception as exc:  # a bug: reported to the parent, which fails the batch
            errors = RuntimeError(f"proof process: {type(exc).__name__}: {exc}")
        connection.send((errors, time.process_time() - started))


class ProofProcess:
    """The parent's handle on one child process.  :meth:`check` is called by one thread at a
    time (the verifier thread); a lock guards it anyway."""

    def __init__(self, target: Callable[[Connection], None] = serve) -> None:
        self._target = target  # the child's loop (tests give one that fails)
        self._lock = threading.Lock()
        self._connection: Optional[Connection] = None
        self._process: Optional[Any] = None
        self._pid: Optional[int] = None  # the parent's pid when the child was started

    def check(self, items: Sequence[Item]) -> tuple[dict[int, InvalidInput], float]:
        """``(errors by position, the child's CPU seconds)`` for ``items``; a child lost while
        checking is replaced and the batch sent again once, then ProofProcessLost."""
        with self._lock:
            for attempt in (1, 2):
                connection = self._ensure()
                try:
                    connection.send(list(items))
                    errors, cpu = connection.recv()
                except (EOFError, OSError):
                    self._discard()
                    if attempt == 2:
                        raise ProofProcessLost("the proof process stopped while checking a batch")
                    continue
                if isinstance(errors, BaseException):
                    raise errors
                return errors, cpu
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def pid(self) -> Optional[int]:
        """The child's pid, if one is running for this process."""
        process = self._process
        return process.pid if process is not None and self._pid == os.getpid() else None

    def _ensure(self) -> Connection:
        if self._connection is not None and self._pid == os.getpid() and self._process is not None \
                and self._process.is_alive():
            return self._connection
        self._discard()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(target=self._target, args=(child,), name="ssbvote-proofs", daemon=True)
        process.start()
        child.close()
        self._connection, self._process, self._pid = parent, process, os.getpid()
        return parent

    def _discard(self) -> None:
        """Forget the child (ours: close our end so it exits, and reap it)."""
        connection, process, pid = self._connection, self._process, self._pid
        self._connection = self._process = self._pid = None
        if pid != os.getpid():
            return  # inherited across a fork: the parent's child, not ours to stop
        if connection is not None:
            connection.close()
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    def stop(self) -> None:
        with self._lock:
            self._discard()
