"""Values nobody chooses and proofs that n is well formed (docs/protocol.md §2.4, §6.6, §6.8, §6.9).

* :func:`hash_to_unit` — a unit mod M from a hash (§2.4).
* :func:`key_id` and :func:`verification_base` — the key id K of the dealer's choices and the
  verification base v = ((1 + κn)·h^n)² derived from it (§6.1, protocol.md §6.6): its class 2κ is public.
* :class:`ModulusProof` — Π^mod, the Paillier–Blum modulus proof of Canetti, Gennaro, Goldfeder,
  Makriyannis and Peled 2021 (Fig. 16): n = pq, p ≡ q ≡ 3 (mod 4), gcd(n, φ(n)) = 1 (protocol.md §6.8).
* :class:`FactorProof` — Π^fac, their no-small-factor proof (Fig. 28) against the ring-Pedersen
  bases s, t derived from a hash modulo RSA-2048, whose factors nobody knows (protocol.md §6.9).
* :func:`lcm_below`, :func:`pollard_factor`, :func:`small_primes_product` — the arithmetic of the
  `key.public` and small-order checks (§6.2).

The checks that use them on a whole election key are :mod:`crypto.keycheck`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from .encoding import LpItem, hex_to_int, int_to_hex, lp_encode, require_int, require_list, require_object
from .errors import InvalidInput, InvalidProof
from .hashing import challenge
from .hazmat.gmp import gcd, invert, jacobi, legendre, mpz, powmod
from .randomness import random_below

#: The RSA Factoring Challenge number RSA-2048 (RSA Laboratories, 1991; its factors were destroyed).
RSA_2048_DECIMAL = (
    "25195908475657893494027183240048398571429282126204032027777137836043662020707595556264018525880784"
    "40691829064124951508218929855914917618450280848912007284499268739280728777673597141834727026189637"
    "50149718246911650776133798590957000973304597488084284017974291006424586918171951187461215151726546"
    "32282216869987549182422433637259085141865462043576798423387184774447920739934236584823824281198163"
    "81501067481045166037730605620161967625613384414360383390441495263443219011465754445417842402092461"
    "65157233507787077498171257724679629263863563732899121548314381678998850404453640235273819513786365"
    "64391212010397122822120720357"
)
RSA_2048_DECIMAL_SHA256 = "b3c2468add10e2a0c4a251d9d2bac4ba04d4b3527156ceead43a1305e03f1fc0"
assert hashlib.sha256(RSA_2048_DECIMAL.encode("ascii")).hexdigest() == RSA_2048_DECIMAL_SHA256
RSA_2048 = int(RSA_2048_DECIMAL)

DOMAIN_KEY_ID = "ssb-vote/v2/election-key"
DOMAIN_VERIFICATION_BASE = "ssb-vote/v2/verification-base"
DOMAIN_MODULUS_PROOF = "ssb-vote/v2/proof/modulus"
DOMAIN_FACTOR_PROOF = "ssb-vote/v2/proof/key-factors"
DOMAIN_RING_PEDERSEN = "ssb-vote/v2/ring-pedersen"
DOMAIN_SHORT_BASE = "ssb-vote/v3/short-base"
DEALER_PARTY = "dealer"

#: Π^mod: fourth-root rounds (soundness 1/2 each) and n-th-root rounds (≤ 2^-16 each, protocol.md §6.8).
MODULUS_ROUNDS = 128
MODULUS_ROOT_ROUNDS = 8
#: Π^fac challenge bits c (protocol.md §6.9).
FACTOR_CHALLENGE_BITS = 128
#: Trial division, small-order and Pollard p − 1 bounds (§6.2, protocol.md §8).
SMALL_FACTOR_BOUND = 1 << 16
SMALL_ORDER_BOUND = 1 << 16
POLLARD_BOUND = 1 << 20


def factor_slack(bits: int) -> int:
    """Π^fac's statistical slack ε: 128 for production sizes, 64 for test keys (protocol.md §6.9)."""
    return 128 if bits >= 2048 else 64


def factor_bound_bits(bits: int) -> int:
    """Π^fac proves both factors of a ``bits``-bit n exceed 2^(this) (protocol.md §6.9)."""
    return bits // 2 - FACTOR_CHALLENGE_BITS - factor_slack(bits) - 3


# ---------------------------------------------------------------------------------------------
# §2.4 hashing to integers


def expand(data: bytes, length: int) -> bytes:
    """The first ``length`` bytes of SHA-256(data ‖ u32be(0)) ‖ SHA-256(data ‖ u32be(1)) ‖ …"""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(data + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def hash_to_unit(modulus: int, *items: LpItem) -> mpz:
    """The first u = int_be(expand(LP(items…, a), ⌈bits(M)/8⌉ + 16)) mod M, a = 0, 1, …, with
    u ≠ 0 and gcd(u, M) = 1 (§2.4)."""
    length = (modulus.bit_length() + 7) // 8 + 16
    attempt = 0
    while True:
        u = mpz(int.from_bytes(expand(lp_encode(*items, attempt), length), "big")) % modulus
        if u and gcd(u, modulus) == 1:
            return mpz(u)
        attempt += 1  # pragma: no cover - would reveal a factor of the modulus


# ---------------------------------------------------------------------------------------------
# §6.1 key id, protocol.md §6.6 verification base


def key_id(n: int, threshold: int, trustees: Sequence[tuple[int, str, str]]) -> str:
    """K = hex SHA-256(LP("ssb-vote/v2/election-key", n, t, [[i, name_i, signing_key_i] …])) (§6.1)."""
    items: list[Any] = [[int(i), name, signing_key] for i, name, signing_key in trustees]
    return hashlib.sha256(lp_encode(DOMAIN_KEY_ID, int(n), int(threshold), items)).hexdigest()


def verification_class(n: int, kid: str) -> mpz:
    """κ = hash_to_unit(n; "ssb-vote/v2/verification-base", K, "class") (protocol.md §6.6)."""
    return hash_to_unit(n, DOMAIN_VERIFICATION_BASE, kid, "class")


def verification_base(n: int, kid: str) -> mpz:
    """v = ((1 + κ·n) · h^n)² mod n², κ and h from hash_to_unit (protocol.md §6.6)."""
    n = mpz(n)
    n2 = n * n
    kappa = verification_class(n, kid)
    h = hash_to_unit(n, DOMAIN_VERIFICATION_BASE, kid, "residue")
    x = (1 + kappa * n) * powmod(h, n, n2) % n2
    return mpz(x * x % n2)


def short_base(n: int) -> mpz:
    """h_s = h^n mod n² with h = −x² mod n, x = hash_to_unit(n; "ssb-vote/v3/short-base", n)
    (protocol.md §5.0): the ballots' fixed base, derived from n alone."""
    n = mpz(n)
    x = hash_to_unit(n, DOMAIN_SHORT_BASE, int(n))
    h = (-(x * x)) % n
    return powmod(h, n, n * n)


# ---------------------------------------------------------------------------------------------
# signed integers (protocol.md §9.7)

_SIGNED_RE = re.compile(r"\A(?:0|-?[1-9a-f][0-9a-f]*)\Z")
_MAX_SIGNED_DIGITS = 4096


def signed_to_hex(value: int) -> str:
    """Canonical hex, with a leading '-' for negative values (protocol.md §9.7)."""
    value = int(value)
    return "-" + int_to_hex(-value) if value < 0 else int_to_hex(value)


def hex_to_signed(text: Any, what: str) -> int:
    if not isinstance(text, str) or len(text) > _MAX_SIGNED_DIGITS + 1 or not _SIGNED_RE.match(text):
        raise InvalidInput(f"{what}: not a canonical signed hex integer")
    return int(text, 16)


def _symmetric(bound: int) -> int:
    """Uniform in [−bound, bound]."""
    return random_below(2 * bound + 1) - bound


# ---------------------------------------------------------------------------------------------
# protocol.md §6.8 Π^mod


def modulus_challenge(n: int, kid: str, w: int, index: int) -> mpz:
    """y_i = hash_to_unit(n; "ssb-vote/v2/proof/modulus", K, w, i) (protocol.md §6.8)."""
    return hash_to_unit(n, DOMAIN_MODULUS_PROOF, kid, int(w), index)


@dataclass(frozen=True)
class ModulusProof:
    """Π^mod (protocol.md §6.8, protocol.md §9.7): w with (w|n) = −1, fourth roots x_i with bits a_i, b_i, n-th roots z_i."""

    w: int
    x: tuple[int, ...]
    a: tuple[int, ...]
    b: tuple[int, ...]
    z: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"w": int_to_hex(self.w), "x": [int_to_hex(v) for v in self.x], "a": list(self.a),
                "b": list(self.b), "z": [int_to_hex(v) for v in self.z]}

    @classmethod
    def from_dict(cls, obj: Any, n: int) -> "ModulusProof":
        what = "modulus proof"
        data = require_object(obj, {"w", "x", "a", "b", "z"}, what)
        values = require_list(data["x"], f"{what} x", length=MODULUS_ROUNDS)
        roots = require_list(data["z"], f"{what} z", length=MODULUS_ROOT_ROUNDS)
        bits_a = require_list(data["a"], f"{what} a", length=MODULUS_ROUNDS)
        bits_b = require_list(data["b"], f"{what} b", length=MODULUS_ROUNDS)
        return cls(
            hex_to_int(data["w"], f"{what} w", lower=1, upper=n),
            tuple(hex_to_int(v, f"{what} x[{i}]", lower=1, upper=n) for i, v in enumerate(values)),
            tuple(require_int(v, f"{what} a[{i}]", upper=2) for i, v in enumerate(bits_a)),
            tuple(require_int(v, f"{what} b[{i}]", upper=2) for i, v in enumerate(bits_b)),
            tuple(hex_to_int(v, f"{what} z[{i}]", lower=1, upper=n) for i, v in enumerate(roots)),
        )


def _crt(rp: int, rq: int, p: int, q: int, q_inv_p: int) -> mpz:
    """The x mod pq with x ≡ rp (mod p), x ≡ rq (mod q) (Garner)."""
    return mpz(rq + q * ((rp - rq) * q_inv_p % p))


def prove_modulus(p: int, q: int, kid: str) -> ModulusProof:
    """Π^mod for n = pq with p ≡ q ≡ 3 (mod 4) (protocol.md §6.8).  Secret inputs p, q."""
    p, q = mpz(p), mpz(q)
    if p % 4 != 3 or q % 4 != 3 or p == q:
        raise InvalidInput("modulus proof: p and q must be distinct primes ≡ 3 (mod 4)")
    n = p * q
    while True:
        w = mpz(random_below(int(n)))
        if w > 0 and jacobi(w, n) == -1:
            break
    q_inv_p = invert(q, p)
    fourth_p = ((p + 1) // 4) ** 2 % (p - 1)  # x = y^(((p+1)/4)²): a fourth root of a residue y
    fourth_q = ((q + 1) // 4) ** 2 % (q - 1)
    n_inv_p = invert(n, p - 1)  # y^(n⁻¹ mod φ) mod p = y^(n⁻¹ mod (p−1)) mod p
    n_inv_q = invert(n, q - 1)
    w_p, w_q = legendre(w, p), legendre(w, q)
    xs: list[int] = []
    bits_a: list[int] = []
    bits_b: list[int] = []
    zs: list[int] = []
    for i in range(MODULUS_ROUNDS):
        y = modulus_challenge(n, kid, w, i)
        l_p, l_q = legendre(y, p), legendre(y, q)
        for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
            sign = -1 if a else 1
            if l_p * sign * (w_p if b else 1) == 1 and l_q * sign * (w_q if b else 1) == 1:
                break
        else:  # pragma: no cover - impossible for p ≡ q ≡ 3 (mod 4) and (w|n) = −1
            raise InvalidInput("modulus proof: no residue among ±y, ±wy")
        y_prime = y * (n - 1 if a else 1) * (w if b else 1) % n
        x = _crt(powmod(y_prime % p, fourth_p, p), powmod(y_prime % q, fourth_q, q), p, q, q_inv_p)
        xs.append(int(x))
        bits_a.append(a)
        bits_b.append(b)
        if i < MODULUS_ROOT_ROUNDS:
            zs.append(int(_crt(powmod(y % p, n_inv_p, p), powmod(y % q, n_inv_q, q), p, q, q_inv_p)))
    return ModulusProof(int(w), tuple(xs), tuple(bits_a), tuple(bits_b), tuple(zs))


def verify_modulus(n: int, kid: str, proof: ModulusProof) -> None:
    """Π^mod's verifier (protocol.md §6.8); the caller has checked `key.public` (odd, not prime, not a perfect
    power, no factor < 2^16).  InvalidProof naming the failing round."""
    n = mpz(n)
    if (len(proof.x), len(proof.a), len(proof.b), len(proof.z)) != (MODULUS_ROUNDS,) * 3 + (MODULUS_ROOT_ROUNDS,):
        raise InvalidInput("modulus proof: wrong number of rounds")
    for value in (proof.w, *proof.x, *proof.z):
        if not 0 < value < n:
            raise InvalidInput("modulus proof: value not in [1, n)")
    if jacobi(proof.w, n) != -1:
        raise InvalidProof("modulus proof: w does not have Jacobi symbol −1")
    w = mpz(proof.w)
    for i in range(MODULUS_ROUNDS):
        y = modulus_challenge(n, kid, w, i)
        if i < MODULUS_ROOT_ROUNDS and powmod(proof.z[i], n, n) != y:
            raise InvalidProof(f"modulus proof: z[{i}] is not an n-th root of y[{i}]")
        expected = y * (n - 1 if proof.a[i] else 1) * (w if proof.b[i] else 1) % n
        if powmod(proof.x[i], 4, n) != expected:
            raise InvalidProof(f"modulus proof: x[{i}] is not a fourth root of ±w^b·y[{i}]")


# ---------------------------------------------------------------------------------------------
# protocol.md §6.9 Π^fac


@lru_cache(maxsize=1)
def ring_pedersen() -> tuple[mpz, mpz, mpz]:
    """(N̂, s, t): RSA-2048 and two squares from a hash (protocol.md §6.9)."""
    big_n = mpz(RSA_2048)
    s = powmod(hash_to_unit(big_n, DOMAIN_RING_PEDERSEN, "s"), 2, big_n)
    t = powmod(hash_to_unit(big_n, DOMAIN_RING_PEDERSEN, "t"), 2, big_n)
    return big_n, s, t


@dataclass(frozen=True)
class FactorProof:
    """Π^fac (protocol.md §6.9, protocol.md §9.8): commitments P, Q, A, B, T mod N̂ and the signed integers σ, z1, z2,
    w1, w2, v."""

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

    _GROUP = ("A", "B", "P", "Q", "T")
    _SIGNED = ("sigma", "v", "w1", "w2", "z1", "z2")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: int_to_hex(getattr(self, k)) for k in self._GROUP}
        out.update({k: signed_to_hex(getattr(self, k)) for k in self._SIGNED})
        return out

    @classmethod
    def from_dict(cls, obj: Any) -> "FactorProof":
        what = "factor proof"
        data = require_object(obj, set(cls._GROUP) | set(cls._SIGNED), what)
        values = {k: hex_to_int(data[k], f"{what} {k}", lower=1, upper=RSA_2048) for k in cls._GROUP}
        values.update({k: hex_to_signed(data[k], f"{what} {k}") for k in cls._SIGNED})
        return cls(**values)


def _factor_challenge(n: int, kid: str, proof_values: Sequence[int], sigma: int) -> int:
    big_n, s, t = ring_pedersen()
    return challenge(DOMAIN_FACTOR_PROOF, kid, int(n), "", DEALER_PARTY, [big_n, s, t],
                     [*(int(v) for v in proof_values), signed_to_hex(sigma)])


def _z_bound(bits: int) -> int:
    """|z1|, |z2| < 2^(c+ε+1)·S with S = 2^⌈b/2⌉ (protocol.md §6.9)."""
    return 1 << (FACTOR_CHALLENGE_BITS + factor_slack(bits) + 1 + (bits + 1) // 2)


def prove_factors(p: int, q: int, kid: str) -> FactorProof:
    """Π^fac for n = pq (protocol.md §6.9).  Secret inputs p, q."""
    big_n, s, t = ring_pedersen()
    n = int(p) * int(q)
    bits = n.bit_length()
    c, eps = FACTOR_CHALLENGE_BITS, factor_slack(bits)
    root = 1 << ((bits + 1) // 2)
    alpha, beta = _symmetric((1 << (c + eps)) * root), _symmetric((1 << (c + eps)) * root)
    mu, nu = _symmetric((1 << eps) * big_n), _symmetric((1 << eps) * big_n)
    sigma = _symmetric((1 << eps) * n * big_n)
    r = _symmetric((1 << (c + 2 * eps + 1)) * n * big_n)
    x, y = _symmetric((1 << (c + 2 * eps)) * big_n), _symmetric((1 << (c + 2 * eps)) * big_n)

    def commit(a: int, b: int) -> mpz:
        return mpz(powmod(s, a, big_n) * powmod(t, b, big_n) % big_n)

    cap_p, cap_q = commit(int(p), mu), commit(int(q), nu)
    cap_a, cap_b = commit(alpha, x), commit(beta, y)
    cap_t = powmod(cap_q, alpha, big_n) * powmod(t, r, big_n) % big_n
    e = _factor_challenge(n, kid, [cap_p, cap_q, cap_a, cap_b, cap_t], sigma)
    return FactorProof(
        int(cap_p), int(cap_q), int(cap_a), int(cap_b), int(cap_t), sigma,
        alpha + e * int(p), beta + e * int(q), x + e * mu, y + e * nu, r + e * (sigma - nu * int(p)),
    )


def verify_factors(n: int, kid: str, proof: FactorProof) -> None:
    """Π^fac's verifier (protocol.md §6.9); InvalidProof naming the failing equation or range."""
    big_n, s, t = ring_pedersen()
    n = int(n)
    for name in FactorProof._GROUP:
        value = getattr(proof, name)
        if not 0 < value < big_n or gcd(value, big_n) != 1:
            raise InvalidInput(f"factor proof: {name} is not a unit below N̂")
    bound = _z_bound(n.bit_length())
    if not (abs(proof.z1) < bound and abs(proof.z2) < bound):
        raise InvalidProof(f"factor proof: z1 or z2 out of range: a factor of n is below "
                           f"2^{factor_bound_bits(n.bit_length())}")
    e = _factor_challenge(n, kid, [proof.P, proof.Q, proof.A, proof.B, proof.T], proof.sigma)

    def commit(a: int, b: int) -> mpz:
        return mpz(powmod(s, a, big_n) * powmod(t, b, big_n) % big_n)

    r = commit(n, proof.sigma)
    if commit(proof.z1, proof.w1) != proof.A * powmod(proof.P, e, big_n) % big_n:
        raise InvalidProof("factor proof: s^z1·t^w1 ≠ A·P^e")
    if commit(proof.z2, proof.w2) != proof.B * powmod(proof.Q, e, big_n) % big_n:
        raise InvalidProof("factor proof: s^z2·t^w2 ≠ B·Q^e")
    if powmod(proof.Q, proof.z1, big_n) * powmod(t, proof.v, big_n) % big_n != proof.T * powmod(r, e, big_n) % big_n:
        raise InvalidProof("factor proof: Q^z1·t^v ≠ T·R^e")


# ---------------------------------------------------------------------------------------------
# §6.2 arithmetic of `key.public` and the small-order check


@lru_cache(maxsize=4)
def _primes_below(bound: int) -> tuple[int, ...]:
    flags = bytearray([1]) * bound
    flags[0:2] = b"\x00\x00"
    for i in range(2, int(bound**0.5) + 1):
        if flags[i]:
            flags[i * i :: i] = bytes(len(range(i * i, bound, i)))
    return tuple(i for i in range(bound) if flags[i])


def _product(values: list[mpz]) -> mpz:
    while len(values) > 1:
        values = [mpz(values[i] * values[i + 1]) if i + 1 < len(values) else values[i] for i in range(0, len(values), 2)]
    return values[0] if values else mpz(1)


@lru_cache(maxsize=4)
def lcm_below(bound: int) -> mpz:
    """L_B = lcm(1, …, B − 1): ∏ over primes r < B of the largest power of r below B (§6.2)."""
    powers = []
    for r in _primes_below(bound):
        power = r
        while power * r < bound:
            power *= r
        powers.append(mpz(power))
    return _product(powers)


@lru_cache(maxsize=2)
def small_primes_product(bound: int = SMALL_FACTOR_BOUND) -> mpz:
    """∏ of the primes below ``bound`` (trial division by one gcd)."""
    return _product([mpz(r) for r in _primes_below(bound)])


def pollard_factor(n: int, bound: int = POLLARD_BOUND) -> int:
    """Pollard's p − 1, stage 1: gcd((2^(L_B) mod n) − 1, n), 1 when nothing is found (§6.2)."""
    n = mpz(n)
    return int(gcd(powmod(2, lcm_below(bound), n) - 1, n))


def has_small_order(x: int, n: int, bound: int = SMALL_ORDER_BOUND) -> bool:
    """x^(L_B) ≡ 1 (mod n²): the order of x divides lcm(1 … B−1) (§6.2); tested mod n first."""
    n = mpz(n)
    exponent = lcm_below(bound)
    if powmod(x, exponent, n) != 1:
        return False
    return bool(powmod(x, exponent, n * n) == 1)


__all__ = [
    "DEALER_PARTY", "FACTOR_CHALLENGE_BITS", "MODULUS_ROOT_ROUNDS", "MODULUS_ROUNDS", "POLLARD_BOUND",
    "RSA_2048", "SMALL_FACTOR_BOUND", "SMALL_ORDER_BOUND", "FactorProof", "ModulusProof", "expand",
    "factor_bound_bits", "factor_slack", "has_small_order", "hash_to_unit", "hex_to_signed", "key_id",
    "lcm_below", "pollard_factor", "prove_factors", "prove_modulus", "ring_pedersen", "signed_to_hex",
    "small_primes_product", "verification_base", "verification_class", "verify_factors", "verify_modulus",
]
