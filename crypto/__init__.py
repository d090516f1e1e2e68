"""SSB Vote cryptography: Paillier ballots, zero-knowledge proofs, threshold decryption.

The protocol implemented here is specified in ``docs/protocol.md``; every public function
cites the section it implements.  Public API (one module per concept):

* ``crypto.errors`` — ``CryptoError``, ``InvalidInput``, ``InvalidProof`` (§1.3)
* ``crypto.encoding`` — canonical JSON, hex, length-prefixed encoding, strict parsing (§2)
* ``crypto.hashing`` — the Fiat–Shamir ``challenge`` function (§3)
* ``crypto.kdf`` — per-ballot randomness from a 32-byte seed (§4)
* ``crypto.paillier`` — ``PublicKey``, ``validate_ciphertext``, key size policy (§5.1, §8)
* ``crypto.proofs`` — disjunctive n-th-residuosity proofs (§5.3)
* ``crypto.ballot`` — ``encrypt_contest``, ``verify_contest``, ``recover_selections`` (§5)
* ``crypto.batch`` — ``BatchVerifier`` across ballots (§7)
* ``crypto.multiexp`` — Pippenger multi-exponentiation (§7.2)
* ``crypto.threshold`` — decryption shares, proofs, combination (§6)
* ``crypto.ceremony`` — key generation and encrypted share files (§6.1, §6.5)
* ``crypto.credential`` — voter/official credentials, their Ed25519 keys, ballot signatures (§13)
"""
from .errors import CryptoError, InvalidInput, InvalidProof

__all__ = ["CryptoError", "InvalidInput", "InvalidProof"]
