"""The receipt's QR code and the cast-as-intended check token (docs/record.md §2.5–§2.6).

The QR code holds ``ssbvote-check:1:<seq>:<seed hex>``: the board sequence and the ballot's
32-byte randomness seed, never a choice.  The voter's device sends the check token
SHA-256(``"ssbvote-check-v1"`` ‖ seed) when casting; the server keeps only its hash.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

QR_PREFIX = "ssbvote-check:1:"
CHECK_TOKEN_LABEL = b"ssbvote-check-v1"
_QR = re.compile(r"^ssbvote-check:1:([1-9][0-9]{0,11}):([0-9a-f]{64})$")


@dataclass(frozen=True)
class QrPayload:
    """What a receipt's QR code holds (record.md §2.5)."""

    seq: int
    seed: bytes


def qr_text(seq: int, seed: bytes) -> str:
    """The QR text of the ballot at board position ``seq`` with randomness ``seed``."""
    return f"{QR_PREFIX}{seq}:{seed.hex()}"


def parse_qr(text: str) -> QrPayload:
    """The payload of a QR text (surrounding white space ignored); ValueError if it is not one."""
    match = _QR.match(text.strip())
    if not match:
        raise ValueError("this is not an SSB Vote receipt code")
    return QrPayload(int(match.group(1)), bytes.fromhex(match.group(2)))


def check_token(seed: bytes) -> str:
    """Lowercase hex SHA-256(``"ssbvote-check-v1"`` ‖ seed) (record.md §2.6)."""
    return hashlib.sha256(CHECK_TOKEN_LABEL + seed).hexdigest()
