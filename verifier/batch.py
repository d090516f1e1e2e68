"""Batch verification of (V2) across ballots, with per-proof fallback — docs/protocol.md §7.

Worker entry point :func:`verify_chunk` runs in a ``multiprocessing`` pool
(:mod:`verifier.parallel`); it must stay a top-level, picklable function.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Sequence

from verifier import arith
from verifier.errors import InvalidInput
from verifier.multiexp import multiexp
from verifier.proofs import (ContestBallot, InvalidProof, check_static, check_v2_per_proof,
                             parse_ballot)

WEIGHT_BITS = 64


def batch_holds(ballots: Sequence[ContestBallot], n: int) -> bool:
    """One squared batch equation for every branch of every ballot (§7.1).

        L = (∏_b z_b^(δ_b) mod n)^n mod n²
        R = ∏_b a_b^(δ_b) · ∏_i c_i^(E_i) · g^(−Σ_b j_b·δ_b·e_b) mod n²
        accept iff L² ≡ R² (mod n²)

    δ_b are fresh 64-bit weights from ``secrets``, drawn after the proofs are fixed.
    """
    nn = arith.mpz(n)
    n2 = nn * nn
    z_bases: list[int] = []
    a_bases: list[int] = []
    weights: list[int] = []
    c_bases: list[int] = []
    c_exps: list[int] = []
    g_exp = 0
    for ballot in ballots:
        sp = ballot.sum_proof
        sum_part = 0
        for j, (a, e, z) in enumerate(zip(sp.commitments, sp.challenges, sp.responses)):
            d = secrets.randbits(WEIGHT_BITS)
            z_bases.append(z)
            a_bases.append(a)
            weights.append(d)
            sum_part += d * e
            g_exp += j * d * e
        for c, p in zip(ballot.ciphertexts, ballot.proofs):
            exp_c = sum_part
            for j, (a, e, z) in enumerate(zip(p.commitments, p.challenges, p.responses)):
                d = secrets.randbits(WEIGHT_BITS)
                z_bases.append(z)
                a_bases.append(a)
                weights.append(d)
                exp_c += d * e
                g_exp += j * d * e
            c_bases.append(c)
            c_exps.append(exp_c)
    left = arith.powmod(multiexp(z_bases, weights, nn), nn, n2)
    right = multiexp(a_bases, weights, n2) * multiexp(c_bases, c_exps, n2) % n2
    right = right * arith.g_pow(-g_exp, n, n2) % n2
    return bool(left * left % n2 == right * right % n2)


@dataclass(frozen=True)
class BallotJob:
    """One ballot to verify, with its context from the board and N, k from the manifest."""

    seq: int
    contest_id: str
    pseudonym: str
    num_candidates: int
    max_selections: int
    ballot: Any  # the ballot's JSON object (§9.3), parsed here; None: read it at offset
    offset: int = 0  # of its line in board/ballots.jsonl (when ``ballot`` is None)
    length: int = 0


@dataclass(frozen=True)
class BallotVerdict:
    """``where`` is a candidate index as a string, ``"sum"``, or None for the whole ballot."""

    seq: int
    ok: bool
    where: str | None = None
    reason: str | None = None


def _job_ballot(job: BallotJob, handle: Any) -> Any:
    if job.ballot is not None or handle is None:
        return job.ballot
    handle.seek(job.offset)
    line = json.loads(handle.read(job.length))  # strictly parsed once already (record.py)
    return line.get("ballot") if isinstance(line, dict) else None


def verify_chunk(args: tuple[Any, ...]) -> list[BallotVerdict]:
    """Verify a chunk of ballots: static checks per ballot, then one batch for the chunk;
    if the batch fails, each ballot alone, then per proof to name the candidate (§7.3).

    ``args``: (n, election_id, jobs, use_gmpy2, batched[, path]); jobs without a ballot are
    read from their line of ``path``, one at a time (only the parsed integers are kept)."""
    n, election_id, jobs, use_gmpy2, batched = args[:5]
    path = args[5] if len(args) > 5 else None
    if (arith.BACKEND == "gmpy2") != use_gmpy2:
        arith.use_gmpy2(use_gmpy2)
    handle = open(path, "rb") if path is not None else None
    try:
        return _verify_jobs(n, election_id, jobs, batched, handle)
    finally:
        if handle is not None:
            handle.close()


def _verify_jobs(n: int, election_id: str, jobs: Sequence[BallotJob], batched: bool,
                 handle: Any) -> list[BallotVerdict]:
    verdicts: dict[int, BallotVerdict] = {}
    pending: list[tuple[int, ContestBallot]] = []
    for job in jobs:
        try:
            ballot = parse_ballot(_job_ballot(job, handle), job.num_candidates,
                                  job.max_selections)
            check_static(ballot, n, election_id, job.contest_id, job.pseudonym,
                         job.max_selections)
        except InvalidInput as exc:
            verdicts[job.seq] = BallotVerdict(job.seq, False, exc.where, str(exc))
            continue
        if batched:
            pending.append((job.seq, ballot))
        else:
            verdicts[job.seq] = _per_proof(job.seq, ballot, n)
    if pending:
        if batch_holds([b for _, b in pending], n):
            for seq, _ in pending:
                verdicts[seq] = BallotVerdict(seq, True)
        else:
            for seq, ballot in pending:
                if len(pending) > 1 and batch_holds([ballot], n):
                    verdicts[seq] = BallotVerdict(seq, True)
                else:
                    verdicts[seq] = _per_proof(seq, ballot, n)
    return [verdicts[job.seq] for job in jobs]


def _per_proof(seq: int, ballot: ContestBallot, n: int) -> BallotVerdict:
    try:
        check_v2_per_proof(ballot, n)
    except InvalidProof as exc:
        return BallotVerdict(seq, False, exc.where, str(exc))
    return BallotVerdict(seq, True)
