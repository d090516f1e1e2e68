"""Batch verification of (V2) across ballots, with bisection and per-ballot fallback —
docs/protocol.md §7.

A chunk of ballots (up to a few hundred, :mod:`verifier.parallel`) is checked with one squared
batch equation (protocol.md §7.1), whose multi-exponentiation results also give the unit check of protocol.md §5.4 step 3.
A failed batch is bisected, halves re-checked with fresh weights, down to single ballots, which
are then judged alone by the per-ballot checks (:func:`verifier.proofs.check_static`, then (V2)),
so that every invalid ballot is named with the same reason as when it is verified on its own.

Worker entry point :func:`verify_chunk` runs in a ``multiprocessing`` pool
(:mod:`verifier.parallel`); it must stay a top-level, picklable function.
"""
from __future__ import annotations

import json
import secrets
import struct
from dataclasses import dataclass
from typing import Any, Sequence

from verifier import arith
from verifier.errors import InvalidInput
from verifier.multiexp import multiexp
from verifier.shortbase import short_power
from verifier.proofs import (SUM, ContestBallot, DisjunctiveProof, InvalidProof, check_static,
                             check_v2_per_proof, failing_branches, parse_ballot_hex,
                             static_holds)

WEIGHT_BITS = 64


def draw_weights(count: int) -> list[int]:
    """``count`` independent weights uniform in [1, 2^64) from ``secrets`` (protocol.md §7.1): non-zero,
    so that every base reaches the products whose gcd with n is the unit check."""
    weights = list(struct.unpack(f">{count}Q", secrets.token_bytes(8 * count)))
    while 0 in weights:  # probability ≈ count·2^-64: redraw the zeros (rejection sampling)
        weights = [w or secrets.randbits(WEIGHT_BITS) for w in weights]
    return weights


def _equation_holds(z_sum: int, r_bases: list[Any], r_exps: list[int], g_exp: int,
                    n: int) -> bool:
    """L² ≡ R² (mod n²) for L = h_s^(z_sum), z_sum = Σ δ·z over the integers, and
    R = ∏ r_bases^(r_exps) · g^(g_exp), and R's product a unit mod n (protocol.md §7.1).  Every
    r base has an exponent ≥ 1 except bases whose exponent is 0, which are tested directly."""
    nn = arith.mpz(n)
    n2 = nn * nn
    r_part = multiexp(r_bases, r_exps, n2)
    if arith.gcd(r_part, nn) != 1:
        return False
    if 0 in r_exps:  # only when every challenge involving a base is 0
        idle = (b for b, e in zip(r_bases, r_exps) if not e)
        if arith.gcd(arith.product_mod((arith.mpz(b) % nn for b in idle), nn), nn) != 1:
            return False
    left = short_power(n, z_sum)
    right = r_part * arith.g_pow(g_exp, n, n2) % n2
    return bool(left * left % n2 == right * right % n2)


def batch_holds(ballots: Sequence[ContestBallot], n: int) -> bool:
    """One squared batch equation for every branch of every ballot (protocol.md §7.1):

        L = h_s^(Σ_b δ_b·z_b) mod n²          (the responses are integers, protocol.md §5.3)
        R = ∏_b a_b^(δ_b) · ∏_i c_i^(E_i) · g^(−Σ_b j_b·δ_b·e_b) mod n²
        accept iff L² ≡ R² (mod n²) and gcd(R / g^(…), n) = 1

    with E_i = Σ δ_b·e_b over the branches of c_i's 0/1 proof and of its ballot's sum proof
    (base ∏ c_i).  δ_b are fresh weights from ``secrets`` (:func:`draw_weights`), drawn here,
    after the ballots are fixed.  False also when a value is not a unit mod n (protocol.md §5.4 step 3).
    """
    z_sum = 0
    a_bases: list[Any] = []
    weights: list[int] = []
    c_bases: list[Any] = []
    c_exps: list[int] = []
    g_exp = 0
    for ballot in ballots:
        proofs = (*ballot.proofs, ballot.sum_proof)
        deltas = draw_weights(sum(len(p.challenges) for p in proofs))
        weights.extend(deltas)
        responses = [z for p in proofs for z in p.responses]
        z_sum += sum(d * int(z) for d, z in zip(deltas, responses))
        for p in proofs:
            a_bases.extend(p.commitments)
        it = iter(deltas)
        exps = []  # Σ_j δ_j·e_j per proof
        for p in proofs:
            total = 0
            for j, e in enumerate(p.challenges):
                de = next(it) * e
                total += de
                g_exp -= j * de  # u_j = B · g^(−j)
            exps.append(total)
        sum_exp = exps[-1]  # the sum proof's base ∏ c_i: its exponent goes to every c_i
        c_bases.extend(ballot.ciphertexts)
        c_exps.extend(x + sum_exp for x in exps[:-1])
    return _equation_holds(z_sum, a_bases + c_bases, weights + c_exps, g_exp, n)


def _proofs_hold(items: Sequence[tuple[Any, DisjunctiveProof]], n: int) -> bool:
    """The batch equation of protocol.md §7.1 for some proofs of one ballot, each with its own base B."""
    z_sum = 0
    a_bases: list[Any] = []
    bases: list[Any] = []
    exps: list[int] = []
    g_exp = 0
    deltas = draw_weights(sum(len(p.challenges) for _, p in items))
    it = iter(deltas)
    for base, p in items:
        a_bases.extend(p.commitments)
        total = 0
        for j, (e, z) in enumerate(zip(p.challenges, p.responses)):
            delta = next(it)
            z_sum += delta * int(z)
            de = delta * e
            total += de
            g_exp -= j * de
        bases.append(base)
        exps.append(total)
    return _equation_holds(z_sum, a_bases + bases, deltas + exps, g_exp, n)


def check_v2(ballot: ContestBallot, n: int) -> None:
    """(V2) for a ballot, raising exactly what :func:`check_v2_per_proof` raises: the first
    failing proof (0/1 proofs in candidate order, then the sum proof) and its first failing
    branch.  The first failing proof is found by bisection with batch checks (halves of the
    proofs, the left one first), so only that proof's branches are checked one by one; the
    ballot's units must have been checked (:func:`check_static`).  For a ballot that failed a
    batch: a valid one costs a needless search, then the per-proof check."""
    n2 = arith.mpz(n) * n
    total = arith.product_mod((arith.mpz(c) for c in ballot.ciphertexts), n2)
    items: list[tuple[Any, DisjunctiveProof]] = list(zip(ballot.ciphertexts, ballot.proofs))
    items.append((total, ballot.sum_proof))

    def first_failing(lo: int, hi: int, known_to_fail: bool) -> int | None:
        if not known_to_fail and _proofs_hold(items[lo:hi], n):
            return None
        if hi - lo == 1:
            return lo if failing_branches(items[lo][0], items[lo][1], n) else None
        mid = (lo + hi) // 2
        first = first_failing(lo, mid, False)
        # the left half holds, so (if the whole failed) the failure is in the right half
        return first if first is not None else first_failing(mid, hi, known_to_fail)

    first = first_failing(0, len(items), True)  # a ballot judged alone failed its batch
    if first is None:  # every batch holds (or an improbable false acceptance): decide per proof
        check_v2_per_proof(ballot, n)
        return
    bad = failing_branches(items[first][0], items[first][1], n)
    where = SUM if first == len(ballot.proofs) else str(first)
    raise InvalidProof(f"proof equation (V2) fails for branch {bad[0]}", where=where)


@dataclass(frozen=True)
class BallotJob:
    """One ballot to verify, with its context from the board and N, k from the manifest."""

    seq: int
    contest_id: str
    party: str  # the ballot party "<pseudonym>/<credential>" (docs/protocol.md §3, §13.4)
    num_candidates: int
    max_selections: int
    ballot: Any  # the ballot's JSON object (protocol.md §9.3), parsed here; None: read it at offset
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
    """Verify a chunk of ballots: the cheap checks per ballot, then one batch for the chunk;
    a failed batch is bisected down to the ballots that fail alone, each named as when it is
    verified on its own (protocol.md §7.3).

    ``args``: (n, election_id, jobs, use_gmpy2, batched[, path]); jobs without a ballot are
    read from their line of ``path``, one at a time (only the parsed integers are kept, ~0.6 MB
    per 7-of-228 ballot at 2048 bits).  Not ``batched``: every ballot per proof (protocol.md §5.4)."""
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


Pending = tuple[BallotJob, ContestBallot]


def _verify_jobs(n: int, election_id: str, jobs: Sequence[BallotJob], batched: bool,
                 handle: Any) -> list[BallotVerdict]:
    verdicts: dict[int, BallotVerdict] = {}
    pending: list[Pending] = []
    for job in jobs:
        try:
            ballot = _parse_and_check(job, handle, n, election_id, batched)
        except InvalidInput as exc:
            verdicts[job.seq] = BallotVerdict(job.seq, False, exc.where, str(exc))
            continue
        if batched:
            pending.append((job, ballot))
        else:
            verdicts[job.seq] = _per_proof(job.seq, ballot, n)
    verdicts.update(_judge(pending, n, election_id, known_to_fail=False))
    return [verdicts[job.seq] for job in jobs]


def _parse_and_check(job: BallotJob, handle: Any, n: int, election_id: str,
                     batched: bool) -> ContestBallot:
    """The parsed ballot after protocol.md §5.4 steps 1–4 — but the units when ``batched`` (the batch
    checks them, protocol.md §7.1); raises InvalidInput naming the first failure.  The ballot's JSON is
    dropped on return: only its integers are kept."""
    ballot, hex_obj = parse_ballot_hex(_job_ballot(job, handle), job.num_candidates,
                                       job.max_selections)
    if not batched or not static_holds(ballot, n, election_id, job.contest_id, job.party,
                                       job.max_selections, hex_obj):
        check_static(ballot, n, election_id, job.contest_id, job.party, job.max_selections)
    return ballot


def _judge(group: list[Pending], n: int, election_id: str,
           known_to_fail: bool) -> dict[int, BallotVerdict]:
    """Verdicts for ``group`` (all passed the cheap checks): one batch; if it fails, the left
    half, then the right half — known to fail without a check when the left half held."""
    if not group:
        return {}
    if not known_to_fail and batch_holds([ballot for _, ballot in group], n):
        return {job.seq: BallotVerdict(job.seq, True) for job, _ in group}
    if len(group) == 1:
        return {group[0][0].seq: _alone(group[0], n, election_id)}
    mid = len(group) // 2
    left = _judge(group[:mid], n, election_id, False)
    right = _judge(group[mid:], n, election_id, all(v.ok for v in left.values()))
    return {**left, **right}


def _alone(pending: Pending, n: int, election_id: str) -> BallotVerdict:
    """A ballot whose batch failed, judged on its own: every check of protocol.md §5.4 (the units
    included), (V2) naming the first failing proof."""
    job, ballot = pending
    try:
        check_static(ballot, n, election_id, job.contest_id, job.party, job.max_selections)
        check_v2(ballot, n)
    except InvalidInput as exc:
        return BallotVerdict(job.seq, False, exc.where, str(exc))
    return BallotVerdict(job.seq, True)


def _per_proof(seq: int, ballot: ContestBallot, n: int) -> BallotVerdict:
    try:
        check_v2_per_proof(ballot, n)
    except InvalidProof as exc:
        return BallotVerdict(seq, False, exc.where, str(exc))
    return BallotVerdict(seq, True)
