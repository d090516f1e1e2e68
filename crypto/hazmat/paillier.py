"""Raw Paillier arithmetic with g = n + 1 (docs/protocol.md §1.2, §5.1) — hazmat.

Nothing here validates a ciphertext, a plaintext or randomness: :mod:`crypto.paillier` does, and
every value from outside goes through it first.  Caller-chosen randomness is what makes
:func:`raw_encrypt` hazardous: randomness used twice, or known to anyone, reveals the plaintext.
"""
from __future__ import annotations

from typing import Iterable, Protocol

from .gmp import GroupElement, gcd, mpz, powmod


class Modulus(Protocol):
    """What the raw functions need of a Paillier public key (crypto.paillier.PublicKey)."""

    @property
    def n(self) -> int: ...

    @property
    def n_mpz(self) -> mpz: ...

    @property
    def n_square(self) -> mpz: ...


def g_power(pk: Modulus, exponent: int) -> GroupElement:
    """g^x mod n² = 1 + (x mod n)·n, valid because g = n + 1 (protocol.md §1.2); any integer x."""
    return (1 + (exponent % pk.n) * pk.n_mpz) % pk.n_square


def raw_encrypt(pk: Modulus, m: int, r: int) -> GroupElement:
    """g^m · r^n mod n² (§5.1) for the caller's m and r, unchecked."""
    return (1 + m % pk.n * pk.n_mpz) * powmod(r, pk.n, pk.n_square) % pk.n_square


def raw_product(pk: Modulus, ciphertexts: Iterable[GroupElement]) -> GroupElement:
    """∏ c_i mod n² — encrypts Σ m_i when every c_i is a ciphertext (§6.1); unchecked."""
    total: GroupElement = mpz(1)
    for c in ciphertexts:
        total = total * c % pk.n_square
    return total


def all_units(n: int, values: Iterable[GroupElement]) -> bool:
    """True iff every value is coprime to n, with one gcd: the primes of n divide a product only
    if they divide a factor (protocol.md §5.4 step 3)."""
    acc: GroupElement = mpz(1)
    for x in values:
        acc = acc * x % n
    return bool(gcd(acc, n) == 1)
