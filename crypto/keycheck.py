"""The checks of an election key, by name (docs/protocol.md §6.2).

:func:`check_election_key` runs, in order, ``key.public``, ``key.verification``,
``key.modulus_proof``, ``key.factor_proof``, ``key.verification_base`` and ``key.shared_secret``
— the verifier's checks 4, 5 and 24–27 (docs/record.md §5) — and raises :class:`KeyCheckFailed`
naming the first that fails.  Together they mean that a count decrypted under the key is the sum
of the counted ballots whatever the dealer did (protocol.md §6.10); the dealer stays trusted for privacy.

The key ceremony runs them on its own output; ``tally prepare``, ``tally finish`` and
``tally trustee decrypt`` run them on the key they are given.  A key that passed once in a
process is remembered (by its canonical JSON), so repeated checks cost nothing.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Optional, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .encoding import canonical_json
from .errors import InvalidInput, InvalidProof
from .hazmat.gmp import GroupElement, gcd, invert, is_power, is_prime, mpz, powmod
from .keyproofs import (
    SMALL_FACTOR_BOUND,
    has_small_order,
    pollard_factor,
    small_primes_product,
    verification_base,
    verification_class,
    verify_factors,
    verify_modulus,
)
from .paillier import check_key_size
from .threshold import ElectionPublicKey

CHECK_NAMES = (
    "key.public",
    "key.verification",
    "key.modulus_proof",
    "key.factor_proof",
    "key.verification_base",
    "key.shared_secret",
)


class KeyCheckFailed(InvalidProof):
    """An election key failed the named check of docs/protocol.md §6.2."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


def check_public(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    """``key.public``: odd, size policy, not prime, not a perfect power, no factor < 2^16,
    Pollard p − 1 (bound 2^20) finds nothing.  With the dealer's ``primes`` (its self-check),
    Pollard's test is replaced by checking that they are safe primes, which it cannot factor."""
    pk = key.public_key
    n = mpz(pk.n)
    if n % 2 == 0:
        raise InvalidInput("n is even")
    check_key_size(pk.n.bit_length(), pk.allow_insecure_test_key)
    if is_prime(n):
        raise InvalidInput("n is prime")
    if is_power(n):
        raise InvalidInput("n is a perfect power")
    if gcd(n, small_primes_product(SMALL_FACTOR_BOUND)) != 1:
        raise InvalidInput(f"n has a prime factor below 2^{SMALL_FACTOR_BOUND.bit_length() - 1}")
    if primes is not None:
        p, q = primes
        if p * q != n or not all(is_prime(x) and is_prime((x - 1) // 2) for x in (p, q)):
            raise InvalidInput("the dealer's primes are not two safe primes of n")
    elif pollard_factor(n) != 1:
        raise InvalidInput("Pollard's p − 1 (bound 2^20) factors n: a prime factor p has p − 1 smooth")


def check_verification(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    """``key.verification``: the shape (checked on construction) and the signing keys decode."""
    for trustee in key.trustees:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(trustee.signing_key))
        except ValueError:
            raise InvalidInput(f"trustee {trustee.index}: signing key is not an Ed25519 public key") from None


def check_modulus_proof(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    verify_modulus(key.public_key.n, key.key_id, key.proofs.modulus)


def check_factor_proof(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    verify_factors(key.public_key.n, key.key_id, key.proofs.factors)


def check_verification_base(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    """``key.verification_base``: v is the hash derivation of protocol.md §6.6; no v, v_i of order < 2^16.
    With the dealer's safe ``primes`` every prime factor of the group order but 2 exceeds 2^16, so
    the small-order test is x² ≠ 1."""
    n = key.public_key.n
    n2 = key.public_key.n_square
    if key.verification_base != verification_base(n, key.key_id):
        raise InvalidInput("verification base is not the one derived from the key id (protocol.md §6.6)")

    def small(x: GroupElement) -> bool:
        return bool(powmod(x, 2, n2) == 1) if primes is not None else has_small_order(x, n)

    if small(key.verification_base):
        raise InvalidInput("verification base has small order")  # pragma: no cover - derived v never does
    for trustee in key.trustees:
        if small(trustee.verification_key):
            raise InvalidInput(f"verification key of trustee {trustee.index} has order below 2^16")


def lagrange_at(delta: int, index: int, subset: Sequence[int], x: int) -> int:
    """λ_i(x) = Δ · ∏_{j∈S, j≠i} (x − j)/(i − j), an integer (protocol.md §6.7)."""
    num, den = delta, 1
    for j in subset:
        if j != index:
            num *= x - j
            den *= index - j
    if num % den:  # pragma: no cover - Δ = ℓ! makes it exact
        raise InvalidInput("Lagrange coefficient is not an integer")
    return num // den


def _power_product(bases: Sequence[GroupElement], exponents: Sequence[int], modulus: mpz) -> mpz:
    out = mpz(1)
    for base, exponent in zip(bases, exponents):
        if exponent < 0:
            out = mpz(out * powmod(invert(base, modulus), -exponent, modulus) % modulus)
        else:
            out = mpz(out * powmod(base, exponent, modulus) % modulus)
    return out


def check_shared_secret(key: ElectionPublicKey, primes: Optional[tuple[int, int]] = None) -> None:
    """``key.shared_secret`` (protocol.md §6.7): v_j^Δ = ∏_{i≤t} v_i^(λ_i(j)) for j > t, and
    ∏_{i≤t} v_i^(λ_i(0)) = 1 + (2κΔ² mod n)·n."""
    pk = key.public_key
    n, n2 = pk.n_mpz, pk.n_square
    delta, t = key.delta, key.threshold
    subset = list(range(1, t + 1))
    bases = [key.trustees[i - 1].verification_key for i in subset]
    for trustee in key.trustees[t:]:
        expected = _power_product(bases, [lagrange_at(delta, i, subset, trustee.index) for i in subset], n2)
        if powmod(trustee.verification_key, delta, n2) != expected:
            raise InvalidInput(f"verification key of trustee {trustee.index} is not on the polynomial of "
                               f"trustees 1..{t} (consistency)")
    kappa = verification_class(n, key.key_id)
    combined = _power_product(bases, [lagrange_at(delta, i, subset, 0) for i in subset], n2)
    if combined != (1 + (2 * kappa * delta * delta % n) * n) % n2:
        raise InvalidInput("the shared secret is not d ≡ 1 (mod n): ∏ v_i^λ_i ≠ 1 + 2κΔ²·n")


CHECKS: tuple[tuple[str, Callable[[ElectionPublicKey, Optional[tuple[int, int]]], None]], ...] = (
    ("key.public", check_public),
    ("key.verification", check_verification),
    ("key.modulus_proof", check_modulus_proof),
    ("key.factor_proof", check_factor_proof),
    ("key.verification_base", check_verification_base),
    ("key.shared_secret", check_shared_secret),
)

_PASSED: set[str] = set()


def check_election_key(key: ElectionPublicKey, *, primes: Optional[tuple[int, int]] = None) -> None:
    """Run every check of docs/protocol.md §6.2 in order; :class:`KeyCheckFailed` names the first
    that fails.  ``primes``: the dealer's own p, q (its self-check in the ceremony), with which
    Pollard's test and the small-order test have cheap exact equivalents for safe primes."""
    digest = hashlib.sha256(canonical_json(key.to_dict())).hexdigest() + str(key.public_key.allow_insecure_test_key)
    if digest in _PASSED:
        return
    for name, check in CHECKS:
        try:
            check(key, primes)
        except InvalidInput as exc:
            raise KeyCheckFailed(name, str(exc)) from None
    _PASSED.add(digest)


__all__ = ["CHECKS", "CHECK_NAMES", "KeyCheckFailed", "check_election_key", "lagrange_at"]
