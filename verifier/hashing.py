"""Hash functions: SHA-256 of canonical JSON, the Fiat–Shamir challenge, decryption weights.

docs/protocol.md §2.1 (object hash), §3 (challenge), §6.3 (weights).
"""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

from verifier.encoding import canonical_json, lp

DOMAIN_ZERO_ONE = "ssb-vote/v3/proof/zero-one"
DOMAIN_SUM = "ssb-vote/v3/proof/sum"
DOMAIN_DECRYPTION = "ssb-vote/v1/proof/decryption"
DOMAIN_DECRYPTION_WEIGHTS = "ssb-vote/v1/decryption-weights"
CHALLENGE_BITS = 128
CHALLENGE_MOD = 1 << CHALLENGE_BITS


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_hash(obj: Any) -> str:
    """Lowercase hex SHA-256 of the canonical JSON of ``obj`` (§2.1, protocol.md §5.5)."""
    return sha256_hex(canonical_json(obj))


def challenge(domain: str, election_id: str, n: int, contest_id: str, party: str,
              statement: Sequence[Any], commitments: Sequence[Any]) -> int:
    """int_be(SHA-256(LP(domain, election_id, n, contest_id, party, statement,
    commitments))[0:16]) — docs/protocol.md §3.  All strings are LP string items."""
    digest = hashlib.sha256(lp(domain, election_id, n, contest_id, party,
                               list(statement), list(commitments))).digest()
    return int.from_bytes(digest[:16], "big")


def decryption_weights(election_id: str, n: int, contest_id: str, index: int,
                       statement: Sequence[Any], count: int) -> list[int]:
    """w_j = int_be(SHA-256(wseed ‖ u32be(j−1))[0:16]), j = 1 … K (docs/protocol.md §6.3)."""
    wseed = hashlib.sha256(lp(DOMAIN_DECRYPTION_WEIGHTS, election_id, n, contest_id,
                              f"trustee/{index}", list(statement))).digest()
    return [int.from_bytes(hashlib.sha256(wseed + j.to_bytes(4, "big")).digest()[:16], "big")
            for j in range(count)]
