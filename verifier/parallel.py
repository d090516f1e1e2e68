"""Ballot work across CPU cores (multiprocessing pool) — docs/record.md checks 7, 9 and 12.

Only small descriptions of work travel to the workers: for the ballots of the record, the path
of board/ballots.jsonl and the byte offsets of a chunk of lines, which each worker reads itself
(the parent never holds the board).
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Any, Callable, Iterator, Sequence, TypeVar

from verifier import arith
from verifier.batch import BallotJob, BallotVerdict, verify_chunk

T = TypeVar("T")


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


def chunk_size(total: int, processes: int, maximum: int = 16) -> int:
    """Ballots per batch: big enough to share the n-th power, small enough to keep every
    worker busy and the progress bar moving."""
    return max(1, min(maximum, -(-total // (processes * 4))))


def map_chunks(func: Callable[[Any], T], chunks: Sequence[Any], processes: int = 1,
               ordered: bool = False) -> Iterator[T]:
    """``func`` over ``chunks``, in a pool of ``processes`` workers if there is more than one
    chunk (``func`` must be a top-level function; results in order if ``ordered``)."""
    if processes <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield func(chunk)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else None)
    with ctx.Pool(processes=min(processes, len(chunks))) as pool:
        if ordered:
            yield from pool.imap(func, chunks)
        else:
            yield from pool.imap_unordered(func, chunks)


def verify_ballots(n: int, election_id: str, jobs: Sequence[BallotJob], processes: int = 1,
                   batched: bool = True,
                   progress: Callable[[int], None] | None = None,
                   path: str | None = None) -> list[BallotVerdict]:
    """Verify every ballot; ``progress(k)`` is called after each k ballots are done.

    A job whose ``ballot`` is None is read by the worker from line ``offset``/``length`` of
    ``path`` (board/ballots.jsonl)."""
    size = chunk_size(len(jobs), processes)
    chunks = [(n, election_id, list(jobs[i:i + size]), arith.BACKEND == "gmpy2", batched, path)
              for i in range(0, len(jobs), size)]
    out: list[BallotVerdict] = []
    for res in map_chunks(verify_chunk, chunks, processes):
        out.extend(res)
        if progress:
            progress(len(res))
    out.sort(key=lambda v: v.seq)
    return out
