"""The short base h_s of the ballots and its parameters — docs/protocol.md §5.0, §5.3, §5.6.

h_s = h^n mod n² with h = −x² mod n and x = hash_to_unit(n; "ssb-vote/v3/short-base", n)
(§2.4): derived from n, chosen by nobody, not a field of the election key.  Ballots encrypt
with h_s^α, α < 2^A, A = ⌈bits(n)/2⌉ (§5.1); proofs have integer responses below 2^(S+1),
S = W + 128 + 80 (§5.3); opening a ballot with its seed computes c_i · h_s^(−α_i) (§5.6,
:func:`open_ciphertext`, the one opening function of the verifier).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from verifier import arith
from verifier.errors import InvalidInput

DOMAIN_SHORT_BASE = "ssb-vote/v3/short-base"
CHALLENGE_BITS = 128
HIDING_BITS = 80  # λ of protocol.md §5.3


@lru_cache(maxsize=8)
def _short_base(n: int, backend: str) -> Any:
    from verifier.keyproofs import hash_to_unit  # keyproofs imports proofs, which imports us

    nn = arith.mpz(n)
    x = hash_to_unit(n, DOMAIN_SHORT_BASE, int(n))
    h = (-(x * x)) % nn
    return arith.powmod(h, nn, nn * nn)


def short_base(n: int) -> Any:
    """h_s for the modulus n (protocol.md §5.0), in the arithmetic backend's type."""
    return _short_base(int(n), arith.BACKEND)


def short_bits(n: int) -> int:
    """A = ⌈bits(n)/2⌉ (protocol.md §1.2)."""
    return (int(n).bit_length() + 1) // 2


def zero_one_witness_bits(n: int) -> int:
    """W_0 = A (protocol.md §5.3)."""
    return short_bits(n)


def sum_witness_bits(n: int, num_candidates: int) -> int:
    """W_Σ = A + bits(N) (protocol.md §5.3)."""
    return short_bits(n) + int(num_candidates).bit_length()


def response_limit(witness_bits: int) -> int:
    """Responses are valid iff 0 ≤ z < 2^(W + 128 + λ + 1) (protocol.md §5.3, §5.4 step 2)."""
    return 1 << (witness_bits + CHALLENGE_BITS + HIDING_BITS + 1)


def short_power(n: int, exponent: int) -> Any:
    """h_s^exponent mod n² for any integer exponent (negative: the inverse)."""
    nn = arith.mpz(n)
    n2 = nn * nn
    if exponent < 0:
        return arith.invert(arith.powmod(short_base(n), -exponent, n2), n2)
    return arith.powmod(short_base(n), exponent, n2)


def open_ciphertext(n: int, c: int, alpha: int) -> int:
    """The opening of protocol.md §5.6: x = c · h_s^(−α) mod n²; returns m = (x − 1)/n if
    x ≡ 1 (mod n), else raises InvalidInput.  (The caller checks m ∈ {0, 1} and Σ m ≤ k.)"""
    nn = arith.mpz(n)
    x = arith.mpz(c) * short_power(n, -int(alpha)) % (nn * nn)
    if x % nn != 1:
        raise InvalidInput("the seed does not open this ciphertext (x ≢ 1 mod n)")
    return int((x - 1) // nn)


def opens_mod_n(n: int, c: int, alpha: int) -> bool:
    """Whether c · h_s^(−α) ≡ 1 (mod n), i.e. c ≡ h_s^α (mod n): the cheap test of docs/record.md §5
    check 31 (does a seed's α_0 open c_0?) — one power of h_s mod n, no inverse."""
    nn = arith.mpz(n)
    return bool(arith.mpz(c) % nn == arith.powmod(short_base(n) % nn, int(alpha), nn))
