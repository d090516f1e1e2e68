"""Per-ballot key derivation from a 32-byte seed — docs/protocol.md §4 (byte-exact).

The verifier derives only what opening a ballot needs (§5.6): the short encryption exponent
α_i = short("r", i, A) of candidate i, A = ⌈bits(n)/2⌉ (§4.2–§4.3, version 3), under the ballot
context of §4.1, with the ballot party ``<pseudonym>/<credential>`` (§13.4) in the pseudonym's
place.  HKDF-SHA256 is RFC 5869 as
``cryptography`` implements it.
"""
from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from verifier.encoding import lp

DOMAIN_BALLOT_CONTEXT = "ssb-vote/v1/ballot-context"
DOMAIN_KDF = "ssb-vote/v1/kdf"
SEED_BYTES = 32
LABEL_R = "r"  # the encryption randomness α_i (§4.3)


def ballot_context(election_id: str, n: int, contest_id: str, party: str) -> bytes:
    """ctx = SHA-256(LP("ssb-vote/v1/ballot-context", election_id, n, contest_id, party))
    (§4.1; party = ``<pseudonym>/<credential>``, §13.4)."""
    return hashlib.sha256(lp(DOMAIN_BALLOT_CONTEXT, election_id, n, contest_id, party)).digest()


def kdf(seed: bytes, context: bytes, label: str, index: int, attempt: int, length: int) -> bytes:
    """KDF(label, index, attempt, L) = HKDF-SHA256(IKM = seed, salt = ctx,
    info = LP("ssb-vote/v1/kdf", label, index, attempt), L) (§4.2)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=context,
                info=lp(DOMAIN_KDF, label, index, attempt)).derive(seed)


def short(seed: bytes, context: bytes, label: str, index: int, bits: int) -> int:
    """short(label, index, B): KDF(label, index, 0, ⌈B/8⌉) big-endian mod 2^B (§4.2)."""
    raw = kdf(seed, context, label, index, 0, (bits + 7) // 8)
    return int.from_bytes(raw, "big") & ((1 << bits) - 1)


def alpha(seed: bytes, context: bytes, n: int, index: int) -> int:
    """α_i = short("r", i, A) with A = ⌈bits(n)/2⌉ (§4.3)."""
    return short(seed, context, LABEL_R, index, (n.bit_length() + 1) // 2)
