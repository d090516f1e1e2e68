"""A dishonest dealer (tests only): election keys made the way a cheating key ceremony would
(issue 17, docs/protocol.md §6.10, §10).

:func:`dishonest_key` follows docs/protocol.md §6.1 step by step for primes the caller chose —
with real signing keys, real proofs (Π^mod, Π^fac are made honestly for whatever p, q are given)
and real shares — except where the caller makes it cheat: ``secret`` shares another value than d
(0: every count decrypts to 0), ``base`` replaces the derived verification base (1, an n-th
residue, or any value), ``tamper`` edits the trustees' v_i.  Nothing is checked: the point is to
see which check of docs/protocol.md §6.2 refuses the result.

The primes: :func:`prime_3_mod_4`, :func:`smooth_prime` (p − 1 a product of small primes, so
Pollard's p − 1 factors n) and :func:`small_safe_prime` (a factor too small for Π^fac whose p − 1
still has a large prime factor).
"""
from __future__ import annotations

import secrets
from math import factorial
from typing import Callable, Optional, Union

import gmpy2

from crypto.hazmat.gmp import invert, powmod
from crypto.keyproofs import key_id, prove_factors, prove_modulus, verification_base
from crypto.paillier import PublicKey
from crypto.threshold import ElectionPublicKey, KeyProofs, TrusteeKey, TrusteeShare, signing_public_key

Base = Union[int, str]  # "derived" (honest), "one", "nth-residue" or an integer


def prime_3_mod_4(bits: int) -> int:
    """A random prime ≡ 3 (mod 4) of exactly ``bits`` bits, top two bits set."""
    while True:
        p = int(gmpy2.next_prime(secrets.randbits(bits) | (3 << (bits - 2))))
        if p % 4 == 3 and p.bit_length() == bits:
            return p


def cofactor(p: int, bits: int) -> int:
    """A prime q ≡ 3 (mod 4) with p·q of exactly ``bits`` bits."""
    while True:
        for size in (bits - p.bit_length(), bits - p.bit_length() + 1):
            q = prime_3_mod_4(size)
            if (p * q).bit_length() == bits and q != p:
                return q


def smooth_prime(bits: int, bound: int = 1 << 16) -> int:
    """A prime p ≡ 3 (mod 4) of ``bits`` bits with p − 1 = 2 · (distinct odd primes < ``bound``):
    Pollard's p − 1 factors any n it divides."""
    small = [int(r) for r in range(3, bound, 2) if gmpy2.is_prime(r)]
    chooser = secrets.SystemRandom()
    while True:
        order = chooser.sample(small, len(small))  # distinct primes: every prime power of p − 1 is below ``bound``
        product, k = 2, 0
        while (product * order[k]).bit_length() < bits - 1:
            product *= order[k]
            k += 1
        for r in order[k:k + 2000]:  # the last factor: p − 1 = product · r of exactly ``bits`` bits
            p = product * r + 1
            if p.bit_length() == bits and gmpy2.is_prime(p):
                return p


def small_safe_prime(bits: int) -> int:
    """A safe prime p = 2p′ + 1 of ``bits`` bits (p ≡ 3 mod 4): too large for trial division and
    Pollard's p − 1, small enough for Π^fac to refuse."""
    while True:
        r = int(gmpy2.next_prime(secrets.randbits(bits - 1) | (1 << (bits - 2))))
        p = 2 * r + 1
        if p.bit_length() == bits and gmpy2.is_prime(p):
            return p


def dishonest_key(
    p: int, q: int, trustees: list[str], threshold: int, *, secret: Optional[int] = None, base: Base = "derived",
    tamper: Optional[Callable[[list[int]], list[int]]] = None, allow_insecure_test_key: bool = True,
) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    """The key ceremony of docs/protocol.md §6.1 with primes p, q (≡ 3 mod 4), cheating as asked;
    returns the key and the trustees' shares (with their signing seeds).  No check is run."""
    n = p * q
    n2 = n * n
    m = (p - 1) * (q - 1) // int(gmpy2.gcd(p - 1, q - 1))  # λ(n): d ≡ 0 on every n-th residue, any primes
    nm = n * m
    d = m * int(invert(m, n)) % nm
    seeds = [secrets.token_bytes(32) for _ in trustees]
    signing = [signing_public_key(seed) for seed in seeds]
    kid = key_id(n, threshold, [(i, name, sk) for i, (name, sk) in enumerate(zip(trustees, signing), start=1)])
    if base == "derived":
        v = int(verification_base(n, kid))
    elif base == "one":
        v = 1
    elif base == "nth-residue":  # class 0: the proofs of §6.3 then bind nothing the count depends on
        h = secrets.randbelow(n - 2) + 2
        v = int(powmod(h, 2 * n, n2))
    else:
        v = int(base)
    coefficients = [d if secret is None else secret] + [secrets.randbelow(nm) for _ in range(threshold - 1)]
    delta = factorial(len(trustees))
    values = []
    for i in range(1, len(trustees) + 1):
        s_i = 0
        for c in reversed(coefficients):
            s_i = (s_i * i + c) % nm
        values.append(s_i)
    verification = [int(powmod(v, delta * s_i, n2)) for s_i in values]
    if tamper is not None:
        verification = tamper(verification)
    keys = tuple(TrusteeKey(i, name, verification[i - 1], signing[i - 1]) for i, name in enumerate(trustees, start=1))
    proofs = KeyProofs(prove_modulus(p, q, kid), prove_factors(p, q, kid))
    key = ElectionPublicKey(PublicKey(n, allow_insecure_test_key), threshold, v, keys, proofs)
    shares = [TrusteeShare(i, trustees[i - 1], values[i - 1], key, seeds[i - 1]) for i in range(1, len(trustees) + 1)]
    return key, shares


def class_of(x: int, p: int, q: int) -> int:
    """[x]: the plaintext class of x ∈ Z*_{n²} (docs/protocol.md §6.10), with the factors."""
    n = p * q
    lam = (p - 1) * (q - 1)
    u = int(powmod(x, lam, n * n))
    return (u - 1) // n * int(invert(lam, n)) % n


def forged_secret(share: TrusteeShare, p: int, q: int, target: int) -> int:
    """For a key whose v is an n-th residue: a secret s′ with v^(Δs′) = v_i (so the trustee's
    proof verifies) but Δ·s′ ≡ ``target`` (mod n) — the class every share_j then gets is the
    dealer's choice (CRT over n and λ(n), which only the dealer can compute)."""
    n = p * q
    lam = (p - 1) * (q - 1)
    delta = share.election_key.delta
    s_mod_lam = share.secret_share % lam
    s_mod_n = target * int(invert(delta, n)) % n
    # s′ ≡ s_i (mod λ), s′ ≡ target/Δ (mod n); gcd(n, λ) = 1
    return int((s_mod_lam + lam * ((s_mod_n - s_mod_lam) * int(invert(lam, n)) % n)) % (n * lam))


__all__ = ["class_of", "cofactor", "dishonest_key", "forged_secret", "prime_3_mod_4", "small_safe_prime", "smooth_prime"]
