"""Election key, decryption shares and their combination — docs/protocol.md §6.2–§6.4, §9.2, §9.5."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from verifier import arith
from verifier.encoding import (expect_list, expect_object, expect_str, parse_count,
                               parse_hex_int)
from verifier.errors import InvalidInput
from verifier.hashing import DOMAIN_DECRYPTION, challenge, decryption_weights
from verifier.multiexp import multiexp
from verifier.proofs import InvalidProof

MAX_TRUSTEES = 64
MAX_TALLY = 1000
MIN_BITS, TEST_MIN_BITS, MAX_BITS = 2048, 512, 8192


@dataclass(frozen=True)
class Trustee:
    index: int
    name: str
    verification_key: int


@dataclass(frozen=True)
class ElectionKey:
    """(n, t, v, (i, name_i, v_i)_i) — docs/protocol.md §6.1 step 5, §9.2."""

    n: int
    threshold: int
    verification_base: int
    trustees: tuple[Trustee, ...]

    @property
    def n2(self) -> int:
        return self.n * self.n

    @property
    def delta(self) -> int:
        """Δ = ℓ! for ℓ trustees."""
        return math.factorial(len(self.trustees))

    def trustee(self, index: int) -> Trustee | None:
        for t in self.trustees:
            if t.index == index:
                return t
        return None


def parse_election_key(obj: Any) -> ElectionKey:
    """The §9.2 shape only; the value checks of §6.2 are :func:`key_problems`."""
    expect_object(obj, ("n", "threshold", "trustees", "verification_base", "version"),
                  "election_key")
    if parse_count(obj["version"], "election_key.version") != 1:
        raise InvalidInput("election_key.version: unsupported")
    n = parse_hex_int(obj["n"], "election_key.n")
    t = parse_count(obj["threshold"], "election_key.threshold")
    v = parse_hex_int(obj["verification_base"], "election_key.verification_base")
    trustees = []
    for k, tr in enumerate(expect_list(obj["trustees"], "election_key.trustees")):
        what = f"election_key.trustees[{k}]"
        expect_object(tr, ("index", "trustee", "verification_key"), what)
        trustees.append(Trustee(parse_count(tr["index"], f"{what}.index"),
                                expect_str(tr["trustee"], f"{what}.trustee"),
                                parse_hex_int(tr["verification_key"], f"{what}.verification_key")))
    return ElectionKey(n, t, v, tuple(trustees))


def key_problems(key: ElectionKey) -> list[tuple[str, dict[str, Any]]]:
    """§6.2: 1 ≤ t ≤ ℓ ≤ 64, indices 1…ℓ in order, names distinct, v and v_i units of
    Z*_{n²}.  Returns (message code, params) pairs, empty when all hold."""
    out: list[tuple[str, dict[str, Any]]] = []
    ell = len(key.trustees)
    if not 1 <= ell <= MAX_TRUSTEES:
        out.append(("key.trustee_count", {"count": ell}))
    if not 1 <= key.threshold <= ell:
        out.append(("key.threshold_range", {"t": key.threshold, "l": ell}))
    for pos, tr in enumerate(key.trustees, start=1):
        if tr.index != pos:
            out.append(("key.index_order", {"index": tr.index, "expected": pos}))
        if not tr.name:
            out.append(("key.name_empty", {"index": tr.index}))
    names = [tr.name for tr in key.trustees]
    if len(set(names)) != len(names):
        out.append(("key.names_distinct", {}))
    n2 = key.n2
    for label, value in [("verification_base", key.verification_base),
                         *((f"verification_key {tr.index}", tr.verification_key)
                           for tr in key.trustees)]:
        if not 0 < value < n2 or arith.gcd(arith.mpz(value), arith.mpz(key.n)) != 1:
            out.append(("key.not_unit", {"what": label}))
    return out


@dataclass(frozen=True)
class DecryptionShare:
    """§9.5: index i, share_j = c_j^(2·Δ·s_i), proof (a, b, z)."""

    index: int
    shares: tuple[int, ...]
    commitment_c: int
    commitment_v: int
    response: int


def parse_decryption_share(obj: Any, length: int, what: str) -> DecryptionShare:
    expect_object(obj, ("index", "proof", "shares"), what)
    index = parse_count(obj["index"], f"{what}.index", 1, MAX_TRUSTEES)
    proof = expect_object(obj["proof"], ("commitment_c", "commitment_v", "response"),
                          f"{what}.proof")
    shares = expect_list(obj["shares"], f"{what}.shares", length)
    return DecryptionShare(
        index,
        tuple(parse_hex_int(s, f"{what}.shares[{j}]") for j, s in enumerate(shares)),
        parse_hex_int(proof["commitment_c"], f"{what}.proof.commitment_c"),
        parse_hex_int(proof["commitment_v"], f"{what}.proof.commitment_v"),
        parse_hex_int(proof["response"], f"{what}.proof.response"))


def verify_decryption_share(key: ElectionKey, election_id: str, contest_id: str,
                            ciphertexts: Sequence[int], share: DecryptionShare) -> None:
    """§6.3 verifier.  Raises InvalidInput (ranges) or InvalidProof (equations)."""
    trustee = key.trustee(share.index)
    if trustee is None:
        raise InvalidInput(f"no trustee with index {share.index} in the election key")
    if not 0 < len(ciphertexts) <= MAX_TALLY or len(share.shares) != len(ciphertexts):
        raise InvalidInput("number of shares differs from the tally length")
    n, n2 = arith.mpz(key.n), arith.mpz(key.n2)
    for j, s in enumerate(share.shares):
        if not 0 < s < n2 or arith.gcd(arith.mpz(s), n) != 1:
            raise InvalidInput(f"share {j} is not a unit below n²")
    for label, x in (("commitment_c", share.commitment_c), ("commitment_v", share.commitment_v)):
        if not 0 < x < n2 or arith.gcd(arith.mpz(x), n) != 1:
            raise InvalidInput(f"{label} is not a unit below n²")
    z_bound = 1 << (key.n2.bit_length() + key.delta.bit_length() + 257)
    if not 0 <= share.response < z_bound:
        raise InvalidInput("response out of range")
    stmt = [share.index, key.verification_base, trustee.verification_key,
            list(ciphertexts), list(share.shares)]
    w = decryption_weights(election_id, key.n, contest_id, share.index, stmt, len(ciphertexts))
    c_hat = arith.powmod(multiexp(ciphertexts, w, n2), 4, n2)
    s_hat = arith.powmod(multiexp(share.shares, w, n2), 2, n2)
    e = challenge(DOMAIN_DECRYPTION, election_id, key.n, contest_id, f"trustee/{share.index}",
                  stmt, [share.commitment_c, share.commitment_v])
    z = share.response
    if arith.powmod(c_hat, z, n2) != share.commitment_c * arith.powmod(s_hat, e, n2) % n2:
        raise InvalidProof("Ĉ^z ≠ a·Ŝ^e: shares do not match the trustee's key")
    v = arith.mpz(key.verification_base)
    if arith.powmod(v, z, n2) != (share.commitment_v
                                  * arith.powmod(arith.mpz(trustee.verification_key), e, n2)
                                  % n2):
        raise InvalidProof("v^z ≠ b·v_i^e: proof does not match the verification key")


def lagrange(indices: Sequence[int], i: int, delta: int) -> int:
    """λ_i = Δ · ∏_{i′≠i} i′ / (i′ − i), an exact integer (§6.4)."""
    num, den = delta, 1
    for j in indices:
        if j != i:
            num *= j
            den *= j - i
    if num % den:
        raise ArithmeticError("Lagrange coefficient is not an integer")
    return num // den


def combine(key: ElectionKey, shares: Mapping[int, Sequence[int]], length: int) -> list[int]:
    """plaintext_j = L(∏_i share_{i,j}^(2λ_i) mod n²) · (4Δ²)^(−1) mod n (§6.4).

    ``shares`` maps exactly t trustee indices to their share vectors.  Raises InvalidInput
    when c′ ≢ 1 (mod n) (inconsistent shares)."""
    n, n2 = arith.mpz(key.n), arith.mpz(key.n2)
    idx = sorted(shares)
    delta = key.delta
    lambdas = {i: lagrange(idx, i, delta) for i in idx}
    inv = arith.invert(arith.mpz(4 * delta * delta) % n, n)
    out = []
    for j in range(length):
        acc = arith.mpz(1)
        for i in idx:
            exp = 2 * lambdas[i]
            base = arith.mpz(shares[i][j])
            if exp < 0:
                base = arith.invert(base, n2)
                exp = -exp
            acc = acc * arith.powmod(base, exp, n2) % n2
        if acc % n != 1:
            raise InvalidInput(f"shares for candidate {j} are inconsistent (c′ ≢ 1 mod n)",
                               where=str(j))
        out.append(int((acc - 1) // n * inv % n))
    return out
