"""Encrypted contest ballots: the value, its parsing, encryption and cast-as-intended (§5).

A contest ballot is one Paillier ciphertext per candidate (in candidate order) encrypting
m_i ∈ {0, 1}, a 0/1 proof per ciphertext and one sum proof that ∏ c_i encrypts 0..k with
k = max_selections.  Every byte is a deterministic function of the statement (public key,
election id, contest id, pseudonym, shape: crypto.statement), the selections and the seed —
docs/protocol.md §4–§5 specify it byte-exactly so that the browser implementation reproduces the
known-answer vectors in ``tests/vectors``.  Verification is crypto.batch.
"""
from __future__ import annotations

import multiprocessing
from binascii import unhexlify
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable, Optional, Sequence, Union

from .encoding import MAX_HEX_DIGITS, canonical_json, hex_to_int, int_to_hex, parse_json, require_list, require_object
from .errors import InvalidInput
from .hashing import CHALLENGE_MODULUS, DOMAIN_SUM, DOMAIN_ZERO_ONE, object_hash
from .hazmat.gmp import GroupElement, mpz
from .hazmat.paillier import g_power
from .kdf import (
    LABEL_NONCE,
    LABEL_R,
    LABEL_SIM_CHALLENGE,
    LABEL_SIM_RESPONSE,
    LABEL_SUM_NONCE,
    LABEL_SUM_SIM_CHALLENGE,
    LABEL_SUM_SIM_RESPONSE,
    BallotKdf,
)
from .paillier import PublicKey
from .proofs import DisjunctiveProof, make_proof, nonce_bits, response_limit, sum_witness_bits, zero_one_witness_bits
from .statement import MAX_CANDIDATES, MAX_SELECTIONS, ContestStatement, check_contest_shape


@dataclass(frozen=True)
class EncryptedContest:
    """Ciphertexts c_i, 0/1 proofs and the sum proof of one contest (docs/protocol.md §5, §9.3)."""

    ciphertexts: tuple[GroupElement, ...]
    proofs: tuple[DisjunctiveProof, ...]
    sum_proof: DisjunctiveProof
    #: The canonical hex (ASCII bytes) of the ciphertexts and of each proof's commitments (0/1
    #: proofs, then the sum proof), kept by :func:`parse_canonical_ballot` so that challenge
    #: hashing need not re-encode the integers.  Not part of the value.
    hex_cache: Optional[tuple[Sequence[bytes], Sequence[Sequence[bytes]]]] = field(
        default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ciphertexts": [int_to_hex(int(c)) for c in self.ciphertexts],
            "proofs": [p.to_dict() for p in self.proofs],
            "sum_proof": self.sum_proof.to_dict(),
        }

    def to_json(self) -> bytes:
        """Canonical JSON (§2.1) of the protocol.md §9.3 shape."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: Any, public_key: PublicKey) -> "EncryptedContest":
        """Strict parse of an untrusted ballot dict (§2.3, protocol.md §5.2); InvalidInput names the field."""
        data = require_object(obj, {"ciphertexts", "proofs", "sum_proof"}, "ballot")
        raw_cts = require_list(data["ciphertexts"], "ballot ciphertexts", max_length=MAX_CANDIDATES)
        if not raw_cts:
            raise InvalidInput("ballot ciphertexts: empty")
        n2 = int(public_key.n_square)
        ciphertexts = tuple(
            hex_to_int(c, f"ciphertext {i}", lower=1, upper=n2) for i, c in enumerate(raw_cts)
        )
        raw_proofs = require_list(data["proofs"], "ballot proofs", length=len(ciphertexts))
        w0 = zero_one_witness_bits(public_key)
        proofs = tuple(
            DisjunctiveProof.from_dict(public_key, p, 2, f"0/1 proof of candidate {i}", w0)
            for i, p in enumerate(raw_proofs)
        )
        raw_sum = require_object(data["sum_proof"], {"commitments", "challenges", "responses"}, "sum proof")
        branches = len(require_list(raw_sum["commitments"], "sum proof commitments", max_length=MAX_SELECTIONS + 1))
        if branches == 0:
            raise InvalidInput("sum proof commitments: empty")
        sum_proof = DisjunctiveProof.from_dict(public_key, raw_sum, branches, "sum proof",
                                               sum_witness_bits(public_key, len(ciphertexts)))
        return cls(ciphertexts, proofs, sum_proof)

    @classmethod
    def from_json(cls, data: Union[bytes, str], public_key: PublicKey) -> "EncryptedContest":
        return cls.from_dict(parse_json(data, "ballot"), public_key)


# ---------------------------------------------------------------------------------------------
# Fast path for ballots that are already canonical JSON (the tally reads ~1 MB per ballot).
#
# A canonical ballot of a contest with N candidates and k = max_selections is a fixed skeleton
# of punctuation and keys with one canonical hex string per value.  Splitting the bytes at the
# double quotes gives the skeleton pieces (even positions) and the strings (odd positions); if
# the pieces and keys are those of the skeleton and every value is canonical hex, the bytes are
# exactly canonical_json(json.loads(bytes)) and from_dict would accept the values' shape.  Any
# other input (or a value out of range) returns None and the caller takes the strict path,
# which produces the precise error.  Nothing is accepted here that the strict path refuses.

_HEX_DIGITS = b"0123456789abcdef"
_MPZ_FROM_BYTES = getattr(mpz, "from_bytes", None)  # gmpy2 ≥ 2.2


def _from_hex(text: bytes) -> mpz:
    """mpz from canonical hex already checked to be [0-9a-f]+ (via bytes, faster than base 16)."""
    return mpz(text.decode("ascii"), 16)


@dataclass(frozen=True)
class _Skeleton:
    parts: int  # number of pieces after split(b'"')
    even: list[bytes]  # pieces outside strings
    key_positions: tuple[int, ...]  # indices (among the strings) of the object keys
    keys: tuple[bytes, ...]
    value_getter: Callable[[Sequence[bytes]], tuple[bytes, ...]]  # itemgetter of the value strings, in canonical order


@lru_cache(maxsize=64)
def _skeleton(num_candidates: int, max_selections: int) -> _Skeleton:
    marker = "0"

    def proof(branches: int) -> dict[str, list[str]]:
        return {k: [marker] * branches for k in ("commitments", "challenges", "responses")}

    template = canonical_json({
        "ciphertexts": [marker] * num_candidates,
        "proofs": [proof(2) for _ in range(num_candidates)],
        "sum_proof": proof(max_selections + 1),
    }).split(b'"')
    strings = template[1::2]
    key_positions = tuple(i for i, t in enumerate(strings) if t != marker.encode())
    value_positions = [i for i, t in enumerate(strings) if t == marker.encode()]
    return _Skeleton(len(template), template[0::2], key_positions,
                     tuple(strings[i] for i in key_positions), itemgetter(*value_positions))


def canonical_ballot_values(data: bytes, num_candidates: int, max_selections: int) -> Optional[tuple[bytes, ...]]:
    """The value strings (canonical order) if ``data`` is the canonical JSON of a ballot of this
    shape whose values are all canonical hex (§2.1, protocol.md §9.3); None otherwise (not necessarily
    invalid: the caller decides with the strict path)."""
    if not isinstance(data, bytes):
        return None
    skeleton = _skeleton(num_candidates, max_selections)
    pieces = data.split(b'"')
    if len(pieces) != skeleton.parts or pieces[0::2] != skeleton.even:
        return None
    strings = pieces[1::2]
    if tuple(strings[i] for i in skeleton.key_positions) != skeleton.keys:
        return None
    values: tuple[bytes, ...] = skeleton.value_getter(strings)
    if b"" in values or b"".join(values).translate(None, _HEX_DIGITS):
        return None
    if any(v[0] == 0x30 and len(v) > 1 for v in values):  # leading zero
        return None
    if max(map(len, values)) > MAX_HEX_DIGITS:
        return None
    return values


def ballot_from_canonical_values(
    values: Sequence[bytes], public_key: PublicKey, num_candidates: int, max_selections: int,
) -> Optional[EncryptedContest]:
    """The ballot from :func:`canonical_ballot_values`, or None if a value is out of the range
    from_dict requires (the strict path then names it)."""
    n_cts = num_candidates
    branches = max_selections + 1
    ints: list[GroupElement]
    if _MPZ_FROM_BYTES is not None:
        ints = [_MPZ_FROM_BYTES(unhexlify(b"0" + v if len(v) & 1 else v), "big") for v in values]
    else:  # pragma: no cover - older gmpy2
        ints = [_from_hex(v) for v in values]
    n2 = public_key.n_square
    zero_one_limit = response_limit(zero_one_witness_bits(public_key))
    sum_limit = response_limit(sum_witness_bits(public_key, num_candidates))
    cts = ints[:n_cts]
    block = ints[n_cts:7 * n_cts]  # per 0/1 proof: e0 e1 a0 a1 z0 z1 (keys sorted)
    sum_block = ints[7 * n_cts:]
    sum_e, sum_a, sum_z = sum_block[:branches], sum_block[branches:2 * branches], sum_block[2 * branches:]
    commitments = block[2::6] + block[3::6] + sum_a
    challenges = block[0::6] + block[1::6] + sum_e
    responses = block[4::6] + block[5::6]
    if not (0 < min(cts) and max(cts) < n2 and 0 < min(commitments) and max(commitments) < n2
            and max(challenges) < CHALLENGE_MODULUS and max(responses) < zero_one_limit
            and max(sum_z) < sum_limit):
        return None
    proofs = tuple(
        DisjunctiveProof((block[j + 2], block[j + 3]), (block[j], block[j + 1]), (block[j + 4], block[j + 5]))
        for j in range(0, 6 * n_cts, 6)
    )
    sum_proof = DisjunctiveProof(tuple(sum_a), tuple(sum_e), tuple(sum_z))
    raw = values
    ct_hex = raw[:n_cts]
    commitment_hex = [raw[n_cts + j + 2:n_cts + j + 4] for j in range(0, 6 * n_cts, 6)]
    commitment_hex.append(raw[7 * n_cts + branches:7 * n_cts + 2 * branches])
    return EncryptedContest(tuple(cts), proofs, sum_proof, hex_cache=(ct_hex, commitment_hex))


def parse_canonical_ballot(
    data: bytes, public_key: PublicKey, num_candidates: int, max_selections: int,
) -> Optional[EncryptedContest]:
    """Fast parse of canonical ballot bytes of a known shape; None means "use the strict path"
    (``EncryptedContest.from_json`` plus a canonical check), which gives the precise error."""
    values = canonical_ballot_values(data, num_candidates, max_selections)
    if values is None:
        return None
    return ballot_from_canonical_values(values, public_key, num_candidates, max_selections)


def ballot_hash(ballot: EncryptedContest) -> str:
    """SHA-256 hex of the ballot's canonical JSON (docs/protocol.md §5.5)."""
    return object_hash(ballot.to_dict())


# ---------------------------------------------------------------------------------------------
# Precomputation (protocol.md §5.7): every power of h_s, none depending on the selections.


@dataclass(frozen=True)
class CandidatePrecomputation:
    """Choice-independent values of candidate i (protocol.md §4.3, §5.7)."""

    alpha: int  # α_i, the short encryption exponent
    alpha_power: int  # h_s^α mod n²
    nonce: int  # ρ_i
    nonce_power: int  # h_s^ρ mod n² (the real branch's commitment)
    sim_response: int  # ẑ_i
    sim_challenge: int  # ê_i
    sim_power: int  # h_s^(ẑ − α·ê) mod n² (the simulated commitment without its g-power)


@dataclass(frozen=True)
class ContestPrecomputation:
    """All powers of h_s a contest ballot needs, computed before the voter chooses (protocol.md §5.7)."""

    n: int
    ctx: bytes
    max_selections: int
    candidates: tuple[CandidatePrecomputation, ...]
    sum_alpha: int  # Σ α_i
    sum_nonce: int
    sum_nonce_power: int
    sum_sim_responses: tuple[int, ...]
    sum_sim_challenges: tuple[int, ...]
    sum_sim_powers: tuple[int, ...]  # h_s^(ẑ_{Σ,j} − ê_{Σ,j}·Σα)


@lru_cache(maxsize=4)
def _worker_key(n: int) -> PublicKey:
    """The key of a precomputation job, made once per process (its h_s and table are cached on
    it).  The parent validated the key; re-validation would only repeat the size policy check."""
    return PublicKey(n, allow_insecure_test_key=True)


def _candidate_worker(args: tuple[int, bytes, bytes, int]) -> CandidatePrecomputation:
    n, seed, ctx, i = args
    pk = _worker_key(n)
    kdf = BallotKdf(pk, seed, ctx)
    s0 = nonce_bits(zero_one_witness_bits(pk))
    alpha = kdf.short(LABEL_R, i, pk.short_bits)
    nonce = kdf.short(LABEL_NONCE, i, s0)
    z = kdf.short(LABEL_SIM_RESPONSE, i, s0)
    e = kdf.challenge(LABEL_SIM_CHALLENGE, i)
    return CandidatePrecomputation(
        alpha=alpha,
        alpha_power=int(pk.short_power(alpha)),
        nonce=nonce,
        nonce_power=int(pk.short_power(nonce)),
        sim_response=z,
        sim_challenge=e,
        sim_power=int(pk.short_power(z - alpha * e)),
    )


def _sum_worker(args: tuple[int, bytes, bytes, int, int, int]) -> tuple[int, int, int]:
    n, seed, ctx, j, sum_alpha, num_candidates = args
    pk = _worker_key(n)
    kdf = BallotKdf(pk, seed, ctx)
    z = kdf.short(LABEL_SUM_SIM_RESPONSE, j, nonce_bits(sum_witness_bits(pk, num_candidates)))
    e = kdf.challenge(LABEL_SUM_SIM_CHALLENGE, j)
    return z, e, int(pk.short_power(z - sum_alpha * e))


def _pool(processes: int) -> ProcessPoolExecutor:
    """Workers that inherit the parent's fixed-base table (fork) where the platform allows."""
    if "fork" in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"))
    return ProcessPoolExecutor(max_workers=processes)  # pragma: no cover - builds a table per worker


def precompute_contest(
    statement: ContestStatement, seed: bytes, *, processes: Optional[int] = None,
) -> ContestPrecomputation:
    """Compute the 3·N + k + 2 powers of h_s of a ballot ahead of the choice (protocol.md §5.7).

    ``processes`` > 1 spreads the work over a process pool (the browser uses Web Workers).
    """
    num_candidates, max_selections = statement.num_candidates, statement.max_selections
    check_contest_shape(num_candidates, max_selections)
    kdf = BallotKdf.create(statement, seed)
    pk = statement.public_key
    n = pk.n
    pk.short_table  # built once per process and key, before any worker forks
    jobs = [(n, seed, kdf.ctx, i) for i in range(num_candidates)]
    pool: Optional[ProcessPoolExecutor] = None
    try:
        if processes and processes > 1:
            pool = _pool(processes)
            chunk = max(1, num_candidates // (4 * processes))
            candidates = tuple(pool.map(_candidate_worker, jobs, chunksize=chunk))
        else:
            candidates = tuple(_candidate_worker(job) for job in jobs)
        sum_alpha = sum(cand.alpha for cand in candidates)
        sum_jobs = [(n, seed, kdf.ctx, j, sum_alpha, num_candidates) for j in range(max_selections + 1)]
        if pool is not None:
            sums = list(pool.map(_sum_worker, sum_jobs))
        else:
            sums = [_sum_worker(job) for job in sum_jobs]
    finally:
        if pool is not None:
            pool.shutdown()
    sum_nonce = kdf.short(LABEL_SUM_NONCE, 0, nonce_bits(sum_witness_bits(pk, num_candidates)))
    return ContestPrecomputation(
        n=n,
        ctx=kdf.ctx,
        max_selections=max_selections,
        candidates=candidates,
        sum_alpha=sum_alpha,
        sum_nonce=sum_nonce,
        sum_nonce_power=int(pk.short_power(sum_nonce)),
        sum_sim_responses=tuple(s[0] for s in sums),
        sum_sim_challenges=tuple(s[1] for s in sums),
        sum_sim_powers=tuple(s[2] for s in sums),
    )


def _check_selections(selections: Sequence[int], num_candidates: int, max_selections: int) -> list[int]:
    if len(selections) != num_candidates:
        raise InvalidInput(f"selections: expected {num_candidates} entries, got {len(selections)}")
    out = []
    for i, m in enumerate(selections):
        if isinstance(m, bool) or not isinstance(m, int) or m not in (0, 1):
            raise InvalidInput(f"selections: entry {i} must be 0 or 1")
        out.append(m)
    if sum(out) > max_selections:
        raise InvalidInput(f"selections: {sum(out)} selected, at most {max_selections} allowed")
    return out


def encrypt_contest(
    statement: ContestStatement,
    selections: Sequence[int],
    seed: bytes,
    *,
    precomputed: Optional[ContestPrecomputation] = None,
    processes: Optional[int] = None,
) -> EncryptedContest:
    """Encrypt and prove a contest ballot deterministically from ``seed`` (docs/protocol.md §5.1–§5.4).

    ``selections`` holds 0/1 per candidate in candidate order (``statement.num_candidates``
    entries); at most ``statement.max_selections`` ones.  ``precomputed`` (from
    :func:`precompute_contest` with the same statement and seed) makes this an online step of
    only multiplications, one 128-bit exponentiation mod n per proof and hashing.
    """
    public_key = statement.public_key
    num_candidates, max_selections = statement.num_candidates, statement.max_selections
    check_contest_shape(num_candidates, max_selections)
    choice = _check_selections(selections, num_candidates, max_selections)
    kdf = BallotKdf.create(statement, seed)
    if precomputed is None:
        precomputed = precompute_contest(statement, seed, processes=processes)
    elif (
        precomputed.n != public_key.n
        or precomputed.ctx != kdf.ctx
        or precomputed.max_selections != max_selections
        or len(precomputed.candidates) != num_candidates
    ):
        raise InvalidInput("precomputation does not match this key, context or contest")
    n, n2 = public_key.n_mpz, public_key.n_square

    ciphertexts: list[GroupElement] = []
    proofs: list[DisjunctiveProof] = []
    for i, (m, pre) in enumerate(zip(choice, precomputed.candidates)):
        c = (1 + m * n) * pre.alpha_power % n2  # c = g^m h_s^α (protocol.md §5.1)
        s = 1 - m  # the simulated branch
        # a_s = g^((s−m)·ê) · h_s^(ẑ − α·ê) because u_s = c·g^(−s) = g^(m−s) h_s^α (protocol.md §5.3)
        a_sim = g_power(public_key, (s - m) * pre.sim_challenge) * pre.sim_power % n2
        commitments: list[GroupElement] = [0, 0]
        commitments[m] = pre.nonce_power
        commitments[s] = int(a_sim)
        h = statement.challenge(DOMAIN_ZERO_ONE, [i, int(c)], commitments)
        sim_e = [0, 0]
        sim_e[s] = pre.sim_challenge
        sim_z = [0, 0]
        sim_z[s] = pre.sim_response
        proofs.append(make_proof(commitments, sim_e, sim_z, m, h, pre.nonce, pre.alpha))
        ciphertexts.append(int(c))

    total = sum(choice)
    k = max_selections
    sum_commitments: list[GroupElement] = []
    for j in range(k + 1):
        if j == total:
            sum_commitments.append(precomputed.sum_nonce_power)
        else:
            # u_j = C·g^(−j) = g^(M−j) h_s^(Σα), so a_j = g^((j−M)·ê_j) · h_s^(ẑ_j − ê_j·Σα)
            e_j = precomputed.sum_sim_challenges[j]
            sum_commitments.append(int(g_power(public_key, (j - total) * e_j) * precomputed.sum_sim_powers[j] % n2))
    h = statement.challenge(DOMAIN_SUM, [k, ciphertexts], sum_commitments)
    sum_proof = make_proof(
        sum_commitments, precomputed.sum_sim_challenges, precomputed.sum_sim_responses,
        total, h, precomputed.sum_nonce, precomputed.sum_alpha,
    )
    return EncryptedContest(tuple(ciphertexts), tuple(proofs), sum_proof)


def open_ciphertext(public_key: PublicKey, c: GroupElement, alpha: int) -> int:
    """The opening of protocol.md §5.6: x = c · h_s^(−α) mod n² must be 1 + m·n; returns m (any
    m < n — the caller decides what is allowed).  InvalidInput if c was not made with α."""
    x = c * public_key.short_power_verify(-int(alpha)) % public_key.n_square
    if x % public_key.n != 1:
        raise InvalidInput("ciphertext was not made with the randomness derived from this seed")
    return int((x - 1) // public_key.n)


def open_ballot(statement: ContestStatement, ballot: EncryptedContest, seed: bytes) -> list[int]:
    """Open a ballot with its seed (docs/protocol.md §5.6; the audit of §14.3–§14.4): derive α_i
    from the seed and the statement's ballot context, then m_i from c_i · h_s^(−α_i) = 1 + m_i·n.

    Returns the choices (0/1 per candidate).  Raises InvalidInput — never a partial answer — if
    the ballot has not ``statement.num_candidates`` ciphertexts, any ciphertext was not made with
    the seed's randomness or does not encrypt 0 or 1, or more than ``statement.max_selections``
    are 1.  The one implementation of the opening: the server's audit check, the Python voting
    client and the tests use it.
    """
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
        raise InvalidInput("seed: expected 32 bytes")
    if len(ballot.ciphertexts) != statement.num_candidates:
        raise InvalidInput(f"ballot: {len(ballot.ciphertexts)} ciphertexts, the contest has "
                           f"{statement.num_candidates} candidates")
    kdf = BallotKdf.create(statement, bytes(seed))
    pk = statement.public_key
    out = []
    for i, c in enumerate(ballot.ciphertexts):
        try:
            m = open_ciphertext(pk, c, kdf.short(LABEL_R, i, pk.short_bits))
        except InvalidInput:
            raise InvalidInput(f"ciphertext {i}: not made with the randomness derived from this seed") from None
        if m not in (0, 1):
            raise InvalidInput(f"ciphertext {i}: does not encrypt 0 or 1")
        out.append(m)
    if sum(out) > statement.max_selections:
        raise InvalidInput(f"the ballot selects {sum(out)} candidates, at most {statement.max_selections} allowed")
    return out


#: The version-2 name of :func:`open_ballot` (the receipt check), kept for its callers.
recover_selections = open_ballot


__all__ = [
    "CandidatePrecomputation",
    "ContestPrecomputation",
    "EncryptedContest",
    "ballot_from_canonical_values",
    "ballot_hash",
    "canonical_ballot_values",
    "encrypt_contest",
    "open_ballot",
    "open_ciphertext",
    "parse_canonical_ballot",
    "precompute_contest",
    "recover_selections",
]
