"""SSB Vote cryptography: Paillier ballots, zero-knowledge proofs, threshold decryption.

The protocol implemented here is specified in ``docs/protocol.md``; every public function
cites the section it implements.  Two layers, as in ``frontend/src/index.js`` / ``hazmat.js``:

* this package's namespace — the **safe API**: everything that takes a value from outside
  validates it and raises :class:`InvalidInput` naming what failed (parse, verify, encrypt,
  aggregate, key ceremony, threshold decryption);
* :mod:`crypto.hazmat` — the raw arithmetic underneath (multi-exponentiation, g^x, raw
  encryption and products, the batch equation, unchecked share combination).  No validation.

Modules (imports go one way, down this list; ``crypto.hazmat`` is below all but ``errors``):

* ``crypto.errors`` — ``CryptoError``, ``InvalidInput``, ``InvalidProof`` (protocol.md §1.3)
* ``crypto.encoding`` — canonical JSON, hex, length-prefixed encoding, strict parsing (§2)
* ``crypto.hashing`` — the Fiat–Shamir ``challenge`` function (§3)
* ``crypto.randomness``, ``crypto.primes`` — ``secrets``; safe primes (protocol.md §1.3, §6.1)
* ``crypto.paillier`` — ``PublicKey``, ciphertext validation, ``add_ciphertexts`` (§5.1, §6.1, protocol.md §8)
* ``crypto.proofs`` — disjunctive n-th-residuosity proofs (protocol.md §5.3)
* ``crypto.statement`` — ``ContestStatement``: key, election, contest, party, N, k (§3, §5)
* ``crypto.kdf`` — per-ballot randomness from a 32-byte seed (§4)
* ``crypto.ballot`` — ``EncryptedContest`` and its parsing, ``encrypt_contest``,
  ``open_ballot`` (§5, §5.6)
* ``crypto.batch`` — ``verify_contest``, ``verify_many`` (batch, bisect, name) (protocol.md §5.4, §7)
* ``crypto.keyproofs`` — hash_to_unit, the key id, the verification base, Π^mod and Π^fac
  (§2.4, protocol.md §6.6, protocol.md §6.8, protocol.md §6.9)
* ``crypto.threshold`` — the election key, decryption shares, proofs, combination (§6)
* ``crypto.keycheck`` — the named checks of an election key (§6.2, protocol.md §6.7)
* ``crypto.ceremony`` — key generation and encrypted share files (§6.1, protocol.md §6.5)
* ``crypto.credential`` — voter/official credentials, their Ed25519 keys, ballot signatures (protocol.md §13)
"""
from .ballot import (ContestPrecomputation, EncryptedContest, ballot_hash, encrypt_contest, open_ballot, precompute_contest,
                     recover_selections)
from .batch import verify_contest, verify_many
from .ceremony import generate_election_key, read_encrypted_share, write_encrypted_share
from .errors import CryptoError, InvalidInput, InvalidProof
from .keycheck import KeyCheckFailed, check_election_key
from .paillier import PublicKey, add_ciphertexts, parse_ciphertext, validate_ciphertext
from .statement import ContestStatement
from .threshold import (
    DecryptionShare,
    ElectionPublicKey,
    TrusteeShare,
    combine,
    compute_decryption_share,
    verify_decryption_share,
)

__all__ = [
    "ContestPrecomputation",
    "ContestStatement",
    "CryptoError",
    "DecryptionShare",
    "ElectionPublicKey",
    "EncryptedContest",
    "InvalidInput",
    "InvalidProof",
    "KeyCheckFailed",
    "PublicKey",
    "TrusteeShare",
    "add_ciphertexts",
    "ballot_hash",
    "check_election_key",
    "combine",
    "compute_decryption_share",
    "encrypt_contest",
    "generate_election_key",
    "open_ballot",
    "parse_ciphertext",
    "precompute_contest",
    "read_encrypted_share",
    "recover_selections",
    "validate_ciphertext",
    "verify_contest",
    "verify_decryption_share",
    "verify_many",
    "write_encrypted_share",
]
