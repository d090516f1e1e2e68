"""Ballot verification: per-proof and batched (docs/protocol.md §5.4, §7).

Batch verification replaces the 2N + k + 1 equations (h_s^(z_j))² = (a_j u_j^(e_j))² of a
ballot — or of many ballots — by one random linear combination in the exponent with 64-bit
weights δ_j drawn from ``secrets`` after the ballots are fixed:

    L = h_s^(Σ δ_j·z_j),   R = ∏ a_j^(δ_j) · ∏ c_i^(E_i) · g^(−Σ j·δ_j·e_j)   (mod n²)

with E_i the sum of δ_j·e_j over the branches whose base involves c_i, accepted iff L² = R².
One power of the fixed base h_s (the responses are integers), one multi-exponentiation.  Soundness and the role of squaring: protocol.md §7.1.

:func:`verify_many` is the one policy for many ballots (protocol.md §7.3) — the cast API's verifier thread,
the tally and the benchmarks call it: one batch per public key; a failed batch is bisected,
each half checked again with fresh weights, down to single ballots that are verified proof by
proof, so that every invalid ballot is named with the reason it gets when verified alone.
:func:`verify_contest` is the same for one ballot.
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from .ballot import EncryptedContest
from .errors import InvalidInput
from .hashing import CHALLENGE_MODULUS, DOMAIN_SUM, DOMAIN_ZERO_ONE, challenge_from_digest, lp_int_hex, lp_list_hex
from .hazmat.batch import batch_equation_holds
from .hazmat.gmp import GroupElement, mpz
from .paillier import PublicKey, check_units
from .proofs import check_challenge_sum, response_limit, sum_witness_bits, verify_branches, zero_one_witness_bits
from .randomness import random_bits, random_weights
from .statement import ContestStatement, check_contest_shape

#: Bit length of the batch weights δ (protocol.md §7.1): a false equation survives with probability ≤ 2^-64.
BATCH_WEIGHT_BITS = 64


def nonzero_weights(count: int) -> list[int]:
    """``count`` independent weights uniform in [1, 2^64) (protocol.md §7.1): non-zero, so that every base
    of the batch reaches the products whose gcd with n is the unit check."""
    weights = random_weights(count, BATCH_WEIGHT_BITS)
    while 0 in weights:  # probability ≈ count·2^-64: redraw the zeros (rejection sampling)
        weights = [w or random_bits(BATCH_WEIGHT_BITS) for w in weights]
    return weights


def _structural_checks_reference(statement: ContestStatement, ballot: object) -> None:
    """Everything except the verification equations (protocol.md §5.4 steps 1–4), check by check in the order
    of protocol.md §5.4; raises InvalidInput/InvalidProof at the first failure.  (The statement's own checks,
    protocol.md §5.4 step 1, ran when it was constructed.)"""
    pk = statement.public_key
    num_candidates, max_selections = statement.num_candidates, statement.max_selections
    check_contest_shape(num_candidates, max_selections)
    if not isinstance(ballot, EncryptedContest):
        raise InvalidInput("ballot: expected an EncryptedContest")
    if len(ballot.ciphertexts) != num_candidates:
        raise InvalidInput(f"ballot: expected {num_candidates} ciphertexts, got {len(ballot.ciphertexts)}")
    if len(ballot.proofs) != num_candidates:
        raise InvalidInput(f"ballot: expected {num_candidates} 0/1 proofs, got {len(ballot.proofs)}")
    for i, c in enumerate(ballot.ciphertexts):
        if not 0 < c < pk.n_square:
            raise InvalidInput(f"ciphertext {i}: not in the range 0 < c < n²")
    check_units(pk, ballot.ciphertexts, "ciphertext")
    w0 = zero_one_witness_bits(pk)
    for i, proof in enumerate(ballot.proofs):
        proof.check_ranges(pk, 2, f"0/1 proof of candidate {i}", w0)
    ballot.sum_proof.check_ranges(pk, max_selections + 1, "sum proof", sum_witness_bits(pk, num_candidates))
    all_proofs = list(ballot.proofs) + [ballot.sum_proof]
    check_units(pk, [a for p in all_proofs for a in p.commitments], "proof commitment")
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        h = statement.challenge(DOMAIN_ZERO_ONE, [i, c], proof.commitments)
        check_challenge_sum(proof, h, f"0/1 proof of candidate {i}")
    h = statement.challenge(DOMAIN_SUM, [max_selections, list(ballot.ciphertexts)], ballot.sum_proof.commitments)
    check_challenge_sum(ballot.sum_proof, h, "sum proof")


def _hex(value: GroupElement) -> bytes:
    """Canonical hex (§2.1) of a non-negative integer, as ASCII bytes."""
    text: str = value.digits(16) if type(value) is mpz else format(value, "x")
    return text.encode("ascii")


def _hex_texts(ballot: EncryptedContest) -> tuple[Sequence[bytes], Sequence[Sequence[bytes]]]:
    """Canonical hex of the ciphertexts and of each proof's commitments (0/1 proofs, then the
    sum proof): from the parser when it kept the text, else encoded now."""
    if ballot.hex_cache is not None:
        return ballot.hex_cache
    proofs = list(ballot.proofs) + [ballot.sum_proof]
    return [_hex(c) for c in ballot.ciphertexts], [[_hex(a) for a in p.commitments] for p in proofs]


_PAIR = b"l" + (2).to_bytes(4, "big")  # LP list header of a two-element list


def _checks_pass(statement: ContestStatement, ballot: object) -> bool:
    """True iff every check of :func:`_structural_checks_reference` except the units passes — the
    same predicates, evaluated in bulk (min/max for the ranges, challenges hashed from the
    canonical hex).  False means "some check fails"; the reference then names the first one.

    The unit check (protocol.md §5.4 step 3) is left to the batch equation, which gets it almost free from
    the multi-exponentiation results (protocol.md §7.1, crypto.hazmat.batch); a batch that fails it is
    bisected down to :func:`verify_contest_unbatched`, whose reference checks name the value."""
    pk = statement.public_key
    num_candidates, max_selections = statement.num_candidates, statement.max_selections
    try:
        check_contest_shape(num_candidates, max_selections)
        if not isinstance(ballot, EncryptedContest):
            return False
        n2 = pk.n_square
        cts = ballot.ciphertexts
        proofs = list(ballot.proofs)
        sum_proof = ballot.sum_proof
        if len(cts) != num_candidates or len(proofs) != num_candidates:
            return False
        for field_name in ("commitments", "challenges", "responses"):
            if any(len(getattr(p, field_name)) != 2 for p in proofs):
                return False
            if len(getattr(sum_proof, field_name)) != max_selections + 1:
                return False
        all_proofs = proofs + [sum_proof]
        commitments = [a for p in all_proofs for a in p.commitments]
        challenges = [e for p in all_proofs for e in p.challenges]
        responses = [z for p in proofs for z in p.responses]
        if not (0 < min(cts) and max(cts) < n2 and 0 < min(commitments) and max(commitments) < n2
                and 0 <= min(challenges) and max(challenges) < CHALLENGE_MODULUS
                and 0 <= min(responses) and max(responses) < response_limit(zero_one_witness_bits(pk))
                and 0 <= min(sum_proof.responses)
                and max(sum_proof.responses) < response_limit(sum_witness_bits(pk, num_candidates))):
            return False
        # Units (protocol.md §5.4 step 3) are checked on the batch's multi-exponentiation results (protocol.md §7.1).
        ct_hex, commitment_hex = _hex_texts(ballot)
        state = statement.challenge_prefix(DOMAIN_ZERO_ONE)
        for i, proof in enumerate(proofs):
            h = state.copy()
            h.update(_PAIR + lp_int_hex(_hex(i)) + lp_int_hex(ct_hex[i]) + lp_list_hex(commitment_hex[i]))
            if sum(proof.challenges) % CHALLENGE_MODULUS != challenge_from_digest(h.digest()):
                return False
        h = statement.challenge_prefix(DOMAIN_SUM)
        h.update(_PAIR + lp_int_hex(_hex(max_selections)) + lp_list_hex(ct_hex)
                 + lp_list_hex(commitment_hex[num_candidates]))
        return bool(sum(sum_proof.challenges) % CHALLENGE_MODULUS == challenge_from_digest(h.digest()))
    except (InvalidInput, TypeError, AttributeError, ValueError, IndexError):
        return False


def _structural_checks(statement: ContestStatement, ballot: object) -> None:
    """Everything except the verification equations (protocol.md §5.4 steps 1–4) — but the units when the
    bulk path passes (see :func:`_checks_pass`).

    Bulk evaluation first; if anything fails, the check-by-check reference raises the error
    naming the first failing check (same messages and order as always)."""
    if not _checks_pass(statement, ballot):
        _structural_checks_reference(statement, ballot)


def verify_contest_unbatched(statement: ContestStatement, ballot: EncryptedContest) -> None:
    """Per-proof verification (protocol.md §5.4); raises InvalidInput/InvalidProof naming the failing proof.

    Every check one by one, units included (how :func:`verify_many` judges a single ballot whose
    batch failed, naming the failure)."""
    _structural_checks_reference(statement, ballot)
    pk = statement.public_key
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        verify_branches(pk, mpz(c), proof, f"0/1 proof of candidate {i}")
    big_c: GroupElement = mpz(1)
    for c in ballot.ciphertexts:
        big_c = big_c * c % pk.n_square
    verify_branches(pk, big_c, ballot.sum_proof, "sum proof")


@dataclass
class BatchVerifier:
    """Accumulate the proof equations of ballots under one public key and check them at once
    (protocol.md §7.1).  A building block of :func:`verify_many`, which names the failing ballots: use that.

    ``add_contest`` runs the cheap checks immediately (raising InvalidInput naming the failure)
    and queues the ballot's equations with fresh weights; ``check`` tells whether all hold.  Not
    thread-safe.
    """

    public_key: PublicKey
    _z_sum: int = 0
    _bases: list[GroupElement] = field(default_factory=list)
    _exps: list[int] = field(default_factory=list)
    _g_exp: int = 0
    _count: int = 0

    def __len__(self) -> int:
        return self._count

    def add_contest(self, statement: ContestStatement, ballot: EncryptedContest) -> None:
        """Cheap checks of ``ballot`` for ``statement`` (protocol.md §5.4 steps 1–4), then its equations."""
        if statement.public_key != self.public_key:
            raise InvalidInput("statement: public key differs from the batch's")
        _structural_checks(statement, ballot)
        self.add_equations(statement, ballot)

    def add_equations(self, statement: ContestStatement, ballot: EncryptedContest) -> None:
        """Queue the 2N + k + 1 equations of a ballot that passed :meth:`add_contest`'s checks,
        with weights drawn now (after the ballot is fixed)."""
        num_candidates, max_selections = statement.num_candidates, statement.max_selections
        self._count += 1
        proofs = ballot.proofs
        sum_proof = ballot.sum_proof
        branches = 2 * num_candidates + max_selections + 1
        weights = nonzero_weights(branches)  # drawn after the ballot is fixed
        responses = [z for p in proofs for z in p.responses]
        responses.extend(sum_proof.responses)
        self._z_sum += sum(map(operator.mul, weights, responses))  # Σ δ_b·z_b over the integers
        self._bases.extend(a for p in proofs for a in p.commitments)
        self._bases.extend(sum_proof.commitments)
        self._exps.extend(weights)
        challenges = [e for p in proofs for e in p.challenges]
        challenges.extend(sum_proof.challenges)
        de = list(map(operator.mul, weights, challenges))  # δ_b·e_b
        two_n = 2 * num_candidates
        sum_de = de[two_n:]
        sum_exp = sum(sum_de)  # base ∏ c_i: its exponent goes to every c_i
        # u_j = base · g^(−j): branch j of a proof contributes g^(−j·δ·e)
        g_exp = -sum(de[1:two_n:2]) - sum(j * x for j, x in enumerate(sum_de))
        self._bases.extend(ballot.ciphertexts)
        self._exps.extend([sum_exp + x + y for x, y in zip(de[0:two_n:2], de[1:two_n:2])])
        self._g_exp += g_exp

    def check(self) -> bool:
        """True iff every queued value is a unit and the combined equation L² = R² holds (protocol.md §7.1)."""
        if not self._count:
            return True
        left = self.public_key.short_power_verify(self._z_sum)  # L = h_s^(Σ δ·z): one fixed-base power
        return batch_equation_holds(self.public_key, left, self._bases, self._exps, self._g_exp)


_Pending = tuple[int, ContestStatement, EncryptedContest]  # position in the input, statement, ballot


def verify_many(items: Iterable[tuple[ContestStatement, EncryptedContest]]) -> dict[int, InvalidInput]:
    """Verify contest ballots (protocol.md §5.4, protocol.md §7.1, protocol.md §7.3); return the error of each invalid one by its
    position in ``items`` (in order; empty: all valid).

    The cheap checks (protocol.md §5.4 steps 1–4) of each ballot run as it is taken from ``items``, so a
    caller may stream them; then the hex text a parser kept for the challenge hashes is dropped.
    Ballots under the same public key form one batch with weights from ``secrets``.  A failed
    batch is bisected: each half is checked again with fresh weights — the right half not when
    the left one held, since then it must fail — down to single ballots, which are verified
    proof by proof (:func:`verify_contest_unbatched`) and named with that error.  So a ballot is
    refused exactly when per-proof verification refuses it (a batch of valid ballots always
    holds; one with an invalid ballot holds with probability ≤ 2^-64, protocol.md §7.1), at the cost of about
    two batch checks per level of bisection instead of one per-proof check per ballot.
    """
    errors: dict[int, InvalidInput] = {}
    groups: dict[int, tuple[BatchVerifier, list[_Pending]]] = {}
    for position, (statement, ballot) in enumerate(items):
        group = groups.get(statement.public_key.n)
        if group is None:
            group = groups[statement.public_key.n] = (BatchVerifier(statement.public_key), [])
        try:
            group[0].add_contest(statement, ballot)
        except InvalidInput as exc:
            errors[position] = exc
            continue
        if ballot.hex_cache is not None:  # it served the challenge hashes: let the text go
            ballot = dataclasses.replace(ballot, hex_cache=None)  # (~0.7 MB per 7-of-228 ballot)
        group[1].append((position, statement, ballot))
    for verifier, pending in groups.values():
        if pending and not verifier.check():
            errors.update(_bisect(pending, known_to_fail=True))
    return dict(sorted(errors.items()))


def _bisect(pending: Sequence[_Pending], known_to_fail: bool) -> dict[int, InvalidInput]:
    """Errors of the invalid ballots among ``pending`` (one public key, cheap checks passed)."""
    if not known_to_fail:
        verifier = BatchVerifier(pending[0][1].public_key)
        for _, statement, ballot in pending:
            verifier.add_equations(statement, ballot)  # fresh weights
        if verifier.check():
            return {}
    if len(pending) == 1:
        position, statement, ballot = pending[0]
        try:
            verify_contest_unbatched(statement, ballot)
        except InvalidInput as exc:
            return {position: exc}
        return {}  # valid after all (its batch's failure was inferred, not observed)
    middle = len(pending) // 2
    left = _bisect(pending[:middle], known_to_fail=False)
    right = _bisect(pending[middle:], known_to_fail=not left)
    return {**left, **right}


def verify_contest(statement: ContestStatement, ballot: EncryptedContest, *, batch: bool = True) -> None:
    """Verify a contest ballot (docs/protocol.md §5.4, §7); raise InvalidInput naming the failure.

    With ``batch=True`` all 2N + k + 1 equations are checked at once (protocol.md §7.1, :func:`verify_many`);
    on failure every proof is checked on its own so that the error names the failing candidate.
    """
    if not batch:
        verify_contest_unbatched(statement, ballot)
        return
    errors = verify_many([(statement, ballot)])
    if errors:
        raise errors[0]


__all__ = ["BatchVerifier", "verify_contest", "verify_contest_unbatched", "verify_many"]
