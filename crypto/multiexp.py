"""Multi-exponentiation ∏ b_i^{e_i} mod M (docs/protocol.md §7.2).

Pippenger's bucket method on top of gmpy2: the exponents are cut into c-bit windows; in each
window every base is multiplied into the bucket of its digit, and the buckets are combined with
the running-product trick (2·2^c multiplications).  Cost ≈ Σ_windows (#nonzero digits + 2^(c+1))
multiplications plus max-bits squarings, versus ~1.5·bits multiplications per base for separate
powmods — the reason batch verification is cheap.
"""
from __future__ import annotations

from typing import Any, Sequence

import gmpy2


def _best_window(count: int, bits: int) -> int:
    best_c, best_cost = 1, float("inf")
    for c in range(1, 17):
        cost = -(-bits // c) * (count + (1 << (c + 1)))
        if cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def multi_exp(bases: Sequence[Any], exponents: Sequence[int], modulus: Any) -> Any:
    """∏ bases[i]^exponents[i] mod modulus for non-negative exponents."""
    if len(bases) != len(exponents):
        raise ValueError("bases and exponents differ in length")
    mod = gmpy2.mpz(modulus)
    pairs = [(gmpy2.mpz(b) % mod, int(e)) for b, e in zip(bases, exponents) if e]
    if any(e < 0 for _, e in pairs):
        raise ValueError("negative exponent")
    if not pairs:
        return gmpy2.mpz(1) % mod
    if len(pairs) == 1:
        return gmpy2.powmod(pairs[0][0], pairs[0][1], mod)
    bits = max(e.bit_length() for _, e in pairs)
    c = _best_window(len(pairs), bits)
    mask = (1 << c) - 1
    windows = -(-bits // c)
    result = gmpy2.mpz(1)
    for w in range(windows - 1, -1, -1):
        if w != windows - 1:
            # c squarings shift the accumulated exponent by one window
            result = gmpy2.powmod(result, 1 << c, mod)
        shift = w * c
        buckets: list[Any] = [None] * (mask + 1)
        top = 0
        for base, e in pairs:
            digit = (e >> shift) & mask
            if digit:
                current = buckets[digit]
                buckets[digit] = base if current is None else current * base % mod
                if digit > top:
                    top = digit
        if not top:
            continue
        running = None
        window_total = None
        for digit in range(top, 0, -1):
            bucket = buckets[digit]
            if bucket is not None:
                running = bucket if running is None else running * bucket % mod
            if running is not None:
                window_total = running if window_total is None else window_total * running % mod
        if window_total is not None:
            result = result * window_total % mod
    return result
