"""The election key's values nobody chooses and the dealer's proofs that n is well formed —
docs/protocol.md §2.4 (hash_to_unit), §6.1 step 4 (key id K), §6.2 (the arithmetic of
``key.public`` and of the small-order test), protocol.md §6.6 (verification base), protocol.md §6.8 (Π^mod), protocol.md §6.9
(Π^fac), protocol.md §9.7–protocol.md §9.8 (their JSON shapes, signed integers).

Written from the documents alone; the verifier's checks 4 and 24–26 (verifier.checks.keys)
call these functions.  Every verifier raises :class:`~verifier.errors.InvalidInput` for a
malformed value and :class:`~verifier.proofs.InvalidProof` for an equation that fails, with a
message naming the value or the equation.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from verifier import arith
from verifier.encoding import expect_list, expect_object, lp, parse_count, parse_hex_int
from verifier.errors import InvalidInput
from verifier.hashing import challenge
from verifier.proofs import InvalidProof

DOMAIN_KEY_ID = "ssb-vote/v2/election-key"
DOMAIN_VERIFICATION_BASE = "ssb-vote/v2/verification-base"
DOMAIN_MODULUS = "ssb-vote/v2/proof/modulus"
DOMAIN_FACTORS = "ssb-vote/v2/proof/key-factors"
DOMAIN_RING_PEDERSEN = "ssb-vote/v2/ring-pedersen"
DEALER = "dealer"

SMALL_FACTOR_BOUND = 1 << 16  # trial division (§6.2)
SMALL_ORDER_BOUND = 1 << 16  # v, v_i: no order below this (§6.2)
POLLARD_BOUND = 1 << 20  # Pollard p − 1, stage 1 (§6.2, protocol.md §8)
MODULUS_ROUNDS = 128  # Π^mod fourth-root rounds (protocol.md §6.8, protocol.md §8)
MODULUS_ROOT_ROUNDS = 8  # Π^mod n-th-root rounds
FACTOR_C = 128  # Π^fac challenge bits c (protocol.md §6.9)

#: RSA-2048 of the RSA Factoring Challenge (docs/protocol.md §6.9), its decimal digits.
RSA_2048_DECIMAL = (
    "25195908475657893494027183240048398571429282126204032027777137836043662020707595556264018525880784"
    "40691829064124951508218929855914917618450280848912007284499268739280728777673597141834727026189637"
    "50149718246911650776133798590957000973304597488084284017974291006424586918171951187461215151726546"
    "32282216869987549182422433637259085141865462043576798423387184774447920739934236584823824281198163"
    "81501067481045166037730605620161967625613384414360383390441495263443219011465754445417842402092461"
    "65157233507787077498171257724679629263863563732899121548314381678998850404453640235273819513786365"
    "64391212010397122822120720357")
RSA_2048_SHA256 = "b3c2468add10e2a0c4a251d9d2bac4ba04d4b3527156ceead43a1305e03f1fc0"
if hashlib.sha256(RSA_2048_DECIMAL.encode("ascii")).hexdigest() != RSA_2048_SHA256:
    raise AssertionError("RSA-2048 digits do not match docs/protocol.md §6.9")  # pragma: no cover
RSA_2048 = int(RSA_2048_DECIMAL)


# --- §2.4 hash_to_unit ------------------------------------------------------------------------

def expand(data: bytes, length: int) -> bytes:
    """The first ``length`` bytes of SHA-256(data ‖ u32be(0)) ‖ SHA-256(data ‖ u32be(1)) ‖ …"""
    blocks = []
    for counter in range(-(-length // 32)):
        blocks.append(hashlib.sha256(data + counter.to_bytes(4, "big")).digest())
    return b"".join(blocks)[:length]


def hash_to_unit(modulus: int, *items: Any) -> Any:
    """hash_to_unit(M; x_1 … x_k): the first u = int_be(expand(LP(x_1 … x_k, a),
    ⌈bits(M)/8⌉ + 16)) mod M, a = 0, 1, …, with u ≠ 0 and gcd(u, M) = 1 (§2.4)."""
    m = arith.mpz(modulus)
    length = (int(modulus).bit_length() + 7) // 8 + 16
    a = 0
    while True:
        u = arith.from_bytes(expand(lp(*items, a), length)) % m
        if u != 0 and arith.gcd(u, m) == 1:
            return u
        a += 1  # pragma: no cover - would mean the hash found a factor of M


# --- §6.1 key id, protocol.md §6.6 verification base --------------------------------------------------------

def key_id(n: int, threshold: int, trustees: Sequence[tuple[int, str, str]]) -> str:
    """K = hex SHA-256(LP("ssb-vote/v2/election-key", n, t, [[i, name_i, signing_key_i] …]))
    — indices integer items, names and signing keys string items (§6.1 step 4)."""
    listed = [[int(i), name, key] for i, name, key in trustees]
    return hashlib.sha256(lp(DOMAIN_KEY_ID, int(n), int(threshold), listed)).hexdigest()


def verification_class(n: int, kid: str) -> Any:
    """κ = hash_to_unit(n; "ssb-vote/v2/verification-base", K, "class") (protocol.md §6.6)."""
    return hash_to_unit(n, DOMAIN_VERIFICATION_BASE, kid, "class")


def verification_base(n: int, kid: str) -> Any:
    """v = ((1 + κ·n) · h^n)² mod n² with h = hash_to_unit(n; …, K, "residue") (protocol.md §6.6)."""
    nn = arith.mpz(n)
    n2 = nn * nn
    kappa = verification_class(n, kid)
    h = hash_to_unit(n, DOMAIN_VERIFICATION_BASE, kid, "residue")
    x = (1 + kappa * nn) * arith.powmod(h, nn, n2) % n2
    return x * x % n2


# --- §6.2 arithmetic: L_B, trial division, Pollard, small order --------------------------------

@lru_cache(maxsize=4)
def primes_below(bound: int) -> tuple[int, ...]:
    sieve = bytearray([1]) * bound
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(bound ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, bound, i)))
    return tuple(i for i in range(bound) if sieve[i])


def _product_tree(values: list[Any]) -> Any:
    while len(values) > 1:
        values = [values[i] * values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0] if values else arith.mpz(1)


@lru_cache(maxsize=4)
def _lcm_below(bound: int, backend: str) -> Any:
    powers = []
    for r in primes_below(bound):
        power = r
        while power * r < bound:
            power *= r
        powers.append(arith.mpz(power))
    return _product_tree(powers)


def lcm_below(bound: int) -> Any:
    """L_B = lcm(1, 2, …, B − 1): the product over the primes r < B of the largest power of r
    below B (§6.2; 94 448 bits for B = 2^16, 1 512 565 bits for B = 2^20)."""
    return _lcm_below(bound, arith.BACKEND)


@lru_cache(maxsize=4)
def _small_primes_product(bound: int, backend: str) -> Any:
    return _product_tree([arith.mpz(r) for r in primes_below(bound)])


def small_primes_product(bound: int = SMALL_FACTOR_BOUND) -> Any:
    """∏ of the primes below ``bound``: gcd(n, this) = 1 means no prime factor below it."""
    return _small_primes_product(bound, arith.BACKEND)


def pollard_p_minus_1(n: int, bound: int = POLLARD_BOUND) -> int:
    """gcd((2^(L_B) mod n) − 1, n): Pollard's p − 1, stage 1 (§6.2).  1 when nothing is
    found; otherwise a factor of n (n itself when every prime factor has a smooth p − 1)."""
    nn = arith.mpz(n)
    return int(arith.gcd((arith.powmod(2, lcm_below(bound), nn) - 1) % nn, nn))


def has_small_order(x: int, n: int, bound: int = SMALL_ORDER_BOUND) -> bool:
    """x^(L_B) ≡ 1 (mod n²): every element of order < B has it (§6.2).  Tested mod n first:
    x^(L_B) ≢ 1 (mod n) already settles it."""
    nn = arith.mpz(n)
    exponent = lcm_below(bound)
    if arith.powmod(arith.mpz(x), exponent, nn) != 1:
        return False
    return bool(arith.powmod(arith.mpz(x), exponent, nn * nn) == 1)


# --- protocol.md §9.7 signed integers -----------------------------------------------------------------------

SIGNED_RE = re.compile(r"^(0|-?[1-9a-f][0-9a-f]*)\Z")
MAX_HEX_DIGITS = 4096


def parse_signed(value: Any, what: str) -> int:
    """A signed integer of a key proof (protocol.md §9.7): canonical hex, ``-`` before a negative one,
    no ``-0``; at most 4096 hex digits (§2.3)."""
    if not isinstance(value, str) or not SIGNED_RE.match(value):
        raise InvalidInput(f"{what}: not a canonical signed hex integer")
    if len(value.lstrip("-")) > MAX_HEX_DIGITS:
        raise InvalidInput(f"{what}: longer than {MAX_HEX_DIGITS} hex digits")
    return int(value, 16)


def signed_text(x: int) -> str:
    """The protocol.md §9.7 text of a signed integer."""
    return "-" + format(-x, "x") if x < 0 else format(x, "x")


# --- protocol.md §6.8 Π^mod ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModulusProof:
    """protocol.md §9.7: w, x_0 … x_127, a_i, b_i ∈ {0, 1}, z_0 … z_7."""

    w: int
    x: tuple[int, ...]
    a: tuple[int, ...]
    b: tuple[int, ...]
    z: tuple[int, ...]


def parse_modulus_proof(obj: Any) -> ModulusProof:
    """The protocol.md §9.7 shape (exact keys, lengths, canonical hex, bits 0 or 1)."""
    what = "proofs.modulus"
    expect_object(obj, ("w", "x", "a", "b", "z"), what)
    w = parse_hex_int(obj["w"], f"{what}.w")
    x = tuple(parse_hex_int(v, f"{what}.x[{i}]")
              for i, v in enumerate(expect_list(obj["x"], f"{what}.x", MODULUS_ROUNDS)))
    a = tuple(parse_count(v, f"{what}.a[{i}]", 0, 1)
              for i, v in enumerate(expect_list(obj["a"], f"{what}.a", MODULUS_ROUNDS)))
    b = tuple(parse_count(v, f"{what}.b[{i}]", 0, 1)
              for i, v in enumerate(expect_list(obj["b"], f"{what}.b", MODULUS_ROUNDS)))
    z = tuple(parse_hex_int(v, f"{what}.z[{i}]")
              for i, v in enumerate(expect_list(obj["z"], f"{what}.z", MODULUS_ROOT_ROUNDS)))
    return ModulusProof(w, x, a, b, z)


def modulus_challenge(n: int, kid: str, w: int, i: int) -> Any:
    """y_i = hash_to_unit(n; "ssb-vote/v2/proof/modulus", K, w, i), w and i integer items."""
    return hash_to_unit(n, DOMAIN_MODULUS, kid, int(w), i)


def verify_modulus_proof(n: int, kid: str, proof: ModulusProof) -> None:
    """Π^mod's verifier (protocol.md §6.8), after ``key.public``: w, x_i, z_i in [1, n); (w | n) = −1;
    z_i^n ≡ y_i (mod n) for i < 8; x_i^4 ≡ (−1)^(a_i)·w^(b_i)·y_i (mod n) for i < 128."""
    nn = arith.mpz(n)
    for label, value in (("w", proof.w), *((f"x[{i}]", v) for i, v in enumerate(proof.x)),
                         *((f"z[{i}]", v) for i, v in enumerate(proof.z))):
        if not 0 < value < n:
            raise InvalidInput(f"proofs.modulus.{label}: not in [1, n)")
    if arith.jacobi(arith.mpz(proof.w), nn) != -1:
        raise InvalidProof("proofs.modulus.w: Jacobi symbol (w | n) is not −1")
    w = arith.mpz(proof.w)
    for i in range(MODULUS_ROUNDS):
        y = modulus_challenge(n, kid, proof.w, i)
        if i < MODULUS_ROOT_ROUNDS and arith.powmod(arith.mpz(proof.z[i]), nn, nn) != y:
            raise InvalidProof(f"proofs.modulus.z[{i}]: z^n ≢ y_{i} (mod n)")
        want = y
        if proof.a[i]:
            want = (nn - want) % nn
        if proof.b[i]:
            want = want * w % nn
        if arith.powmod(arith.mpz(proof.x[i]), 4, nn) != want:
            raise InvalidProof(f"proofs.modulus.x[{i}]: x^4 ≢ (−1)^a·w^b·y_{i} (mod n)")


# --- protocol.md §6.9 Π^fac ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FactorProof:
    """protocol.md §9.8: P, Q, A, B, T (mod N̂) and the signed integers σ, z1, z2, w1, w2, v."""

    P: int
    Q: int
    A: int
    B: int
    T: int
    sigma: int
    z1: int
    z2: int
    w1: int
    w2: int
    v: int


FACTOR_GROUP = ("A", "B", "P", "Q", "T")
FACTOR_SIGNED = ("sigma", "v", "w1", "w2", "z1", "z2")


def parse_factor_proof(obj: Any) -> FactorProof:
    """The protocol.md §9.8 shape: exact keys, the commitments canonical hex, the rest signed (protocol.md §9.7)."""
    what = "proofs.factors"
    expect_object(obj, FACTOR_GROUP + FACTOR_SIGNED, what)
    values = {k: parse_hex_int(obj[k], f"{what}.{k}") for k in FACTOR_GROUP}
    values.update({k: parse_signed(obj[k], f"{what}.{k}") for k in FACTOR_SIGNED})
    return FactorProof(**values)


@lru_cache(maxsize=2)
def _ring_pedersen(backend: str) -> tuple[Any, Any, Any]:
    big_n = arith.mpz(RSA_2048)
    s = arith.powmod(hash_to_unit(RSA_2048, DOMAIN_RING_PEDERSEN, "s"), 2, big_n)
    t = arith.powmod(hash_to_unit(RSA_2048, DOMAIN_RING_PEDERSEN, "t"), 2, big_n)
    return big_n, s, t


def ring_pedersen() -> tuple[Any, Any, Any]:
    """(N̂, s, t): RSA-2048 and the two squares from hash_to_unit (protocol.md §6.9)."""
    return _ring_pedersen(arith.BACKEND)


def factor_epsilon(bits: int) -> int:
    """ε = 128 if b ≥ 2048, else 64 (protocol.md §6.9)."""
    return 128 if bits >= 2048 else 64


def factor_bound_bits(bits: int) -> int:
    """Both factors exceed 2^(⌊b/2⌋ − c − ε − 3) (protocol.md §6.9: 2^765 for b = 2048, 2^61 at 512)."""
    return bits // 2 - FACTOR_C - factor_epsilon(bits) - 3


def _pow_signed(base: Any, e: int, m: Any) -> Any:
    """base^e mod m for any integer e (negative: the inverse)."""
    if e < 0:
        return arith.powmod(arith.invert(base, m), -e, m)
    return arith.powmod(base, e, m)


def factor_challenge(n: int, kid: str, proof: FactorProof) -> int:
    """e = challenge("ssb-vote/v2/proof/key-factors", K, n, "", "dealer", [N̂, s, t],
    [P, Q, A, B, T, σ]) — σ as its signed-hex text, a string item (protocol.md §6.9)."""
    big_n, s, t = ring_pedersen()
    return challenge(DOMAIN_FACTORS, kid, n, "", DEALER, [int(big_n), int(s), int(t)],
                     [proof.P, proof.Q, proof.A, proof.B, proof.T, signed_text(proof.sigma)])


def verify_factor_proof(n: int, kid: str, proof: FactorProof) -> None:
    """Π^fac's verifier (protocol.md §6.9): P, Q, A, B, T in [1, N̂) and units; |z1|, |z2| <
    2^(c+ε+1)·S with S = 2^⌈b/2⌉; s^z1·t^w1 ≡ A·P^e, s^z2·t^w2 ≡ B·Q^e, Q^z1·t^v ≡ T·R^e
    (mod N̂) with R = s^n·t^σ."""
    big_n, s, t = ring_pedersen()
    for name in FACTOR_GROUP:
        value = getattr(proof, name)
        if not 0 < value < RSA_2048 or arith.gcd(arith.mpz(value), big_n) != 1:
            raise InvalidInput(f"proofs.factors.{name}: not a unit in [1, N̂)")
    bits = int(n).bit_length()
    bound = 1 << (FACTOR_C + factor_epsilon(bits) + 1 + (bits + 1) // 2)
    for name in ("z1", "z2"):
        if not abs(getattr(proof, name)) < bound:
            raise InvalidProof(f"proofs.factors.{name}: |{name}| ≥ 2^(c+ε+1)·S — a factor of n "
                               f"may be below 2^{factor_bound_bits(bits)}")
    e = factor_challenge(n, kid, proof)
    P, Q, A, B, T = (arith.mpz(getattr(proof, k)) for k in ("P", "Q", "A", "B", "T"))
    R = arith.powmod(s, arith.mpz(n), big_n) * _pow_signed(t, proof.sigma, big_n) % big_n
    if (_pow_signed(s, proof.z1, big_n) * _pow_signed(t, proof.w1, big_n) % big_n
            != A * arith.powmod(P, e, big_n) % big_n):
        raise InvalidProof("proofs.factors: s^z1·t^w1 ≢ A·P^e (mod N̂)")
    if (_pow_signed(s, proof.z2, big_n) * _pow_signed(t, proof.w2, big_n) % big_n
            != B * arith.powmod(Q, e, big_n) % big_n):
        raise InvalidProof("proofs.factors: s^z2·t^w2 ≢ B·Q^e (mod N̂)")
    if (_pow_signed(Q, proof.z1, big_n) * _pow_signed(t, proof.v, big_n) % big_n
            != T * arith.powmod(R, e, big_n) % big_n):
        raise InvalidProof("proofs.factors: Q^z1·t^v ≢ T·R^e (mod N̂)")
