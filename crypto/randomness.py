"""The single source of randomness: ``secrets`` (docs/protocol.md §1.3).

Only ballot encryption is deterministic (from a seed, §4); everything else that needs fresh
randomness (key generation, trustee proofs, batch-verification weights, salts) calls here.
"""
from __future__ import annotations

import secrets

import gmpy2


def random_bytes(length: int) -> bytes:
    """``length`` uniformly random bytes."""
    return secrets.token_bytes(length)


def random_bits(bits: int) -> int:
    """Uniform integer in ``[0, 2**bits)``."""
    return secrets.randbits(bits)


def random_below(upper: int) -> int:
    """Uniform integer in ``[0, upper)``."""
    return secrets.randbelow(upper)


def random_unit(n: int) -> int:
    """Uniform element of Z*_n (rejection sampling; a rejection means a factor of n was hit)."""
    while True:
        value = secrets.randbelow(n)
        if value > 0 and gmpy2.gcd(value, n) == 1:
            return value
