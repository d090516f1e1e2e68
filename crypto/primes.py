"""Safe-prime generation for the key ceremony (docs/protocol.md §6.1).

A safe prime p = 2p' + 1 (p' prime) is found by sieving a window of candidates p' so that
neither p' nor 2p' + 1 has a prime factor below 2^16, then Miller–Rabin (gmpy2.is_prime) on the
few survivors — cheap one-round tests first, 40 rounds on the winner.
"""
from __future__ import annotations

from .hazmat.gmp import is_prime, mpz
from .randomness import random_bits

_WINDOW = 1 << 16


def _small_primes(limit: int) -> list[int]:
    flags = bytearray([1]) * limit
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return [i for i in range(3, limit) if flags[i]]


_SMALL_PRIMES = _small_primes(1 << 16)


def generate_safe_prime(bits: int) -> int:
    """A random safe prime p of exactly ``bits`` bits whose two top bits are set (§6.1)."""
    if bits < 16:
        raise ValueError("safe primes below 16 bits are not supported")
    qbits = bits - 1
    while True:
        # top two bits set: p·q of two such primes has exactly 2·bits bits
        base = random_bits(qbits) | (3 << (qbits - 2)) | 1
        sieve = bytearray([1]) * _WINDOW  # index t ↔ candidate p' = base + 2t
        for ell in _SMALL_PRIMES:
            if ell.bit_length() >= qbits - 1:
                break
            r = base % ell
            inv2 = (ell + 1) // 2
            for t0 in ((-r * inv2) % ell, (-(2 * r + 1) * inv2 * inv2) % ell):
                # p' ≡ 0 (mod ℓ)  resp.  2p' + 1 ≡ 0 (mod ℓ)
                sieve[t0::ell] = bytes(len(range(t0, _WINDOW, ell)))
        t = sieve.find(1)
        while t != -1:
            q = mpz(base + 2 * t)
            if q.bit_length() != qbits:
                break
            p = 2 * q + 1
            if is_prime(q, 1) and is_prime(p, 1) and is_prime(q, 40) and is_prime(p, 40):
                return int(p)
            t = sieve.find(1, t + 1)
