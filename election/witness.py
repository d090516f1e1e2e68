"""Witness statements (docs/record.md §2.0 ``witnesses``, §3.5), producer side: their shape,
their check against the witnesses pinned in the opening, and the file name in an export or
record (``witnesses/<name>.json``).  The server (POST witnesses), the export and the tally use
it; the verifier has its own (verifier/witness.py), written from the docs."""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from .signed import verify

WITNESS_TYPE = "ssbvote-witness"
STATEMENT_KEYS = frozenset({"type", "election_id", "opening", "seq", "head", "at", "witness",
                            "signature"})
WITNESS_DIR = "witnesses"
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_SIGNATURE = re.compile(r"\A[0-9a-f]{128}\Z")
_NAME = re.compile(r"\A[a-z0-9][a-z0-9-]{0,31}\Z")
_AT = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z\Z")
MAX_SEQ = 2 ** 53


def file_name(name: str) -> str:
    """``witnesses/<name>.json`` (record.md §4); the name was checked by the opening."""
    if not _NAME.match(name):
        raise ValueError(f"not a witness name: {name!r}")
    return f"{WITNESS_DIR}/{name}.json"


def pinned(opening: Mapping[str, Any]) -> dict[str, str]:
    """name → public key (64 hex) of the witnesses the opening pins (empty if none)."""
    return {w["name"]: w["public_key"] for w in opening.get("witnesses", [])}


def statement_problem(obj: Any, opening: Mapping[str, Any], opening_hash: str) -> Optional[str]:
    """Why ``obj`` is not a statement of a witness pinned in ``opening``, for its election and
    opening hash, signed by that witness's pinned key (None: it is one).  Where the head is on
    the board is the caller's question."""
    if not isinstance(obj, dict) or set(obj) != STATEMENT_KEYS:
        return f"a witness statement has exactly the keys {sorted(STATEMENT_KEYS)}"
    if obj["type"] != WITNESS_TYPE:
        return f"type is not {WITNESS_TYPE}"
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < MAX_SEQ:
        return "seq is not a board position"
    if not isinstance(obj["head"], str) or not _HEX64.match(obj["head"]):
        return "head is not 64 lowercase hex digits"
    if not isinstance(obj["at"], str) or not _AT.match(obj["at"]):
        return "at is not a UTC ISO time"
    if not isinstance(obj["signature"], str) or not _SIGNATURE.match(obj["signature"]):
        return "signature is not 128 lowercase hex digits"
    if obj["election_id"] != opening.get("election_id"):
        return "statement of another election"
    if obj["opening"] != opening_hash:
        return "statement under another opening"
    keys = pinned(opening)
    if not isinstance(obj["witness"], str) or obj["witness"] not in keys:
        return "the witness is not pinned in the opening"
    if not verify(obj, keys[obj["witness"]]):
        return f"the signature does not verify with the key pinned for {obj['witness']}"
    return None
