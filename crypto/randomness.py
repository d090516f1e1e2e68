"""The single source of randomness: ``secrets`` (docs/protocol.md §1.3).

Only ballot encryption is deterministic (from a seed, §4); everything else that needs fresh
randomness (key generation, trustee proofs, batch-verification weights, salts) calls here.
"""
from __future__ import annotations

import secrets
import struct

from .hazmat.gmp import gcd


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
        if value > 0 and gcd(value, n) == 1:
            return value


def random_weights(count: int, bits: int = 64) -> list[int]:
    """``count`` independent uniform integers in ``[0, 2**bits)`` (``bits`` a multiple of 8),
    from one ``secrets`` call: the same distribution as ``count`` calls of :func:`random_bits`."""
    if bits % 8 or bits <= 0:
        raise ValueError("bits must be a positive multiple of 8")
    if bits == 64:
        return list(struct.unpack(f"<{count}Q", secrets.token_bytes(8 * count)))
    size = bits // 8
    data = secrets.token_bytes(size * count)
    return [int.from_bytes(data[i:i + size], "little") for i in range(0, size * count, size)]
