"""Ballot work across CPU cores (multiprocessing pool) — docs/record.md checks 7, 9 and 12.

Only small descriptions of work travel to the workers: for the ballots of the record, the path
of board/ballots.jsonl and the byte offsets of a chunk of lines, which each worker reads itself
(the parent never holds the board).
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from verifier import arith
from verifier.batch import BallotJob, BallotVerdict, verify_chunk

T = TypeVar("T")


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


#: Ballots per batch at most (docs/protocol.md §7.3): a bigger batch shares the buckets of the
#: multi-exponentiation and the n-th power among more ballots (7-of-228 at 2048 bits: see
#: benchmarks/verifier_bench.py); a worker holds its chunk's parsed ballots, ~0.6 MB each.
MAX_BATCH = 256


def chunk_size(total: int, processes: int, maximum: int = MAX_BATCH) -> int:
    """Ballots per batch: up to ``maximum``, fewer when the ballots would not give every
    worker two chunks (to keep them all busy and the progress bar moving)."""
    return max(1, min(maximum, -(-total // (processes * 2))))


def map_chunks(func: Callable[[Any], T], chunks: Iterable[Any], processes: int = 1,
               ordered: bool = False) -> Iterator[T]:
    """``func`` over ``chunks``, in a pool of ``processes`` workers if there is more than one
    chunk (``func`` must be a top-level function; results in order if ``ordered``).

    ``chunks`` may be a generator: the pool takes chunks from it as workers need them (the
    task pipe holds a few), so the chunks are never all held."""
    it = iter(chunks)
    head = list(itertools.islice(it, 2))
    if processes <= 1 or len(head) <= 1:
        for chunk in itertools.chain(head, it):
            yield func(chunk)
        return
    if isinstance(chunks, Sequence):
        processes = min(processes, len(chunks))
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else None)
    with ctx.Pool(processes=processes) as pool:
        if ordered:
            yield from pool.imap(func, itertools.chain(head, it))
        else:
            yield from pool.imap_unordered(func, itertools.chain(head, it))


def iter_verdicts(n: int, election_id: str, jobs: Iterable[BallotJob], total: int,
                  processes: int = 1, batched: bool = True,
                  progress: Callable[[int], None] | None = None,
                  path: str | None = None,
                  batch_size: int | None = None) -> Iterator[BallotVerdict]:
    """Verify ``total`` ballots, in the order of ``jobs`` (which may be a generator: only the
    chunks in flight are held); ``progress(k)`` is called after each k ballots are done.
    Each chunk of :func:`chunk_size` (or ``batch_size``) ballots is one batch.

    A job whose ``ballot`` is None is read by the worker from line ``offset``/``length`` of
    ``path`` (board/ballots.jsonl)."""
    size = batch_size or chunk_size(total, processes)
    use_gmpy2 = arith.BACKEND == "gmpy2"
    it = iter(jobs)
    chunks = ((n, election_id, chunk, use_gmpy2, batched, path)
              for chunk in iter(lambda: list(itertools.islice(it, size)), []))
    for res in map_chunks(verify_chunk, chunks, processes, ordered=True):
        if progress:
            progress(len(res))
        yield from res


def verify_ballots(n: int, election_id: str, jobs: Sequence[BallotJob], processes: int = 1,
                   batched: bool = True,
                   progress: Callable[[int], None] | None = None,
                   path: str | None = None,
                   batch_size: int | None = None) -> list[BallotVerdict]:
    """Verify every ballot (:func:`iter_verdicts`); the verdicts sorted by seq."""
    out = list(iter_verdicts(n, election_id, jobs, len(jobs), processes, batched, progress,
                             path, batch_size))
    out.sort(key=lambda v: v.seq)
    return out
