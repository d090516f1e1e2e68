"""Per-ballot randomness derived from a 32-byte seed (docs/protocol.md §4).

Every random value of a ballot (short encryption exponents α_i, proof nonces, simulated challenges
and responses) is HKDF-SHA256 output keyed by the voter's seed, so the seed on the receipt
reproduces the ballot byte for byte (cast-as-intended check, protocol.md §5.6) and a browser can compute the
same bytes with WebCrypto.  The seed MUST be fresh for every encryption (§4.4).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from functools import cached_property

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from .encoding import lp_encode
from .errors import InvalidInput
from .hashing import CHALLENGE_BITS, DOMAIN_BALLOT_CONTEXT, DOMAIN_KDF
from .hazmat.gmp import gcd
from .paillier import PublicKey
from .statement import ContestStatement

SEED_BYTES = 32
#: Extra bytes beyond |n| before reducing mod n: statistical distance to uniform ≤ 2^-128 (§4.2).
EXTRA_BYTES = 16

# Labels (§4.3).
LABEL_R = "r"
LABEL_NONCE = "nonce"
LABEL_SIM_RESPONSE = "sim-response"
LABEL_SIM_CHALLENGE = "sim-challenge"
LABEL_SUM_NONCE = "sum-nonce"
LABEL_SUM_SIM_RESPONSE = "sum-sim-response"
LABEL_SUM_SIM_CHALLENGE = "sum-sim-challenge"


def ballot_context(statement: ContestStatement) -> bytes:
    """ctx = SHA-256(LP(domain, election_id, n, contest_id, pseudonym)) (§4.1)."""
    return hashlib.sha256(
        lp_encode(DOMAIN_BALLOT_CONTEXT, statement.election_id, statement.public_key.n,
                  statement.contest_id, statement.party)
    ).digest()


def _hkdf(seed: bytes, ctx: bytes, label: str, index: int, attempt: int, length: int) -> bytes:
    info = lp_encode(DOMAIN_KDF, label, index, attempt)
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=ctx, info=info).derive(seed)


def _prk(seed: bytes, ctx: bytes) -> bytes:
    """HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt = ctx, IKM = seed) — the same for
    every value of a ballot, so it is computed once (:meth:`BallotKdf.expand`)."""
    mac = hmac.HMAC(ctx, hashes.SHA256())
    mac.update(seed)
    return mac.finalize()


@dataclass(frozen=True)
class BallotKdf:
    """Deterministic derivation of a ballot's random values (docs/protocol.md §4)."""

    pk: PublicKey
    seed: bytes
    ctx: bytes

    @classmethod
    def create(cls, statement: ContestStatement, seed: bytes) -> "BallotKdf":
        """The KDF of the ballot for ``statement`` made from ``seed`` (§4.1)."""
        if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
            raise InvalidInput(f"seed: expected exactly {SEED_BYTES} bytes")
        return cls(statement.public_key, seed, ballot_context(statement))

    def unit(self, label: str, index: int) -> int:
        """Element of Z*_n: reduce |n|/8+16 bytes mod n, retry with attempt+1 if 0 or not a unit (§4.2)."""
        n = self.pk.n
        length = (n.bit_length() + 7) // 8 + EXTRA_BYTES
        attempt = 0
        while True:
            value = int.from_bytes(_hkdf(self.seed, self.ctx, label, index, attempt, length), "big") % n
            if value != 0 and gcd(value, n) == 1:
                return value
            attempt += 1  # pragma: no cover - probability ~2^-1000

    def response(self, label: str, index: int) -> int:
        """A unit normalised to [1, (n−1)/2] (§4.2, protocol.md §5.3)."""
        value = self.unit(label, index)
        return min(value, self.pk.n - value)

    @cached_property
    def _prk(self) -> bytes:
        return _prk(self.seed, self.ctx)

    def expand(self, label: str, index: int, attempt: int, length: int) -> bytes:
        """KDF(label, index, attempt, length) of §4.2 — HKDF-Expand from the ballot's PRK, the same
        bytes as the one-step HKDF."""
        info = lp_encode(DOMAIN_KDF, label, index, attempt)
        return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(self._prk)

    def short(self, label: str, index: int, bits: int) -> int:
        """An integer uniform in [0, 2^bits): ⌈bits/8⌉ bytes big-endian mod 2^bits (§4.2, version 3)."""
        raw = self.expand(label, index, 0, (bits + 7) // 8)
        return int.from_bytes(raw, "big") & ((1 << bits) - 1)

    def challenge(self, label: str, index: int) -> int:
        """A 128-bit simulated challenge: 16 bytes big-endian, no reduction (§4.2)."""
        return int.from_bytes(self.expand(label, index, 0, CHALLENGE_BITS // 8), "big")
