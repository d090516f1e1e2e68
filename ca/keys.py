"""The CA key: an Ed25519 key pair in a PEM file only the CA keeps (docs/record.md §1, §6).

The public half is published as 64 hex digits (it is pinned as ``ca_key`` in the opening,
record.md §2.0, and given to the verifier as ``--ca-key``); every credential letter prints it
with its **fingerprint**, the first 64 bits of SHA-256 of the 32 raw public-key bytes as four
groups of four upper-case hex digits (``1A2B-3C4D-5E6F-7A8B``), short enough to compare by eye
with the CA's own publication.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from .errors import CAError


def public_hex(key: Ed25519PrivateKey) -> str:
    """The 32 raw public-key bytes as lowercase hex."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def fingerprint(public_key_hex: str) -> str:
    """``1A2B-3C4D-5E6F-7A8B``: SHA-256 of the raw public key, first 8 bytes, grouped."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16].upper()
    return "-".join(digest[i:i + 4] for i in range(0, 16, 4))


def generate_key(path: Path) -> Ed25519PrivateKey:
    """A new CA key written to ``path`` as PKCS#8 PEM, mode 0600; never overwrites a file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CAError(f"{path} exists; a CA key is never overwritten") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)  # whatever the umask
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """The CA key in ``path`` (unencrypted PEM); CAError if it is not an Ed25519 private key."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CAError(f"cannot read the CA key {path}: {exc.strerror}") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CAError(f"{path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CAError(f"{path} is not an Ed25519 key")
    return key
