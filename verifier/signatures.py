"""Ed25519 signatures of board objects — docs/record.md §1.

``cryptography`` is used for Ed25519 verification only.
"""
from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.encoding import canonical_json, expect_object, parse_hex_bytes
from verifier.errors import InvalidInput


def parse_board_key(obj: Any) -> Ed25519PublicKey:
    """``{"algorithm": "Ed25519", "public_key": hex of the 32 raw bytes}``."""
    expect_object(obj, ("algorithm", "public_key"), "board_key")
    if obj["algorithm"] != "Ed25519":
        raise InvalidInput("board_key.algorithm: not Ed25519")
    raw = parse_hex_bytes(obj["public_key"], "board_key.public_key", 32)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:  # pragma: no cover - 32 bytes always load
        raise InvalidInput(f"board_key.public_key: {exc}") from None


def signature_valid(obj: Any, key: Ed25519PublicKey) -> bool:
    """Ed25519 over the canonical JSON of ``obj`` without ``signature`` (§1)."""
    if not isinstance(obj, dict) or "signature" not in obj:
        return False
    try:
        sig = parse_hex_bytes(obj["signature"], "signature", 64)
    except InvalidInput:
        return False
    body = {k: v for k, v in obj.items() if k != "signature"}
    try:
        key.verify(sig, canonical_json(body))
    except InvalidSignature:
        return False
    return True
