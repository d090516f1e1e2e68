"""Witness statements (docs/record.md §2.0 ``witnesses``, §3.5): an observer pinned in the
CA-signed opening signs the board head it verified with its own Ed25519 key.

``python -m verifier witness keygen --out KEY`` makes the key (a file holding the 32-byte seed as
64 hex digits, mode 0600; its public key goes to the CA, which pins it); ``python -m verifier
witness sign --key KEY --name NAME --state FILE [--post URL]`` signs the head of an observer state file (§3.3) and optionally posts it to the
server.  :func:`statement_problem` is what check 33 applies to a record's ``witnesses/``.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from verifier.encoding import expect_object, parse_count
from verifier.errors import InvalidInput
from verifier.signatures import new_seed, seed_public_hex, sign_object, signature_valid

WITNESS_TYPE = "ssbvote-witness"
STATEMENT_KEYS = ("type", "election_id", "opening", "seq", "head", "at", "witness", "signature")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}\Z")
HEX64_RE = re.compile(r"^[0-9a-f]{64}\Z")


def pinned_witnesses(opening: Any) -> dict[str, bytes]:
    """name → 32-byte public key of the opening's well-formed ``witnesses`` entries (check 34
    reports what is malformed)."""
    out: dict[str, bytes] = {}
    if isinstance(opening, dict) and isinstance(opening.get("witnesses"), list):
        for w in opening["witnesses"]:
            if (isinstance(w, dict) and isinstance(w.get("name"), str)
                    and NAME_RE.match(w["name"]) and isinstance(w.get("public_key"), str)
                    and HEX64_RE.match(w["public_key"]) and w["name"] not in out):
                out[w["name"]] = bytes.fromhex(w["public_key"])
    return out


def statement_problem(obj: Any, pinned: Mapping[str, bytes], election_id: str,
                      opening_hash: str) -> str | None:
    """Why ``obj`` is not a witness statement of a pinned witness for this election and opening,
    signed by that witness's pinned key; None if it is one."""
    try:
        expect_object(obj, STATEMENT_KEYS, "witness statement")
        parse_count(obj["seq"], "witness.seq")
        if obj["type"] != WITNESS_TYPE:
            raise InvalidInput(f"witness.type: not {WITNESS_TYPE}")
        for k in ("head", "at", "witness"):
            if not isinstance(obj[k], str):
                raise InvalidInput(f"witness.{k}: not a string")
    except InvalidInput as exc:
        return str(exc)
    if obj["election_id"] != election_id:
        return "statement of another election"
    if obj["opening"] != opening_hash:
        return "statement under another opening"
    key = pinned.get(obj["witness"])
    if key is None:
        return f"witness {obj['witness']!r} is not pinned in the opening"
    if not signature_valid(obj, key):
        return f"signature does not verify with the key pinned for {obj['witness']!r}"
    return None


def keygen(out: Path) -> str:
    """Write a new witness key (its seed, 64 hex, mode 0600) to ``out``, never over an existing
    file; return the public key hex."""
    seed = new_seed()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(seed.hex() + "\n")
    return seed_public_hex(seed)


def load_key(path: Path) -> bytes:
    """The 32-byte seed of a witness key file."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from None
    if not HEX64_RE.match(text):
        raise InvalidInput(f"{path}: not a witness key (64 lowercase hex digits)")
    return bytes.fromhex(text)


def sign_statement(seed: bytes, name: str, election_id: str, opening_hash: str,
                   seq: int, head: str, at: datetime | None = None) -> dict[str, Any]:
    """The signed statement of docs/record.md §3.5."""
    if not NAME_RE.match(name):
        raise InvalidInput(f"witness name {name!r}: not of the form [a-z0-9][a-z0-9-]{{0,31}}")
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    body: dict[str, Any] = {"type": WITNESS_TYPE, "election_id": election_id,
                            "opening": opening_hash, "seq": seq, "head": head,
                            "at": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "witness": name}
    body["signature"] = sign_object(body, seed)
    return body
