"""Election key (version 2), decryption shares and their combination — docs/protocol.md
§6.1–§6.4, protocol.md §6.7, protocol.md §9.2, protocol.md §9.5."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from verifier import arith
from verifier.encoding import (expect_list, expect_object, expect_str, parse_count,
                               parse_hex_int)
from verifier.errors import InvalidInput
from verifier.hashing import DOMAIN_DECRYPTION, challenge, decryption_weights
from verifier.keyproofs import key_id
from verifier.multiexp import multiexp
from verifier.proofs import InvalidProof
from verifier.signatures import KEY_HEX_RE, public_key

MAX_TRUSTEES = 64
MAX_TALLY = 1000
MIN_BITS, TEST_MIN_BITS, MAX_BITS = 2048, 512, 8192


@dataclass(frozen=True)
class Trustee:
    index: int
    name: str
    verification_key: int
    signing_key: str = ""  # 64 lowercase hex: the trustee's Ed25519 public key (§6.1 step 3)


@dataclass(frozen=True)
class ElectionKey:
    """(n, t, v, (i, name_i, signing_key_i, v_i)_i, proofs) — docs/protocol.md §6.1, §9.2
    (version 2).  The proofs are kept as their JSON objects: checks 24 and 25 parse them."""

    n: int
    threshold: int
    verification_base: int
    trustees: tuple[Trustee, ...]
    modulus_proof: Any = None  # protocol.md §9.7 object
    factor_proof: Any = None  # protocol.md §9.8 object

    @property
    def n2(self) -> int:
        return self.n * self.n

    @property
    def delta(self) -> int:
        """Δ = ℓ! for ℓ trustees."""
        return math.factorial(len(self.trustees))

    @property
    def key_id(self) -> str:
        """K of docs/protocol.md §6.1 step 4."""
        return key_id(self.n, self.threshold,
                      [(t.index, t.name, t.signing_key) for t in self.trustees])

    def trustee(self, index: int) -> Trustee | None:
        for t in self.trustees:
            if t.index == index:
                return t
        return None


KEY_VERSION = 2
TRUSTEE_KEYS = ("index", "signing_key", "trustee", "verification_key")


def parse_election_key(obj: Any) -> ElectionKey:
    """The protocol.md §9.2 shape (version 2) only; the value checks of §6.2 are :func:`key_problems`
    and checks 24–27.  ``proofs`` must be an object with exactly ``modulus`` and ``factors``;
    their insides (protocol.md §9.7, protocol.md §9.8) are parsed by the proof checks."""
    expect_object(obj, ("n", "proofs", "threshold", "trustees", "verification_base",
                        "version"), "election_key")
    if parse_count(obj["version"], "election_key.version") != KEY_VERSION:
        raise InvalidInput(f"election_key.version: {obj['version']} is not supported "
                           f"(version {KEY_VERSION}: signing keys, derived v, key proofs)")
    n = parse_hex_int(obj["n"], "election_key.n")
    t = parse_count(obj["threshold"], "election_key.threshold")
    v = parse_hex_int(obj["verification_base"], "election_key.verification_base")
    proofs = expect_object(obj["proofs"], ("factors", "modulus"), "election_key.proofs")
    trustees = []
    for k, tr in enumerate(expect_list(obj["trustees"], "election_key.trustees")):
        what = f"election_key.trustees[{k}]"
        expect_object(tr, TRUSTEE_KEYS, what)
        trustees.append(Trustee(parse_count(tr["index"], f"{what}.index"),
                                expect_str(tr["trustee"], f"{what}.trustee"),
                                parse_hex_int(tr["verification_key"], f"{what}.verification_key"),
                                expect_str(tr["signing_key"], f"{what}.signing_key")))
    return ElectionKey(n, t, v, tuple(trustees), proofs["modulus"], proofs["factors"])


def key_problems(key: ElectionKey) -> list[tuple[str, dict[str, Any]]]:
    """§6.2 ``key.verification``: 1 ≤ t ≤ ℓ ≤ 64, indices 1…ℓ in order, names distinct,
    signing keys distinct 64-lowercase-hex Ed25519 public keys, v and v_i units of Z*_{n²}.
    Returns (message code, params) pairs, empty when all hold."""
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
        if not signing_key_usable(tr.signing_key):
            out.append(("key.signing_key", {"index": tr.index}))
    names = [tr.name for tr in key.trustees]
    if len(set(names)) != len(names):
        out.append(("key.names_distinct", {}))
    signing = [tr.signing_key for tr in key.trustees]
    if len(set(signing)) != len(signing):
        out.append(("key.signing_keys_distinct", {}))
    n2 = key.n2
    for label, value in [("verification_base", key.verification_base),
                         *((f"verification_key {tr.index}", tr.verification_key)
                           for tr in key.trustees)]:
        if not 0 < value < n2 or arith.gcd(arith.mpz(value), arith.mpz(key.n)) != 1:
            out.append(("key.not_unit", {"what": label}))
    return out


def signing_key_usable(text: str) -> bool:
    """64 lowercase hex digits that decode as an Ed25519 public key (§6.2, protocol.md §9.2)."""
    if not KEY_HEX_RE.match(text):
        return False
    try:
        public_key(bytes.fromhex(text))
    except InvalidInput:
        return False
    return True


def lagrange_at(indices: Sequence[int], i: int, x: int, delta: int) -> int:
    """λ_i(x) = Δ · ∏_{j∈S, j≠i} (x − j)/(i − j), an exact integer (protocol.md §6.7)."""
    num, den = delta, 1
    for j in indices:
        if j != i:
            num *= x - j
            den *= i - j
    if num % den:
        raise ArithmeticError("Lagrange coefficient is not an integer")
    return num // den


def _power_product(bases: Sequence[int], exponents: Sequence[int], m: Any) -> Any:
    """∏ bases^exponents mod m (negative exponents: the inverse)."""
    acc = arith.mpz(1)
    for base, e in zip(bases, exponents):
        b = arith.mpz(base)
        if e < 0:
            b, e = arith.invert(b, m), -e
        acc = acc * arith.powmod(b, e, m) % m
    return acc


def shared_secret_problems(key: ElectionKey, kappa: int) -> list[tuple[str, dict[str, Any]]]:
    """protocol.md §6.7 with S = {1, …, t}: consistency v_j^Δ ≡ ∏_{i∈S} v_i^(λ_i(j)) (mod n²) for every
    j = t+1 … ℓ, and the secret equation ∏_{i∈S} v_i^(λ_i(0)) ≡ 1 + ((2κΔ²) mod n)·n.
    ``kappa`` is κ of protocol.md §6.6.  Needs a key that passed ``key.verification`` (indices 1…ℓ, v_i
    units).  Returns (message code, params) pairs."""
    out: list[tuple[str, dict[str, Any]]] = []
    n, n2 = arith.mpz(key.n), arith.mpz(key.n2)
    delta, t = key.delta, key.threshold
    subset = list(range(1, t + 1))
    bases = [key.trustees[i - 1].verification_key for i in subset]
    for tr in key.trustees[t:]:
        want = _power_product(bases, [lagrange_at(subset, i, tr.index, delta) for i in subset],
                              n2)
        if arith.powmod(arith.mpz(tr.verification_key), delta, n2) != want:
            out.append(("key.consistency", {"index": tr.index, "t": t}))
    secret = _power_product(bases, [lagrange_at(subset, i, 0, delta) for i in subset], n2)
    if secret != (1 + (2 * int(kappa) * delta * delta) % key.n * n) % n2:
        out.append(("key.secret", {"t": t}))
    return out


@dataclass(frozen=True)
class DecryptionShare:
    """protocol.md §9.5: index i, share_j = c_j^(2·Δ·s_i), proof (a, b, z)."""

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
