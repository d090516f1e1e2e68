"""Ballot-proof verification across CPU cores (multiprocessing pool) — docs/record.md check 9."""
from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Sequence

from verifier import arith
from verifier.batch import BallotJob, BallotVerdict, verify_chunk


def default_processes() -> int:
    return max(1, os.cpu_count() or 1)


def chunk_size(total: int, processes: int, maximum: int = 16) -> int:
    """Ballots per batch: big enough to share the n-th power, small enough to keep every
    worker busy and the progress bar moving."""
    return max(1, min(maximum, -(-total // (processes * 4))))


def verify_ballots(n: int, election_id: str, jobs: Sequence[BallotJob], processes: int = 1,
                   batched: bool = True,
                   progress: Callable[[int], None] | None = None) -> list[BallotVerdict]:
    """Verify every ballot; ``progress(k)`` is called after each k ballots are done."""
    size = chunk_size(len(jobs), processes)
    chunks = [(n, election_id, list(jobs[i:i + size]), arith.BACKEND == "gmpy2", batched)
              for i in range(0, len(jobs), size)]
    out: list[BallotVerdict] = []
    if processes <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            res = verify_chunk(chunk)
            out.extend(res)
            if progress:
                progress(len(res))
        return out
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                      else None)
    with ctx.Pool(processes=min(processes, len(chunks))) as pool:
        for res in pool.imap_unordered(verify_chunk, chunks):
            out.extend(res)
            if progress:
                progress(len(res))
    out.sort(key=lambda v: v.seq)
    return out
