"""Multi-exponentiation ∏ b_i^{e_i} mod M (docs/protocol.md §7.2) — raw arithmetic (hazmat).

Pippenger's bucket method on top of gmpy2: the exponents are cut into windows; in each window
every base whose exponent reaches into it is multiplied into the bucket of its digit, and the
buckets are combined with the running-product trick (≈ 2·2^w multiplications for a w-bit
window).  Window widths may differ from window to window: a batch mixes 64-bit weights (on the
proof commitments) with ~194-bit exponents (on the ciphertexts), so the low windows see many
more bases than the high ones.  The widths are chosen by dynamic programming over the bit
positions to minimise the estimated number of multiplications

    Σ_windows (#bases whose exponent reaches the window + 2^w + w)

(the last term: the w squarings that shift the accumulator by one window).  Cost is about one
multiplication per non-zero digit, versus ~1.2·bits per base for separate powmods — the reason
batch verification is cheap.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

from .gmp import GroupElement, mpz, powmod

#: Widest window (2^16 buckets of a 4096-bit modulus hold at most 32 MiB).
MAX_WINDOW_BITS = 16


def _schedule(counts_above: tuple[int, ...]) -> list[tuple[int, int]]:
    """Windows (shift, width) from the lowest bit up, covering bits 0 … len(counts_above)−1.

    ``counts_above[s]`` is the number of exponents with more than s bits (those that have
    digits at or above bit s).
    """
    bits = len(counts_above)
    best = [0.0] * (bits + 1)
    choice = [0] * (bits + 1)
    for s in range(bits - 1, -1, -1):
        best_cost, best_w = float("inf"), 1
        for w in range(1, min(MAX_WINDOW_BITS, bits - s) + 1):
            cost = counts_above[s] + (1 << w) + w + best[s + w]
            if cost < best_cost:
                best_cost, best_w = cost, w
        best[s], choice[s] = best_cost, best_w
    windows = []
    s = 0
    while s < bits:
        windows.append((s, choice[s]))
        s += choice[s]
    return windows


@lru_cache(maxsize=256)
def _cached_schedule(counts_above: tuple[int, ...]) -> list[tuple[int, int]]:
    return _schedule(counts_above)


def window_schedule(bit_lengths: Sequence[int]) -> list[tuple[int, int]]:
    """The windows (shift, width), lowest first, for exponents of the given bit lengths."""
    if not bit_lengths:
        return []
    bits = max(bit_lengths)
    histogram = [0] * (bits + 1)
    for length in bit_lengths:
        histogram[length] += 1
    counts_above = [0] * bits
    running = 0
    for s in range(bits - 1, -1, -1):
        running += histogram[s + 1]
        counts_above[s] = running
    return _cached_schedule(tuple(counts_above))


def multi_exp(bases: Sequence[GroupElement], exponents: Sequence[int], modulus: int) -> GroupElement:
    """∏ bases[i]^exponents[i] mod modulus for non-negative exponents.

    Raw: the bases are not validated (any integers, reduced mod ``modulus``)."""
    if len(bases) != len(exponents):
        raise ValueError("bases and exponents differ in length")
    mod = mpz(modulus)
    pairs = [(int(e), b if type(b) is mpz and 0 <= b < mod else mpz(b) % mod)
             for b, e in zip(bases, exponents) if e]
    if any(e < 0 for e, _ in pairs):
        raise ValueError("negative exponent")
    if not pairs:
        return mpz(1) % mod
    if len(pairs) == 1:
        return powmod(pairs[0][1], pairs[0][0], mod)
    # Longest exponents first: a window only visits the bases that reach into it (a prefix).
    pairs.sort(key=lambda pair: pair[0].bit_length(), reverse=True)
    lengths = [e.bit_length() for e, _ in pairs]
    windows = window_schedule(lengths)
    # reaching[s]: how many (sorted) exponents have more than s bits
    reaching: dict[int, int] = {}
    index = len(lengths)
    for shift, _ in windows:
        while index and lengths[index - 1] <= shift:
            index -= 1
        reaching[shift] = index
    result: Optional[GroupElement] = None
    for shift, width in reversed(windows):
        if result is not None:
            # width squarings shift the accumulated exponent below this window
            result = powmod(result, 1 << width, mod)
        mask = (1 << width) - 1
        buckets: list[Optional[GroupElement]] = [None] * (mask + 1)
        for e, base in pairs[: reaching[shift]]:
            digit = (e >> shift) & mask
            if digit:
                current = buckets[digit]
                buckets[digit] = base if current is None else current * base % mod
        running: Optional[GroupElement] = None
        window_total: Optional[GroupElement] = None
        for digit in range(mask, 0, -1):
            bucket = buckets[digit]
            if bucket is not None:
                running = bucket if running is None else running * bucket % mod
            if running is not None:
                window_total = running if window_total is None else window_total * running % mod
        if window_total is not None:
            result = window_total if result is None else result * window_total % mod
    return mpz(1) % mod if result is None else result
