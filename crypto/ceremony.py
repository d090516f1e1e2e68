"""Key ceremony and encrypted trustee share files (docs/protocol.md §6.1, §6.5).

A single dealer generates n = pq from safe primes, each trustee's Ed25519 signing key, the
verification base v from a hash of the key's public data (protocol.md §6.6), the sharing polynomial and the
verification keys, and the proofs that n is well formed (Π^mod, Π^fac: protocol.md §6.8, protocol.md §6.9) offline with
the trustees present; it checks its own output as everyone else will (§6.2, crypto.keycheck),
hands each trustee an encrypted share file and erases p, q, d (trust assumption protocol.md §10).  Share
files (version 2) are AES-256-GCM under a key derived from the trustee's passphrase with scrypt
(``cryptography``), the header authenticated as associated data.
"""
from __future__ import annotations

import os
from math import factorial
from pathlib import Path
from typing import Any, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .encoding import canonical_json, parse_json, require_int, require_object, require_str
from .errors import InvalidInput
from .hazmat.gmp import invert, powmod
from .keycheck import check_election_key
from .keyproofs import key_id, prove_factors, prove_modulus, verification_base
from .paillier import PublicKey, check_key_size
from .primes import generate_safe_prime
from .randomness import random_below, random_bytes
from .threshold import MAX_TRUSTEES, ElectionPublicKey, KeyProofs, TrusteeKey, TrusteeShare, signing_public_key

SHARE_FILE_FORMAT = "ssb-vote/trustee-share"
SHARE_FILE_VERSION = 2
SCRYPT_LOG2_N = 17  # 128 MiB, ~0.5 s: a passphrase guess costs the attacker as much
SCRYPT_R = 8
SCRYPT_P = 1
_WRONG = "wrong passphrase or corrupted share file"


def generate_election_key(
    bits: int, trustees: list[str], threshold: int, *, allow_insecure_test_key: bool = False
) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    """Dealer key generation (docs/protocol.md §6.1): safe primes, then :func:`election_key_from_primes`,
    which checks the key (§6.2); p, q, m, d are dropped on return."""
    check_key_size(bits, allow_insecure_test_key)
    if bits % 2:
        raise InvalidInput("key size must be even")
    _check_trustees(trustees, threshold)
    while True:
        p = generate_safe_prime(bits // 2)
        q = generate_safe_prime(bits // 2)
        if p != q and (p * q).bit_length() == bits:
            break
    key, shares = election_key_from_primes(p, q, trustees, threshold, allow_insecure_test_key=allow_insecure_test_key)
    del p, q  # the dealer secret does not outlive this call (protocol.md §10)
    return key, shares


def _check_trustees(trustees: list[str], threshold: int) -> None:
    if not 1 <= len(trustees) <= MAX_TRUSTEES or len(set(trustees)) != len(trustees):
        raise InvalidInput(f"trustees: 1..{MAX_TRUSTEES} distinct names required")
    for name in trustees:
        require_str(name, "trustee name")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= len(trustees):
        raise InvalidInput("threshold must be in 1..number of trustees")


def election_key_from_primes(
    p: int, q: int, trustees: list[str], threshold: int, *, allow_insecure_test_key: bool = False
) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    """Steps 2–8 of docs/protocol.md §6.1 for the safe primes p, q (the caller's; regenerating the
    test vectors of protocol.md §11 uses it with known primes): signing keys, key id, v from the hash, the
    shares and v_i, Π^mod and Π^fac, then every check of §6.2 (:class:`crypto.keycheck.KeyCheckFailed`
    if p, q are not fit)."""
    _check_trustees(trustees, threshold)
    n = p * q
    m = ((p - 1) // 2) * ((q - 1) // 2)
    nm = n * m
    d = m * int(invert(m, n)) % nm  # d ≡ 0 mod m, d ≡ 1 mod n
    seeds = [_new_signing_seed() for _ in trustees]
    signing_keys = [signing_public_key(seed) for seed in seeds]
    kid = key_id(n, threshold, [(i, name, sk) for i, (name, sk) in enumerate(zip(trustees, signing_keys), start=1)])
    v = verification_base(n, kid)
    coefficients = [d] + [random_below(nm) for _ in range(threshold - 1)]
    n2 = n * n
    delta = factorial(len(trustees))
    secrets_ = []
    keys = []
    for i in range(1, len(trustees) + 1):
        s_i = 0
        for coefficient in reversed(coefficients):  # Horner over Z_{nm}
            s_i = (s_i * i + coefficient) % nm
        secrets_.append(s_i)
        keys.append(TrusteeKey(i, trustees[i - 1], int(powmod(v, delta * s_i, n2)), signing_keys[i - 1]))
    proofs = KeyProofs(prove_modulus(p, q, kid), prove_factors(p, q, kid))
    election_key = ElectionPublicKey(PublicKey(n, allow_insecure_test_key), threshold, int(v), tuple(keys), proofs)
    shares = [TrusteeShare(i, trustees[i - 1], s, election_key, seeds[i - 1]) for i, s in enumerate(secrets_, start=1)]
    del m, d, coefficients, seeds  # the dealer secret does not outlive this call (protocol.md §10)
    check_election_key(election_key, primes=(p, q))  # as every user of the key will (§6.2)
    return election_key, shares


def _new_signing_seed() -> bytes:
    """A fresh Ed25519 private key: 32 bytes from the CSPRNG (any 32 bytes are a seed, RFC 8032)."""
    return random_bytes(32)


class _Unreadable(InvalidInput):
    """A well-formed share file this version does not read (reported as it is)."""


def _derive_key(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise InvalidInput("passphrase: must be a non-empty string")
    return Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase.encode("utf-8"))


def write_encrypted_share(
    path: Union[str, Path], share: TrusteeShare, passphrase: str, *, scrypt_log2_n: int = SCRYPT_LOG2_N
) -> None:
    """Write ``share`` as an AES-256-GCM encrypted JSON file (docs/protocol.md §6.5, §9.6)."""
    if not 14 <= scrypt_log2_n <= 20:
        raise InvalidInput("scrypt cost: log2 N must be in 14..20")
    salt = random_bytes(16)
    nonce = random_bytes(12)
    header: dict[str, Any] = {
        "format": SHARE_FILE_FORMAT,
        "version": SHARE_FILE_VERSION,
        "trustee": share.trustee,
        "index": share.index,
        "kdf": {"name": "scrypt", "salt": salt.hex(), "log2_n": scrypt_log2_n, "r": SCRYPT_R, "p": SCRYPT_P},
        "cipher": {"name": "AES-256-GCM", "nonce": nonce.hex()},
    }
    key = _derive_key(passphrase, salt, scrypt_log2_n, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(key).encrypt(nonce, canonical_json(share.to_dict()), canonical_json(header))
    document = dict(header, ciphertext=ciphertext.hex())
    tmp = Path(f"{path}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(canonical_json(document))
    os.replace(tmp, path)


def _hex_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or len(value) % 2 or value != value.lower():
        raise InvalidInput(_WRONG)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise InvalidInput(_WRONG) from None
    if length is not None and len(raw) != length:
        raise InvalidInput(_WRONG)
    return raw


def read_encrypted_share(
    path: Union[str, Path], passphrase: str, *, allow_insecure_test_key: bool = False
) -> TrusteeShare:
    """Decrypt a share file; any wrong passphrase, tampering or malformation → InvalidInput (protocol.md §6.5)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"share file: cannot read ({exc.strerror})") from None
    if len(raw) > 1 << 20:
        raise InvalidInput(_WRONG)
    try:
        doc = require_object(
            parse_json(raw, "share file"),
            {"format", "version", "trustee", "index", "kdf", "cipher", "ciphertext"},
            "share file",
        )
        if doc["format"] != SHARE_FILE_FORMAT or doc["version"] != SHARE_FILE_VERSION:
            raise _Unreadable("share file: unknown format or version" if doc["version"] != 1 else
                              "share file of version 1: its election key has no signing keys or key proofs "
                              "(docs/protocol.md §6.5); the key ceremony must be run again")
        kdf = require_object(doc["kdf"], {"name", "salt", "log2_n", "r", "p"}, "share file kdf")
        cipher = require_object(doc["cipher"], {"name", "nonce"}, "share file cipher")
        if kdf["name"] != "scrypt" or cipher["name"] != "AES-256-GCM":
            raise InvalidInput("share file: unsupported algorithms")
        log2_n = require_int(kdf["log2_n"], "scrypt log2 N", lower=14, upper=21)
        r = require_int(kdf["r"], "scrypt r", lower=1, upper=17)
        p = require_int(kdf["p"], "scrypt p", lower=1, upper=5)
        salt = _hex_bytes(kdf["salt"], "salt", 16)
        nonce = _hex_bytes(cipher["nonce"], "nonce", 12)
        ciphertext = _hex_bytes(doc["ciphertext"], "ciphertext")
    except _Unreadable:
        raise
    except InvalidInput:
        raise InvalidInput(_WRONG) from None
    header = {k: v for k, v in doc.items() if k != "ciphertext"}
    key = _derive_key(passphrase, salt, log2_n, r, p)
    try:
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, canonical_json(header))
    except (InvalidTag, ValueError):
        raise InvalidInput(_WRONG) from None
    share = TrusteeShare.from_dict(parse_json(plaintext, "share"), allow_insecure_test_key=allow_insecure_test_key)
    if share.index != doc["index"] or share.trustee != doc["trustee"]:
        raise InvalidInput(_WRONG)
    return share
