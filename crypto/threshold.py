"""Threshold Paillier decryption after Shoup / Damgård–Jurik, s = 1 (docs/protocol.md §6).

n = pq with safe primes p = 2p'+1, q = 2q'+1; m = p'q'; d ≡ 0 (mod m), d ≡ 1 (mod n);
f(X) = d + Σ a_k X^k over Z_{nm}; trustee i holds s_i = f(i); Δ = ℓ! for ℓ trustees;
v is derived from a hash of the key's public data (protocol.md §6.6) and v_i = v^(Δ s_i).  The election key
(version 2, protocol.md §9.2) also carries each trustee's Ed25519 signing key and the dealer's proofs that n
is well formed (protocol.md §6.8, protocol.md §6.9); :mod:`crypto.keycheck` checks all of it (§6.2).  A trustee's share of c is
c_i = c^(2Δ s_i) mod n², with a proof that log_{c^4}(c_i²) = log_v(v_i) (§6.3).  Any t valid
shares combine: c' = ∏ c_i^(2λ_i) = c^(4Δ² d), m = L(c') · (4Δ²)^(−1) mod n (§6.4).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from math import factorial
from typing import Any, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .encoding import (
    hex_to_int,
    int_to_hex,
    lp_encode,
    require_int,
    require_list,
    require_object,
    require_str,
)
from .errors import InvalidInput, InvalidProof
from .hashing import CHALLENGE_BITS, DOMAIN_DECRYPTION, DOMAIN_DECRYPTION_WEIGHTS, challenge
from .hazmat.gmp import GroupElement, mpz, powmod
from .hazmat.multiexp import multi_exp
from .hazmat.threshold import combine_unchecked
from .keyproofs import FactorProof, ModulusProof, key_id
from .paillier import PublicKey, check_units
from .randomness import random_bits

MAX_TRUSTEES = 64
MAX_TALLY_LENGTH = 1000
ELECTION_KEY_VERSION = 2
_SIGNING_KEY_RE = re.compile(r"\A[0-9a-f]{64}\Z")


def signing_public_key(seed: bytes) -> str:
    """The 64-hex Ed25519 public key of a 32-byte private seed (§6.1 step 3)."""
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw.hex()


@dataclass(frozen=True)
class TrusteeKey:
    """Public data of trustee ``index`` (1-based): name, Ed25519 signing key (64 hex) and
    verification key v_i (§6.1, protocol.md §9.2)."""

    index: int
    trustee: str
    verification_key: GroupElement
    signing_key: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "trustee": self.trustee, "signing_key": self.signing_key,
                "verification_key": int_to_hex(self.verification_key)}


@dataclass(frozen=True)
class KeyProofs:
    """The dealer's proofs that n is well formed: Π^mod and Π^fac (protocol.md §6.8, protocol.md §6.9, protocol.md §9.2)."""

    modulus: ModulusProof
    factors: FactorProof

    def to_dict(self) -> dict[str, Any]:
        return {"modulus": self.modulus.to_dict(), "factors": self.factors.to_dict()}

    @classmethod
    def from_dict(cls, obj: Any, n: int) -> "KeyProofs":
        data = require_object(obj, {"modulus", "factors"}, "election key proofs")
        return cls(ModulusProof.from_dict(data["modulus"], n), FactorProof.from_dict(data["factors"]))


@dataclass(frozen=True)
class ElectionPublicKey:
    """Public key n, threshold t, verification base v, the trustees' signing keys and v_i, and
    the key proofs (docs/protocol.md §9.2, version 2).  Construction checks the shape only;
    :func:`crypto.keycheck.check_election_key` checks the values (§6.2)."""

    public_key: PublicKey
    threshold: int
    verification_base: GroupElement
    trustees: tuple[TrusteeKey, ...]
    proofs: KeyProofs

    def __post_init__(self) -> None:
        count = len(self.trustees)
        if not 1 <= count <= MAX_TRUSTEES:
            raise InvalidInput(f"election key: number of trustees must be in 1..{MAX_TRUSTEES}")
        if not 1 <= self.threshold <= count:
            raise InvalidInput("election key: threshold must be in 1..number of trustees")
        if [t.index for t in self.trustees] != list(range(1, count + 1)):
            raise InvalidInput("election key: trustee indices must be 1..ℓ in order")
        if len({t.trustee for t in self.trustees}) != count:
            raise InvalidInput("election key: trustee names must be distinct")
        for t in self.trustees:
            if not isinstance(t.signing_key, str) or not _SIGNING_KEY_RE.match(t.signing_key):
                raise InvalidInput(f"election key: trustee {t.index} signing key is not 64 lowercase hex")
        if len({t.signing_key for t in self.trustees}) != count:
            raise InvalidInput("election key: trustee signing keys must be distinct")
        check_units(self.public_key, [self.verification_base] + [t.verification_key for t in self.trustees], "verification key")
        for value in [self.verification_base] + [t.verification_key for t in self.trustees]:
            if not 0 < value < self.public_key.n_square:
                raise InvalidInput("election key: verification key not in the range 0 < v < n²")

    @property
    def delta(self) -> int:
        """Δ = ℓ! (Shoup)."""
        return factorial(len(self.trustees))

    @cached_property
    def key_id(self) -> str:
        """K: the hash of n, t and the trustees' names and signing keys (§6.1 step 4)."""
        return key_id(self.public_key.n, self.threshold, [(t.index, t.trustee, t.signing_key) for t in self.trustees])

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": ELECTION_KEY_VERSION,
            "n": int_to_hex(self.public_key.n),
            "threshold": self.threshold,
            "verification_base": int_to_hex(self.verification_base),
            "trustees": [t.to_dict() for t in self.trustees],
            "proofs": self.proofs.to_dict(),
        }

    @classmethod
    def from_dict(cls, obj: Any, *, allow_insecure_test_key: bool = False) -> "ElectionPublicKey":
        if isinstance(obj, dict) and obj.get("version") != ELECTION_KEY_VERSION:
            raise InvalidInput("election key: unsupported version (version 2 required: signing keys and key proofs)")
        data = require_object(obj, {"version", "n", "threshold", "verification_base", "trustees", "proofs"},
                              "election key")
        if data["version"] != ELECTION_KEY_VERSION or isinstance(data["version"], bool):
            raise InvalidInput("election key: unsupported version (version 2 required: signing keys and key proofs)")
        pk = PublicKey(hex_to_int(data["n"], "election key n", lower=1), allow_insecure_test_key)
        n2 = int(pk.n_square)
        trustees = []
        for pos, raw in enumerate(require_list(data["trustees"], "election key trustees", max_length=MAX_TRUSTEES)):
            item = require_object(raw, {"index", "trustee", "verification_key", "signing_key"}, f"trustee {pos + 1}")
            trustees.append(
                TrusteeKey(
                    require_int(item["index"], f"trustee {pos + 1} index", lower=1, upper=MAX_TRUSTEES + 1),
                    require_str(item["trustee"], f"trustee {pos + 1} name"),
                    hex_to_int(item["verification_key"], f"trustee {pos + 1} verification key", lower=1, upper=n2),
                    require_str(item["signing_key"], f"trustee {pos + 1} signing key", max_length=64),
                )
            )
        return cls(
            pk,
            require_int(data["threshold"], "election key threshold", lower=1, upper=MAX_TRUSTEES + 1),
            hex_to_int(data["verification_base"], "election key verification base", lower=1, upper=n2),
            tuple(trustees),
            KeyProofs.from_dict(data["proofs"], pk.n),
        )


@dataclass(frozen=True)
class TrusteeShare:
    """Trustee i's secret s_i = f(i), its Ed25519 signing seed, and the public values it needs
    (§6.1, protocol.md §9.4).  Secret!"""

    index: int
    trustee: str
    secret_share: int
    election_key: ElectionPublicKey
    signing_seed: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.signing_seed, bytes) or len(self.signing_seed) != 32:
            raise InvalidInput("trustee share: the signing seed must be 32 bytes")
        if not 1 <= self.index <= len(self.election_key.trustees):
            raise InvalidInput("trustee share: index not in the election key")
        if signing_public_key(self.signing_seed) != self.election_key.trustees[self.index - 1].signing_key:
            raise InvalidInput("trustee share: the signing seed is not this trustee's signing key")

    def __repr__(self) -> str:  # never print the secret
        return f"TrusteeShare(index={self.index}, trustee={self.trustee!r})"

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        """The trustee's Ed25519 key: signs its decryption share files (protocol.md §6.11)."""
        return Ed25519PrivateKey.from_private_bytes(self.signing_seed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "trustee": self.trustee,
            "secret_share": int_to_hex(self.secret_share),
            "signing_seed": self.signing_seed.hex(),
            "election_key": self.election_key.to_dict(),
        }

    @classmethod
    def from_dict(cls, obj: Any, *, allow_insecure_test_key: bool = False) -> "TrusteeShare":
        data = require_object(obj, {"index", "trustee", "secret_share", "signing_seed", "election_key"}, "trustee share")
        key = ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=allow_insecure_test_key)
        index = require_int(data["index"], "trustee share index", lower=1, upper=len(key.trustees) + 1)
        trustee = require_str(data["trustee"], "trustee share name")
        if key.trustees[index - 1].trustee != trustee:
            raise InvalidInput("trustee share: name does not match the election key")
        bound = int(key.public_key.n_square)  # s_i < n·m < n²
        seed = data["signing_seed"]
        if not isinstance(seed, str) or not _SIGNING_KEY_RE.match(seed):
            raise InvalidInput("trustee share: signing seed is not 64 lowercase hex")
        return cls(index, trustee, hex_to_int(data["secret_share"], "trustee share secret", upper=bound), key,
                   bytes.fromhex(seed))


@dataclass(frozen=True)
class DecryptionShare:
    """Trustee i's shares c_{i,j} = c_j^(2Δ s_i) of a tally vector and one proof (§6.3, protocol.md §9.5)."""

    index: int
    shares: tuple[GroupElement, ...]
    commitment_c: GroupElement  # a = C^r
    commitment_v: GroupElement  # b = v^r
    response: int  # z = r + e·Δ·s_i

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "shares": [int_to_hex(int(s)) for s in self.shares],
            "proof": {
                "commitment_c": int_to_hex(int(self.commitment_c)),
                "commitment_v": int_to_hex(int(self.commitment_v)),
                "response": int_to_hex(int(self.response)),
            },
        }

    @classmethod
    def from_dict(cls, obj: Any, key: ElectionPublicKey) -> "DecryptionShare":
        data = require_object(obj, {"index", "shares", "proof"}, "decryption share")
        index = require_int(data["index"], "decryption share index", lower=1, upper=len(key.trustees) + 1)
        n2 = int(key.public_key.n_square)
        shares = tuple(
            hex_to_int(s, f"decryption share {index} value {j}", lower=1, upper=n2)
            for j, s in enumerate(require_list(data["shares"], "decryption share values", max_length=MAX_TALLY_LENGTH))
        )
        proof = require_object(data["proof"], {"commitment_c", "commitment_v", "response"}, "decryption share proof")
        return cls(
            index,
            shares,
            hex_to_int(proof["commitment_c"], "decryption proof commitment_c", lower=1, upper=n2),
            hex_to_int(proof["commitment_v"], "decryption proof commitment_v", lower=1, upper=n2),
            hex_to_int(proof["response"], "decryption proof response", upper=1 << _response_bits(key)),
        )


def _nonce_bits(key: ElectionPublicKey) -> int:
    """r has |n²| + |Δ| + 2·128 bits so z = r + e·Δ·s_i hides Δ·s_i statistically (§6.3)."""
    return int(key.public_key.n_square).bit_length() + key.delta.bit_length() + 2 * CHALLENGE_BITS


def _response_bits(key: ElectionPublicKey) -> int:
    return _nonce_bits(key) + 1


def _party(index: int) -> str:
    return f"trustee/{index}"


def _combined_bases(
    key: ElectionPublicKey, election_id: str, contest_id: str, index: int, ciphertexts: Sequence[GroupElement],
    shares: Sequence[GroupElement],
) -> tuple[list[Any], GroupElement, GroupElement]:
    """Statement and C = (∏ c_j^(w_j))^4, S = (∏ c_{i,j}^(w_j))² with hash-derived weights (§6.3)."""
    pk = key.public_key
    n2 = pk.n_square
    statement: list[Any] = [
        index, key.verification_base, key.trustees[index - 1].verification_key,
        [int(c) for c in ciphertexts], [int(s) for s in shares],
    ]
    weight_seed = hashlib.sha256(
        lp_encode(DOMAIN_DECRYPTION_WEIGHTS, election_id, pk.n, contest_id, _party(index), statement)
    ).digest()
    weights = [
        int.from_bytes(hashlib.sha256(weight_seed + j.to_bytes(4, "big")).digest()[:16], "big")
        for j in range(len(ciphertexts))
    ]
    big_c = powmod(multi_exp(ciphertexts, weights, n2), 4, n2)
    big_s = powmod(multi_exp(shares, weights, n2), 2, n2)
    return statement, big_c, big_s


def _check_ciphertexts(key: ElectionPublicKey, ciphertexts: Sequence[GroupElement]) -> list[mpz]:
    pk = key.public_key
    if not 1 <= len(ciphertexts) <= MAX_TALLY_LENGTH:
        raise InvalidInput(f"tally: between 1 and {MAX_TALLY_LENGTH} ciphertexts required")
    for j, c in enumerate(ciphertexts):
        if not 0 < c < pk.n_square:
            raise InvalidInput(f"tally ciphertext {j}: not in the range 0 < c < n²")
    check_units(pk, ciphertexts, "tally ciphertext")
    return [mpz(c) for c in ciphertexts]


def compute_decryption_share(
    share: TrusteeShare, election_id: str, contest_id: str, ciphertexts: Sequence[GroupElement]
) -> DecryptionShare:
    """Trustee's decryption shares of a tally vector with one equality-of-logs proof (§6.3)."""
    key = share.election_key
    pk = key.public_key
    n2 = pk.n_square
    cts = _check_ciphertexts(key, ciphertexts)
    x = key.delta * share.secret_share
    shares = [int(powmod(c, 2 * x, n2)) for c in cts]
    statement, big_c, _ = _combined_bases(key, election_id, contest_id, share.index, cts, shares)
    r = random_bits(_nonce_bits(key))
    a = int(powmod(big_c, r, n2))
    b = int(powmod(key.verification_base, r, n2))
    e = challenge(DOMAIN_DECRYPTION, election_id, pk.n, contest_id, _party(share.index), statement, [a, b])
    return DecryptionShare(share.index, tuple(shares), a, b, r + e * x)


def verify_decryption_share(
    key: ElectionPublicKey, election_id: str, contest_id: str, ciphertexts: Sequence[GroupElement],
    share: DecryptionShare,
) -> None:
    """Check C^z = a·S^e and v^z = b·v_i^e mod n² (docs/protocol.md §6.3); InvalidProof if not."""
    pk = key.public_key
    n2 = pk.n_square
    cts = _check_ciphertexts(key, ciphertexts)
    if not 1 <= share.index <= len(key.trustees):
        raise InvalidInput("decryption share: unknown trustee index")
    what = f"decryption share of trustee {share.index}"
    if len(share.shares) != len(cts):
        raise InvalidInput(f"{what}: expected {len(cts)} values, got {len(share.shares)}")
    for value in list(share.shares) + [share.commitment_c, share.commitment_v]:
        if not 0 < value < n2:
            raise InvalidInput(f"{what}: value not in the range 0 < x < n²")
    check_units(pk, list(share.shares) + [share.commitment_c, share.commitment_v], what)
    if not 0 <= share.response < (1 << _response_bits(key)):
        raise InvalidInput(f"{what}: response out of range")
    statement, big_c, big_s = _combined_bases(key, election_id, contest_id, share.index, cts, share.shares)
    e = challenge(
        DOMAIN_DECRYPTION, election_id, pk.n, contest_id, _party(share.index), statement,
        [share.commitment_c, share.commitment_v],
    )
    v_i = key.trustees[share.index - 1].verification_key
    if powmod(big_c, share.response, n2) != share.commitment_c * powmod(big_s, e, n2) % n2:
        raise InvalidProof(f"{what}: proof equation for the ciphertexts fails")
    if powmod(key.verification_base, share.response, n2) != share.commitment_v * powmod(v_i, e, n2) % n2:
        raise InvalidProof(f"{what}: proof equation for the verification key fails")


def combine(
    key: ElectionPublicKey,
    election_id: str,
    contest_id: str,
    ciphertexts: Sequence[GroupElement],
    shares: Sequence[DecryptionShare],
) -> list[int]:
    """Verify the shares and combine any ``threshold`` valid ones into plaintexts (§6.4)
    (crypto.hazmat.threshold.combine_unchecked after the checks).

    Raises InvalidInput if fewer than t distinct trustees supplied valid shares.
    """
    seen: dict[int, DecryptionShare] = {}
    for share in shares:
        if share.index in seen:
            raise InvalidInput(f"decryption share of trustee {share.index} given twice")
        verify_decryption_share(key, election_id, contest_id, ciphertexts, share)
        seen[share.index] = share
    if len(seen) < key.threshold:
        raise InvalidInput(f"need {key.threshold} valid decryption shares, got {len(seen)}")
    chosen = [seen[i] for i in sorted(seen)[: key.threshold]]
    return combine_unchecked(key, chosen)
