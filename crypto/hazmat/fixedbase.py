"""Fixed-base exponentiation with a precomputed table (docs/protocol.md §5.7) — raw arithmetic.

For a base b fixed for many powers (the short base h_s of a key, protocol.md §5.0) the table
holds b^(d·2^(w·t)) mod M for every window t of the longest exponent and every digit
1 ≤ d < 2^w.  A power b^x is then the product of one table entry per non-zero w-bit digit of x:
about bits(x)/w multiplications and no squarings, against ≈ 1.2·bits(x) for a sliding-window
powmod.  The table is public data (a function of the base and the modulus); nothing secret is
ever stored in it.  Exponents longer than the table, and negative ones, fall back to powmod /
the inverse.
"""
from __future__ import annotations

from functools import lru_cache

from .gmp import GroupElement, invert, mpz, powmod

#: Window widths: the prover's table (2^12 − 1 entries per window, ≈ 230 MB for a 2048-bit n's
#: exponents up to A + 224 bits) and a verifier's (2^6 − 1 entries, ≈ 8 MB).
PROVER_WINDOW_BITS = 12
VERIFIER_WINDOW_BITS = 6
DEFAULT_WINDOW_BITS = PROVER_WINDOW_BITS


class FixedBaseTable:
    """Powers of one base mod ``modulus`` for exponents below 2^max_bits (protocol.md §5.7)."""

    __slots__ = ("base", "modulus", "window", "max_bits", "_rows", "_mask")

    def __init__(self, base: GroupElement, modulus: int, max_bits: int, window: int = DEFAULT_WINDOW_BITS) -> None:
        if not 1 <= window <= 16 or max_bits < 1:
            raise ValueError("fixed-base table: window must be 1..16 bits and max_bits ≥ 1")
        mod = mpz(modulus)
        self.base = mpz(base) % mod
        self.modulus = mod
        self.window = window
        self.max_bits = max_bits
        self._mask = (1 << window) - 1
        rows: list[list[GroupElement]] = []
        step = self.base
        for _ in range((max_bits + window - 1) // window):
            row: list[GroupElement] = [mpz(1), step]
            for _ in range(2, 1 << window):
                row.append(row[-1] * step % mod)
            rows.append(row)
            step = row[-1] * step % mod  # b^(2^w · 2^(w·t))
        self._rows = rows

    def power(self, exponent: int) -> GroupElement:
        """base^exponent mod modulus for any integer exponent (negative: the inverse)."""
        if exponent < 0:
            return invert(self.power(-exponent), self.modulus)
        if exponent.bit_length() > self.max_bits:
            return powmod(self.base, exponent, self.modulus)
        mod = self.modulus
        mask = self._mask
        w = self.window
        acc: GroupElement | None = None
        x = int(exponent)
        for row in self._rows:
            if not x:
                break
            digit = x & mask
            if digit:
                acc = row[digit] if acc is None else acc * row[digit] % mod
            x >>= w
        return mpz(1) if acc is None else acc


@lru_cache(maxsize=4)
def cached_table(base: int, modulus: int, max_bits: int, window: int = DEFAULT_WINDOW_BITS) -> FixedBaseTable:
    """One table per (base, modulus, size, window) per process — built once, shared by every ballot."""
    return FixedBaseTable(base, modulus, max_bits, window)


__all__ = ["DEFAULT_WINDOW_BITS", "PROVER_WINDOW_BITS", "VERIFIER_WINDOW_BITS", "FixedBaseTable", "cached_table"]
