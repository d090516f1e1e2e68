"""Pippenger (bucket) multi-exponentiation ∏ b_i^(e_i) mod m — docs/protocol.md §7.2.

The exponents are cut into windows; in a window every base whose exponent reaches into it is
multiplied into the bucket of its digit, and the buckets are combined by running products.  The
exponents of a batch are of mixed length (64-bit weights δ on the commitments, ≈ 194-bit E_i on
the ciphertexts), so the window widths differ along the exponent: the low windows, which every
base reaches, are wide; the high ones, which only the long exponents reach, are chosen for them.
A window at bits [s, s + w) costs about

    (#exponents longer than s bits) + 2^w + w

multiplications (one per base with a non-zero digit, the running products over the 2^w − 1
buckets — strictly two per bucket, which picks the same widths within a bit and runs as fast —
and w squarings to shift the accumulator), and :func:`window_schedule` picks the widths by
dynamic programming over s to minimise the sum.  (Performance only: every schedule gives the
same product.)
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from verifier import arith

#: Widest window: 2^16 buckets of 4096-bit values hold at most 32 MiB.
MAX_WINDOW_BITS = 16


@lru_cache(maxsize=64)
def _schedule(counts_above: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    bits = len(counts_above)
    best = [0] * (bits + 1)  # best[s]: cost of bits s … bits−1
    choice = [0] * (bits + 1)
    for s in range(bits - 1, -1, -1):
        best_cost, best_w = -1, 1
        for w in range(1, min(MAX_WINDOW_BITS, bits - s) + 1):
            cost = counts_above[s] + (1 << w) + w + best[s + w]
            if best_cost < 0 or cost < best_cost:
                best_cost, best_w = cost, w
        best[s], choice[s] = best_cost, best_w
    windows = []
    s = 0
    while s < bits:
        windows.append((s, choice[s]))
        s += choice[s]
    return tuple(windows)


def window_schedule(bit_lengths: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """The windows (shift s, width w), lowest first, covering every bit of exponents of the
    given bit lengths, with the least estimated cost (module docstring)."""
    bits = max(bit_lengths, default=0)
    if bits <= 0:
        return ()
    histogram = [0] * (bits + 1)
    for length in bit_lengths:
        histogram[length] += 1
    counts_above = [0] * bits  # counts_above[s]: exponents with more than s bits
    running = 0
    for s in range(bits - 1, -1, -1):
        running += histogram[s + 1]
        counts_above[s] = running
    return _schedule(tuple(counts_above))


def multiexp(bases: Sequence[Any], exponents: Sequence[int], modulus: Any) -> Any:
    """∏ bases[i]^exponents[i] mod modulus for non-negative exponents.

    Bases already in [0, modulus) and of the backend's integer type are used as they are (no
    copy: a batch's bases are most of a worker's memory)."""
    if len(bases) != len(exponents):
        raise ValueError("bases and exponents differ in length")
    m = arith.mpz(modulus)
    big = arith.mpz
    pairs = []
    for b, e in zip(bases, exponents):
        if e:
            if e < 0:
                raise ValueError("negative exponent")
            if type(b) is not big:
                b = big(b)
            pairs.append((int(e), b if 0 <= b < m else b % m))
    if not pairs:
        return big(1) % m
    if len(pairs) == 1:
        return arith.powmod(pairs[0][1], pairs[0][0], m)
    # longest exponents first: a window visits only the bases that reach into it, a prefix
    pairs.sort(key=lambda pair: pair[0].bit_length(), reverse=True)
    lengths = [e.bit_length() for e, _ in pairs]
    windows = window_schedule(lengths)
    reaching = []  # per window, lowest first: how many (sorted) exponents have > shift bits
    reach = len(pairs)
    for shift, _ in windows:
        while reach and lengths[reach - 1] <= shift:
            reach -= 1
        reaching.append(reach)
    result = None
    for (shift, width), reach in zip(reversed(windows), reversed(reaching)):
        if result is not None:
            result = arith.powmod(result, 1 << width, m)  # shift below this window
        mask = (1 << width) - 1
        buckets: list[Any] = [None] * (mask + 1)
        for i in range(reach):
            e, b = pairs[i]
            digit = (e >> shift) & mask
            if digit:
                current = buckets[digit]
                buckets[digit] = b if current is None else current * b % m
        running = None
        total = None
        for digit in range(mask, 0, -1):  # Σ_d d·B_d as a product of running products
            bucket = buckets[digit]
            if bucket is not None:
                running = bucket if running is None else running * bucket % m
            if running is not None:
                total = running if total is None else total * running % m
        if total is not None:
            result = total if result is None else result * total % m
    return big(1) % m if result is None else result
