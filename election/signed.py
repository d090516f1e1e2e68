"""Signed objects (docs/record.md §1).

A signed object is a JSON object with a ``type`` (the domain separator); its ``signature`` is
Ed25519 over the canonical JSON of the object without ``signature``, as lowercase hex.  The
key is always passed explicitly: which key signs is the caller's business (the app's server
key, a test board's key).
"""
from __future__ import annotations

import enum
import re
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.encoding import canonical_json

ALGORITHM = "Ed25519"
_SIGNATURE = re.compile(r"\A[0-9a-f]{128}\Z")


class Verdict(enum.Enum):
    """The outcome of checking one signed object."""

    VALID = "valid"
    MALFORMED = "malformed"  # signature missing or not 64 bytes of lowercase hex
    INVALID = "invalid"  # well-formed, but not by this key over this object


def unsigned(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without its ``signature``: the part that is signed (record.md §1)."""
    return {k: v for k, v in obj.items() if k != "signature"}


def sign(obj: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``obj`` with its ``signature`` (record.md §1); ``obj`` needs a ``type`` and no signature."""
    if "type" not in obj or "signature" in obj:
        raise ValueError("a signed object needs a type and no signature yet")
    return {**obj, "signature": key.sign(canonical_json(obj)).hex()}


def public_key_dict(key: Ed25519PrivateKey) -> dict[str, str]:
    """The published form of ``key``'s public half (record.md §1, ``board_key.json``)."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"algorithm": ALGORITHM, "public_key": raw.hex()}


def verdict(obj: Mapping[str, Any], public_key: Ed25519PublicKey) -> Verdict:
    """Check ``obj``'s signature under ``public_key`` (record.md §1)."""
    signature = obj.get("signature")
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        return Verdict.MALFORMED
    try:
        public_key.verify(bytes.fromhex(signature), canonical_json(unsigned(obj)))
    except InvalidSignature:
        return Verdict.INVALID
    return Verdict.VALID


def verify(obj: Mapping[str, Any], public_key_hex: str) -> bool:
    """True if ``obj`` is signed by the Ed25519 key whose 32 raw bytes are ``public_key_hex``."""
    try:
        public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
    except ValueError:
        return False
    return verdict(obj, public_key) is Verdict.VALID
