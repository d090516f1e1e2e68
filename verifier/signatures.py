"""Ed25519 signatures of the record's objects — docs/record.md §1.

``cryptography`` is used for Ed25519 verification only.  Four kinds of keys sign: the board key
(checkpoints, receipts), the credential authority's key (opening, credential list,
revocations), the officials' keys (paper-vote list) and the voters' credential keys (ballots).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from verifier.encoding import canonical_json, expect_object, parse_hex_bytes
from verifier.errors import InvalidInput

KEY_HEX_RE = re.compile(r"^[0-9a-f]{64}\Z")
SIGNATURE_HEX_RE = re.compile(r"^[0-9a-f]{128}\Z")


def public_key(raw: bytes) -> Ed25519PublicKey:
    """The Ed25519 public key of 32 raw bytes."""
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - 32 bytes always load
        raise InvalidInput(f"public key: {exc}") from None


def parse_board_key(obj: Any) -> Ed25519PublicKey:
    """``{"algorithm": "Ed25519", "public_key": hex of the 32 raw bytes}``."""
    return public_key(parse_public_key_json(obj, "board_key"))


def parse_public_key_json(obj: Any, what: str) -> bytes:
    """The 32 raw bytes of ``{"algorithm": "Ed25519", "public_key": hex}`` (§1)."""
    expect_object(obj, ("algorithm", "public_key"), what)
    if obj["algorithm"] != "Ed25519":
        raise InvalidInput(f"{what}.algorithm: not Ed25519")
    return parse_hex_bytes(obj["public_key"], f"{what}.public_key", 32)


def signed_body(obj: dict[str, Any], field: str = "signature") -> bytes:
    """The canonical JSON of ``obj`` without ``field``: what its signature covers (§1)."""
    return canonical_json({k: v for k, v in obj.items() if k != field})


def verify_bytes(key: Ed25519PublicKey | bytes, signature: Any,
                 message: bytes | bytearray) -> bool:
    """``signature`` (128 lowercase hex digits) is ``key``'s Ed25519 signature of
    ``message``.  ``key`` may be the 32 raw bytes; a malformed signature is not valid."""
    if not isinstance(signature, str) or not SIGNATURE_HEX_RE.match(signature):
        return False
    try:
        if isinstance(key, bytes):
            key = Ed25519PublicKey.from_public_bytes(key)
        key.verify(bytes.fromhex(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_valid(obj: Any, key: Ed25519PublicKey | bytes) -> bool:
    """Ed25519 over the canonical JSON of ``obj`` without ``signature`` (§1)."""
    if not isinstance(obj, dict) or "signature" not in obj:
        return False
    return verify_bytes(key, obj["signature"], signed_body(obj))


def read_key_option(value: str) -> bytes:
    """The 32 raw bytes of a public key given on the command line (``--ca-key``): 64 hex
    digits, or a file holding them, or a file holding ``{"public_key": hex, …}`` (as
    board_key.json).  Raises InvalidInput."""
    text = value.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        path = Path(value)
        if not path.is_file():
            raise InvalidInput(f"{value}: neither 64 hex digits nor a file")
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{value}: cannot be read ({exc})") from None
        if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
            try:
                obj = json.loads(text)
            except ValueError:
                raise InvalidInput(f"{value}: neither 64 hex digits nor JSON") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("public_key"), str):
                raise InvalidInput(f"{value}: no public_key in the JSON")
            if obj.get("algorithm", "Ed25519") != "Ed25519":
                raise InvalidInput(f"{value}: not an Ed25519 key")
            text = obj["public_key"].strip()
            if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
                raise InvalidInput(f"{value}: public_key is not 64 hex digits")
    return bytes.fromhex(text.lower())


# --- a witness's own key (docs/record.md §3.5) -------------------------------------------------

def new_seed() -> bytes:
    """A fresh Ed25519 private key's 32-byte seed (RFC 8032; from the OS's CSPRNG)."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def seed_public_hex(seed: bytes) -> str:
    """The public key (64 hex) of a 32-byte seed."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw().hex()


def sign_object(obj: dict[str, Any], seed: bytes) -> str:
    """Ed25519 over the canonical JSON of ``obj`` without ``signature`` (§1), as hex."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(signed_body(obj)).hex()
