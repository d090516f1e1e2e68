"""Ballot verification: per-proof and batched (docs/protocol.md §5.4, §7).

Batch verification replaces the 2N + k + 1 equations (z_j^n)² = (a_j u_j^(e_j))² of a ballot —
or of many ballots — by one random linear combination in the exponent with 64-bit weights δ_j
drawn from ``secrets`` after the ballots are fixed:

    L = (∏ z_j^(δ_j) mod n)^n,   R = ∏ a_j^(δ_j) · ∏ c_i^(E_i) · g^(−Σ j·δ_j·e_j)   (mod n²)

with E_i the sum of δ_j·e_j over the branches whose base involves c_i, accepted iff L² = R².
One n-th power, two multi-exponentiations.  Soundness and the role of squaring: §7.1.
"""
from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any, Hashable, Optional, Sequence

import gmpy2

from .errors import InvalidInput
from .hashing import (
    CHALLENGE_MODULUS,
    DOMAIN_SUM,
    DOMAIN_ZERO_ONE,
    challenge,
    challenge_from_digest,
    challenge_prefix,
    lp_int_hex,
    lp_list_hex,
)
from .multiexp import multi_exp
from .paillier import PublicKey, check_units, g_power
from .proofs import DisjunctiveProof, check_challenge_sum, verify_branches
from .randomness import random_bits, random_weights

#: Bit length of the batch weights δ (§7.1): a false equation survives with probability ≤ 2^-64.
BATCH_WEIGHT_BITS = 64


def nonzero_weights(count: int) -> list[int]:
    """``count`` independent weights uniform in [1, 2^64) (§7.1): non-zero, so that every base
    of the batch reaches the products whose gcd with n is the unit check."""
    weights = random_weights(count, BATCH_WEIGHT_BITS)
    while 0 in weights:  # probability ≈ count·2^-64: redraw the zeros (rejection sampling)
        weights = [w or random_bits(BATCH_WEIGHT_BITS) for w in weights]
    return weights


def _structural_checks_reference(
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> None:
    """Everything except the verification equations (§5.4 steps 1–4), check by check in the order
    of §5.4; raises InvalidInput/InvalidProof at the first failure."""
    from .ballot import EncryptedContest, check_contest_shape

    check_contest_shape(num_candidates, max_selections)
    for name, value in (("election id", election_id), ("contest id", contest_id), ("pseudonym", pseudonym)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{name}: expected a non-empty string")
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
    for i, proof in enumerate(ballot.proofs):
        proof.check_ranges(pk, 2, f"0/1 proof of candidate {i}")
    ballot.sum_proof.check_ranges(pk, max_selections + 1, "sum proof")
    all_proofs = list(ballot.proofs) + [ballot.sum_proof]
    check_units(pk, [a for p in all_proofs for a in p.commitments], "proof commitment")
    check_units(pk, [z for p in all_proofs for z in p.responses], "proof response")
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        h = challenge(DOMAIN_ZERO_ONE, election_id, pk.n, contest_id, pseudonym, [i, c], proof.commitments)
        check_challenge_sum(proof, h, f"0/1 proof of candidate {i}")
    h = challenge(
        DOMAIN_SUM, election_id, pk.n, contest_id, pseudonym,
        [max_selections, list(ballot.ciphertexts)], ballot.sum_proof.commitments,
    )
    check_challenge_sum(ballot.sum_proof, h, "sum proof")


def _hex(value: Any) -> bytes:
    """Canonical hex (§2.1) of a non-negative integer, as ASCII bytes."""
    text: str = value.digits(16) if type(value) is _MPZ else format(value, "x")
    return text.encode("ascii")


def _hex_texts(ballot: Any) -> tuple[Sequence[bytes], Sequence[Sequence[bytes]]]:
    """Canonical hex of the ciphertexts and of each proof's commitments (0/1 proofs, then the
    sum proof): from the parser when it kept the text, else encoded now."""
    cached: Optional[tuple[Sequence[bytes], Sequence[Sequence[bytes]]]] = getattr(ballot, "hex_cache", None)
    if cached is not None:
        return cached
    proofs = list(ballot.proofs) + [ballot.sum_proof]
    return [_hex(c) for c in ballot.ciphertexts], [[_hex(a) for a in p.commitments] for p in proofs]


def _checks_pass(
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> bool:
    """True iff every check of :func:`_structural_checks_reference` except the units passes — the
    same predicates, evaluated in bulk (min/max for the ranges, challenges hashed from the
    canonical hex).  False means "some check fails"; the reference then names the first one.

    The unit check (§5.4 step 3) is left to :meth:`BatchVerifier.check`, which gets it almost
    free from the multi-exponentiation results (§7.1); a batch that fails it falls back to
    :func:`verify_contest_unbatched`, whose reference checks name the value."""
    from .ballot import EncryptedContest, check_contest_shape

    try:
        check_contest_shape(num_candidates, max_selections)
        for value in (election_id, contest_id, pseudonym):
            if not isinstance(value, str) or not value:
                return False
        if not isinstance(ballot, EncryptedContest):
            return False
        n, n2 = pk.n_mpz, pk.n_square
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
        responses = [z for p in all_proofs for z in p.responses]
        if not (0 < min(cts) and max(cts) < n2 and 0 < min(commitments) and max(commitments) < n2
                and 0 <= min(challenges) and max(challenges) < CHALLENGE_MODULUS
                and 0 < min(responses) and max(responses) <= pk.half_n):
            return False
        # Units (§5.4 step 3) are checked on the batch's multi-exponentiation results (§7.1).
        ct_hex, commitment_hex = _hex_texts(ballot)
        state = challenge_prefix(DOMAIN_ZERO_ONE, election_id, pk.n, contest_id, pseudonym)
        for i, proof in enumerate(proofs):
            h = state.copy()
            h.update(_PAIR + lp_int_hex(_hex(i)) + lp_int_hex(ct_hex[i]) + lp_list_hex(commitment_hex[i]))
            if sum(proof.challenges) % CHALLENGE_MODULUS != challenge_from_digest(h.digest()):
                return False
        h = challenge_prefix(DOMAIN_SUM, election_id, pk.n, contest_id, pseudonym)
        h.update(_PAIR + lp_int_hex(_hex(max_selections)) + lp_list_hex(ct_hex)
                 + lp_list_hex(commitment_hex[num_candidates]))
        return bool(sum(sum_proof.challenges) % CHALLENGE_MODULUS == challenge_from_digest(h.digest()))
    except (InvalidInput, TypeError, AttributeError, ValueError, IndexError):
        return False


_PAIR = b"l" + (2).to_bytes(4, "big")  # LP list header of a two-element list
_MPZ = type(gmpy2.mpz(0))


def _structural_checks(  # all but the units when the bulk path passes (see _checks_pass)
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> None:
    """Everything except the verification equations (§5.4 steps 1–4).

    Bulk evaluation first; if anything fails, the check-by-check reference raises the error
    naming the first failing check (same messages and order as always)."""
    if not _checks_pass(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot):
        _structural_checks_reference(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)


def verify_contest_unbatched(
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> None:
    """Per-proof verification (§5.4); raises InvalidInput/InvalidProof naming the failing proof.

    Every check one by one, units included (the fallback of a failed batch, which must name the
    failure)."""
    _structural_checks_reference(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        verify_branches(pk, gmpy2.mpz(c), proof, f"0/1 proof of candidate {i}")
    big_c = gmpy2.mpz(1)
    for c in ballot.ciphertexts:
        big_c = big_c * c % pk.n_square
    verify_branches(pk, big_c, ballot.sum_proof, "sum proof")


@dataclass
class _Entry:
    tag: Hashable
    args: tuple[Any, ...]


@dataclass
class BatchVerifier:
    """Accumulate the proof equations of many ballots and check them at once (§7.1, §7.3).

    ``add_contest`` runs the cheap checks immediately (raising InvalidInput) and queues the
    equations; ``verify`` returns the tags of failing ballots (found by per-ballot fallback),
    an empty list when all pass.  One instance per public key; not thread-safe.
    """

    public_key: PublicKey
    _z_bases: list[Any] = field(default_factory=list)
    _z_exps: list[int] = field(default_factory=list)
    _bases: list[Any] = field(default_factory=list)
    _exps: list[int] = field(default_factory=list)
    _g_exp: int = 0
    _entries: list[_Entry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._entries)

    def add_contest(
        self,
        election_id: str,
        contest_id: str,
        pseudonym: str,
        num_candidates: int,
        max_selections: int,
        ballot: Any,
        tag: Optional[Hashable] = None,
    ) -> None:
        pk = self.public_key
        _structural_checks(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)
        if getattr(ballot, "hex_cache", None) is not None:  # it served the challenge hashes: let
            ballot = dataclasses.replace(ballot, hex_cache=None)  # the ~0.7 MB of hex text go
        self._entries.append(
            _Entry(tag if tag is not None else len(self._entries),
                   (election_id, contest_id, pseudonym, num_candidates, max_selections, ballot))
        )
        proofs = ballot.proofs
        sum_proof = ballot.sum_proof
        branches = 2 * num_candidates + max_selections + 1
        weights = nonzero_weights(branches)  # drawn after the ballot is fixed
        self._z_bases.extend(z for p in proofs for z in p.responses)
        self._z_bases.extend(sum_proof.responses)
        self._z_exps.extend(weights)
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
        """True iff the combined equation L² = R² holds (§7.1)."""
        pk = self.public_key
        n, n2 = pk.n_mpz, pk.n_square
        if not self._entries:
            return True
        # z^n mod n² depends only on z mod n, so the z-part is combined mod n (cheaper).
        z_part = multi_exp(self._z_bases, self._z_exps, n)
        base_part = multi_exp(self._bases, self._exps, n2)
        # Units (§5.4 step 3, §7.1): a prime of n divides a product of powers with exponents ≥ 1
        # iff it divides one of the bases, so one gcd per product covers every value.  The weights
        # are ≥ 1; an exponent E_i of a ciphertext is 0 only if all its challenges are 0, and then
        # the values are tested one product at a time.
        if not self._units_ok(z_part, base_part):
            return False
        left = gmpy2.powmod(z_part, n, n2)
        right = base_part * g_power(pk, self._g_exp) % n2
        return bool(left * left % n2 == right * right % n2)

    def _units_ok(self, z_part: Any, base_part: Any) -> bool:
        n = self.public_key.n_mpz
        if gmpy2.gcd(z_part, n) != 1 or gmpy2.gcd(base_part, n) != 1:
            return False
        if 0 in self._exps:  # only with all-zero challenges: test the values themselves
            try:
                check_units(self.public_key, self._bases, "batch base")
            except InvalidInput:
                return False
        return True

    def verify(self) -> list[Hashable]:
        """Tags of ballots whose proofs fail (empty list: all valid)."""
        if self.check():
            return []
        failing: list[Hashable] = []
        for entry in self._entries:
            try:
                verify_contest_unbatched(self.public_key, *entry.args)
            except InvalidInput:
                failing.append(entry.tag)
        return failing
