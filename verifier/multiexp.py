"""Windowed (Pippenger bucket) multi-exponentiation ∏ b_i^(e_i) mod m — docs/protocol.md §7.2."""
from __future__ import annotations

from typing import Any, Sequence

from verifier import arith


def window_bits(num_bases: int, max_bits: int) -> int:
    """c minimising ⌈bits/c⌉·(#bases + 2^(c+1)) (docs/protocol.md §7.2)."""
    best_c, best_cost = 1, None
    for c in range(1, 17):
        cost = -(-max_bits // c) * (num_bases + (1 << (c + 1)))
        if best_cost is None or cost < best_cost:
            best_c, best_cost = c, cost
    return best_c


def multiexp(bases: Sequence[Any], exponents: Sequence[int], modulus: Any) -> Any:
    """∏ bases[i]^exponents[i] mod modulus for non-negative exponents.

    Bucket method: exponents are cut into c-bit windows from the top; per window each base
    is multiplied into the bucket of its digit, and the buckets are summed with the running-
    product trick (Σ_d d·B_d with 2·2^c multiplications).  Between windows the accumulator is
    raised to 2^c with one powmod.
    """
    if len(bases) != len(exponents):
        raise ValueError("bases and exponents differ in length")
    m = arith.mpz(modulus)
    pairs = [(arith.mpz(b) % m, int(e)) for b, e in zip(bases, exponents) if e]
    for _, e in pairs:
        if e < 0:
            raise ValueError("negative exponent")
    if not pairs:
        return arith.mpz(1) % m
    if len(pairs) <= 2:
        acc = arith.mpz(1)
        for b, e in pairs:
            acc = acc * arith.powmod(b, e, m) % m
        return acc
    max_bits = max(e.bit_length() for _, e in pairs)
    c = window_bits(len(pairs), max_bits)
    mask = (1 << c) - 1
    windows = -(-max_bits // c)
    acc = None
    for w in range(windows - 1, -1, -1):
        shift = w * c
        buckets: list[Any] = [None] * (mask + 1)
        for b, e in pairs:
            d = (e >> shift) & mask
            if d:
                cur = buckets[d]
                buckets[d] = b if cur is None else cur * b % m
        running = None
        total = None
        for d in range(mask, 0, -1):
            bd = buckets[d]
            if bd is not None:
                running = bd if running is None else running * bd % m
            if running is not None:
                total = running if total is None else total * running % m
        if acc is not None:
            acc = arith.powmod(acc, 1 << c, m)
            if total is not None:
                acc = acc * total % m
        else:
            acc = total
    return arith.mpz(1) % m if acc is None else acc
