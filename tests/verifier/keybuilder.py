"""A hand-written dealer (docs/protocol.md §6.1, §6.6, §6.8, §6.9, §9.2) for the verifier's key
checks (4, 5, 24–27): a second writing of the spec, independent of crypto/, with hooks for the
attacks of §12 — a dealer that shares 0, chooses v, leaves a small or smooth factor, uses three
primes, or proves another key.

Keys are 512-bit test keys from primes p ≡ q ≡ 3 (mod 4) (not safe primes: nothing checks that,
§6.12), drawn deterministically from a seed so that tests are reproducible.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import gmpy2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.encoding import lp

RSA_2048 = int(
    "25195908475657893494027183240048398571429282126204032027777137836043662020707595556264018525880784"
    "40691829064124951508218929855914917618450280848912007284499268739280728777673597141834727026189637"
    "50149718246911650776133798590957000973304597488084284017974291006424586918171951187461215151726546"
    "32282216869987549182422433637259085141865462043576798423387184774447920739934236584823824281198163"
    "81501067481045166037730605620161967625613384414360383390441495263443219011465754445417842402092461"
    "65157233507787077498171257724679629263863563732899121548314381678998850404453640235273819513786365"
    "64391212010397122822120720357")


def hx(x: int) -> str:
    return format(int(x), "x")


def signed(x: int) -> str:
    return "-" + hx(-x) if x < 0 else hx(x)


def hash_to_unit(m: int, *items: Any) -> int:
    """§2.4, written again."""
    size = (m.bit_length() + 7) // 8 + 16
    a = 0
    while True:
        data = lp(*items, a)
        stream = b"".join(hashlib.sha256(data + k.to_bytes(4, "big")).digest()
                          for k in range(size // 32 + 1))
        u = int.from_bytes(stream[:size], "big") % m
        if u and math.gcd(u, m) == 1:
            return u
        a += 1


def challenge(domain: str, eid: str, n: int, cid: str, party: str, stmt: list[Any],
              comm: list[Any]) -> int:
    return int.from_bytes(hashlib.sha256(lp(domain, eid, n, cid, party, stmt, comm)).digest()[:16],
                          "big")


def prime(rng: random.Random, bits: int, ok: Callable[[int], bool] = lambda p: True) -> int:
    """A prime ≡ 3 (mod 4) of exactly ``bits`` bits, top two bits set."""
    while True:
        x = rng.getrandbits(bits) | (3 << (bits - 2)) | 3
        p = int(gmpy2.next_prime(x - 1))
        while p % 4 != 3:
            p = int(gmpy2.next_prime(p))
        if p.bit_length() == bits and ok(p):
            return p


def smooth_prime(rng: random.Random, bits: int) -> int:
    """A prime p ≡ 3 (mod 4) whose p − 1 = 2·(odd primes < 2^20): Pollard's prey."""
    while True:
        acc = 2
        while acc.bit_length() < bits - 20:
            acc *= int(gmpy2.next_prime(rng.randrange(3, 1 << 20)))
        for _ in range(2000):
            p = acc * rng.choice([3, 5, 7, 11, 13]) * (2 * rng.randrange(1, 1 << 10) + 1) + 1
            if p % 4 == 3 and gmpy2.is_prime(p, 30):
                return p


def signing_key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"trustee " + name.encode()).digest())


def signing_hex(k: Ed25519PrivateKey) -> str:
    return k.public_key().public_bytes_raw().hex()


def key_id(n: int, t: int, trustees: list[tuple[int, str, str]]) -> str:
    return hashlib.sha256(lp("ssb-vote/v2/election-key", n, t,
                             [[i, name, sk] for i, name, sk in trustees])).hexdigest()


def derived_base(n: int, kid: str) -> tuple[int, int]:
    """(v, κ) of §6.6."""
    n2 = n * n
    kappa = hash_to_unit(n, "ssb-vote/v2/verification-base", kid, "class")
    h = hash_to_unit(n, "ssb-vote/v2/verification-base", kid, "residue")
    x = (1 + kappa * n) * pow(h, n, n2) % n2
    return x * x % n2, kappa


def legendre(a: int, p: int) -> int:
    return int(gmpy2.legendre(a % p, p))


def prove_modulus(primes: list[int], kid: str, rng: random.Random) -> dict[str, Any]:
    """Π^mod (§6.8) as an honest prover would — over any list of primes ≡ 3 (mod 4): for two
    primes it verifies; for three it cannot (a round with no fourth root gets x = 1)."""
    n = math.prod(primes)
    while True:
        w = rng.randrange(2, n)
        if gmpy2.jacobi(w, n) == -1:
            break
    phi = math.prod(p - 1 for p in primes)
    xs, a_bits, b_bits, zs = [], [], [], []
    for i in range(128):
        y = hash_to_unit(n, "ssb-vote/v2/proof/modulus", kid, w, i)
        x = 1
        chosen = (0, 0)
        for a, b in ((0, 0), (0, 1), (1, 0), (1, 1)):
            y2 = (-1) ** a * pow(w, b) * y % n
            if all(legendre(y2, p) == 1 for p in primes):
                roots = [pow(pow(y2, (p + 1) // 4, p), (p + 1) // 4, p) for p in primes]
                x = int(gmpy2.mpz(0))
                for p, r in zip(primes, roots):  # CRT
                    m = n // p
                    x = (x + r * m * pow(m, -1, p)) % n
                chosen = (a, b)
                break
        xs.append(hx(x))
        a_bits.append(chosen[0])
        b_bits.append(chosen[1])
        if i < 8:
            zs.append(hx(pow(y, pow(n, -1, phi), n)))
    return {"w": hx(w), "x": xs, "a": a_bits, "b": b_bits, "z": zs}


@lru_cache(maxsize=1)
def ring_pedersen() -> tuple[int, int, int]:
    s = pow(hash_to_unit(RSA_2048, "ssb-vote/v2/ring-pedersen", "s"), 2, RSA_2048)
    t = pow(hash_to_unit(RSA_2048, "ssb-vote/v2/ring-pedersen", "t"), 2, RSA_2048)
    return RSA_2048, s, t


def prove_factors(p: int, q: int, kid: str, rng: random.Random) -> dict[str, Any]:
    """Π^fac (§6.9) as the honest prover computes it with the factors (p, q) of n = pq."""
    big, s, t = ring_pedersen()
    n = p * q
    b = n.bit_length()
    c, eps = 128, (128 if b >= 2048 else 64)
    S = 1 << ((b + 1) // 2)

    def sym(bound: int) -> int:
        return rng.randrange(-bound, bound + 1)

    alpha, beta = sym((1 << (c + eps)) * S), sym((1 << (c + eps)) * S)
    mu, nu = sym((1 << eps) * big), sym((1 << eps) * big)
    sigma = sym((1 << eps) * n * big)
    r = sym((1 << (c + 2 * eps + 1)) * n * big)
    x, y = sym((1 << (c + 2 * eps)) * big), sym((1 << (c + 2 * eps)) * big)

    def com(u: int, v: int) -> int:
        return pow(s, u, big) * pow(t, v, big) % big

    P, Q, A, B = com(p, mu), com(q, nu), com(alpha, x), com(beta, y)
    T = pow(Q, alpha, big) * pow(t, r, big) % big
    e = challenge("ssb-vote/v2/proof/key-factors", kid, n, "", "dealer", [big, s, t],
                  [P, Q, A, B, T, signed(sigma)])
    return {"P": hx(P), "Q": hx(Q), "A": hx(A), "B": hx(B), "T": hx(T), "sigma": signed(sigma),
            "z1": signed(alpha + e * p), "z2": signed(beta + e * q), "w1": signed(x + e * mu),
            "w2": signed(y + e * nu), "v": signed(r + e * (sigma - nu * p))}


def decryption_share(eid: str, contest: str, n: int, v: int, v_i: int, index: int, x: int,
                     delta: int, cts: list[int], rng: random.Random) -> dict[str, Any]:
    """§6.3's prover for trustee ``index`` with exponent x (Δ·s_i for an honest trustee; any x
    for a forger) — the decryption share object of §9.5."""
    from verifier.hashing import DOMAIN_DECRYPTION, decryption_weights
    n2 = n * n
    shares = [pow(c, 2 * x, n2) for c in cts]
    stmt = [index, v, v_i, cts, shares]
    w = decryption_weights(eid, n, contest, index, stmt, len(cts))
    c_hat = 1
    for c, wj in zip(cts, w):
        c_hat = c_hat * pow(c, wj, n2) % n2
    c_hat = pow(c_hat, 4, n2)
    r = rng.getrandbits(n2.bit_length() + delta.bit_length() + 256)
    a, b = pow(c_hat, r, n2), pow(v, r, n2)
    e = challenge(DOMAIN_DECRYPTION, eid, n, contest, f"trustee/{index}", stmt, [a, b])
    return {"index": index, "shares": [hx(s) for s in shares],
            "proof": {"commitment_c": hx(a), "commitment_v": hx(b), "response": hx(r + e * x)}}


@dataclass
class Dealer:
    """An election key and its secrets.  ``primes`` are n's factors (two for an honest key);
    ``secret`` replaces d (0: the attack of §6.7); ``base`` replaces v (not derived);
    ``shares`` replaces s_i per index (off the polynomial)."""

    t: int = 2
    names: tuple[str, ...] = ("Alice", "Bob", "Carol")
    seed: int = 1
    primes: list[int] = field(default_factory=list)
    secret: int | None = None
    base: int | None = None
    shares: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        if not self.primes:
            self.primes = honest_primes(self.seed)
        self.n = math.prod(self.primes)
        self.signers = {i: signing_key(nm) for i, nm in enumerate(self.names, start=1)}
        self.trustees = [(i, nm, signing_hex(self.signers[i]))
                         for i, nm in enumerate(self.names, start=1)]
        self.kid = key_id(self.n, self.t, self.trustees)
        self.derived, self.kappa = derived_base(self.n, self.kid)

    @property
    def delta(self) -> int:
        return math.factorial(len(self.names))

    def secret_shares(self) -> dict[int, int]:
        n = self.n
        m = math.prod(p - 1 for p in self.primes) // (2 ** len(self.primes))
        nm = n * m
        d = m * pow(m, -1, n) % nm if self.secret is None else self.secret
        coeffs = [d] + [self.rng.randrange(nm) for _ in range(self.t - 1)]
        out = {i: sum(a * i ** k for k, a in enumerate(coeffs)) % nm
               for i in range(1, len(self.names) + 1)}
        out.update(self.shares)
        return out

    def key(self, proofs: bool = True) -> dict[str, Any]:
        n2 = self.n * self.n
        v = self.derived if self.base is None else self.base
        s = self.secret_shares()
        self.secrets = s
        trustees = [{"index": i, "trustee": nm, "signing_key": sk,
                     "verification_key": hx(pow(v, self.delta * s[i], n2))}
                    for i, nm, sk in self.trustees]
        obj: dict[str, Any] = {"n": hx(self.n), "threshold": self.t, "trustees": trustees,
                               "verification_base": hx(v), "version": 2,
                               "proofs": {"modulus": {}, "factors": {}}}
        if proofs:
            obj["proofs"] = {"modulus": prove_modulus(self.primes, self.kid, self.rng),
                             "factors": prove_factors(self.primes[0],
                                                      math.prod(self.primes[1:]),
                                                      self.kid, self.rng)}
        return obj


@lru_cache(maxsize=8)
def honest_primes(seed: int) -> list[int]:
    rng = random.Random(f"primes {seed}")
    return [prime(rng, 256), prime(rng, 256)]


@lru_cache(maxsize=8)
def honest_key(seed: int = 1) -> tuple[Dealer, str]:
    """An honest 2-of-3 key (its dealer, and its canonical JSON text)."""
    import json
    d = Dealer(seed=seed)
    return d, json.dumps(d.key(), sort_keys=True, separators=(",", ":"))
