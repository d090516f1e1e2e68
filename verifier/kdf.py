"""Per-ballot key derivation from a 32-byte seed — docs/protocol.md §4 (byte-exact).

The verifier derives only what opening a ballot needs (§5.6): the encryption randomness
r_i = unit("r", i) of candidate i under the ballot context of §4.1, with the ballot party
``<pseudonym>/<credential>`` (§13.4) in the pseudonym's place.  HKDF-SHA256 is RFC 5869 as
``cryptography`` implements it.
"""
from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from verifier import arith
from verifier.encoding import lp

DOMAIN_BALLOT_CONTEXT = "ssb-vote/v1/ballot-context"
DOMAIN_KDF = "ssb-vote/v1/kdf"
SEED_BYTES = 32
LABEL_R = "r"  # the encryption randomness r_i (§4.3)
MAX_ATTEMPTS = 64  # a rejection has probability ≈ 2^-1000 (§4.2); 64 in a row do not happen


def ballot_context(election_id: str, n: int, contest_id: str, party: str) -> bytes:
    """ctx = SHA-256(LP("ssb-vote/v1/ballot-context", election_id, n, contest_id, party))
    (§4.1; party = ``<pseudonym>/<credential>``, §13.4)."""
    return hashlib.sha256(lp(DOMAIN_BALLOT_CONTEXT, election_id, n, contest_id, party)).digest()


def kdf(seed: bytes, context: bytes, label: str, index: int, attempt: int, length: int) -> bytes:
    """KDF(label, index, attempt, L) = HKDF-SHA256(IKM = seed, salt = ctx,
    info = LP("ssb-vote/v1/kdf", label, index, attempt), L) (§4.2)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=context,
                info=lp(DOMAIN_KDF, label, index, attempt)).derive(seed)


def unit(seed: bytes, context: bytes, n: int, label: str, index: int) -> Any:
    """unit(label, index): the first attempt whose KDF output (⌈bits(n)/8⌉ + 16 bytes,
    big-endian) reduced mod n is a non-zero unit of Z_n (§4.2), in the backend's type.
    Raises ValueError if none of :data:`MAX_ATTEMPTS` is (n then has a tiny factor)."""
    length = (n.bit_length() + 7) // 8 + 16
    nn = arith.mpz(n)
    for attempt in range(MAX_ATTEMPTS):
        x = arith.from_bytes(kdf(seed, context, label, index, attempt, length)) % nn
        if x != 0 and arith.gcd(x, nn) == 1:
            return x
    raise ValueError(f"unit({label}, {index}): no unit in {MAX_ATTEMPTS} attempts")


def randomness(seed: bytes, context: bytes, n: int, index: int) -> Any:
    """r_i = unit("r", i) (§4.3)."""
    return unit(seed, context, n, LABEL_R, index)
