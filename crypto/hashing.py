"""The single Fiat–Shamir challenge function (docs/protocol.md §3).

``challenge = first 16 bytes of SHA-256(LP(domain, election_id, n, contest_id, party,
statement, commitments))`` read big-endian: a 128-bit integer.  Hashing the election id, the
public key, the contest id and the party (voter pseudonym or trustee) binds every proof to its
context, so a proof copied to another voter, contest, election or key fails (strong
Fiat–Shamir, Bernhard–Pereira–Warinschi 2012).
"""
from __future__ import annotations

import hashlib
from typing import Sequence

from .encoding import LpItem, canonical_json, lp_encode

#: Challenge length in bits (§3): soundness error 2^-128 per proof.
CHALLENGE_BITS = 128
CHALLENGE_MODULUS = 1 << CHALLENGE_BITS

DOMAIN_ZERO_ONE = "ssb-vote/v3/proof/zero-one"
DOMAIN_SUM = "ssb-vote/v3/proof/sum"
DOMAIN_DECRYPTION = "ssb-vote/v1/proof/decryption"
DOMAIN_DECRYPTION_WEIGHTS = "ssb-vote/v1/decryption-weights"
DOMAIN_BALLOT_CONTEXT = "ssb-vote/v1/ballot-context"
DOMAIN_KDF = "ssb-vote/v1/kdf"


def challenge(
    domain: str,
    election_id: str,
    n: int,
    contest_id: str,
    party: str,
    statement: Sequence[LpItem],
    commitments: Sequence[LpItem],
) -> int:
    """The Fiat–Shamir challenge in ``[0, 2**128)`` (docs/protocol.md §3)."""
    digest = hashlib.sha256(
        lp_encode(domain, election_id, n, contest_id, party, list(statement), list(commitments))
    ).digest()
    return int.from_bytes(digest[: CHALLENGE_BITS // 8], "big")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def object_hash(obj: object) -> str:
    """SHA-256 hex of the canonical JSON of ``obj`` (§2.1), e.g. the ballot hash (protocol.md §5.5)."""
    return sha256_hex(canonical_json(obj))


# --- the same challenge, assembled from canonical hex text (hot path of ballot verification) ---
#
# LP (§2.2) encodes an integer as its canonical hex; a verifier that parsed the integers from
# canonical hex already holds those bytes, so it can feed them to SHA-256 directly instead of
# re-encoding every 4096-bit integer.  ``challenge_prefix`` + ``lp_list_hex`` produce exactly
# the bytes of ``lp_encode`` (tests/crypto/test_hashing_fast.py checks this).


def challenge_prefix(domain: str, election_id: str, n: int, contest_id: str, party: str) -> "hashlib._Hash":
    """SHA-256 state after LP(domain, election_id, n, contest_id, party); ``.copy()`` it, feed
    the statement and commitments (``lp_list_hex``), then :func:`challenge_from_digest`."""
    return hashlib.sha256(lp_encode(domain, election_id, n, contest_id, party))


def lp_int_hex(hex_text: bytes) -> bytes:
    """LP item of an integer given its canonical hex (ASCII bytes)."""
    return b"i" + len(hex_text).to_bytes(4, "big") + hex_text


def lp_list_hex(hex_texts: Sequence[bytes]) -> bytes:
    """LP list item of integers given their canonical hex (ASCII bytes)."""
    parts = [b"l" + len(hex_texts).to_bytes(4, "big")]
    for text in hex_texts:
        parts.append(b"i" + len(text).to_bytes(4, "big"))
        parts.append(text)
    return b"".join(parts)


def challenge_from_digest(digest: bytes) -> int:
    return int.from_bytes(digest[: CHALLENGE_BITS // 8], "big")
