"""Witness statements (docs/record.md §2.0 ``witnesses``, §3.5): an observer pinned in the
CA-signed opening signs the board head it verified with its own Ed25519 key.

``python -m verifier witness keygen --out KEY.pem`` makes the key (its public key goes to the
CA, which pins it); ``python -m verifier witness sign --key KEY.pem --name NAME --state FILE
[--post URL]`` signs the head of an observer state file (§3.3) and optionally posts it to the
server.  :func:`statement_problem` is what check 33 applies to a record's ``witnesses/``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.encoding import canonical_json, expect_object, parse_count
from verifier.errors import InvalidInput
from verifier.signatures import signature_valid

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
    """Write a new Ed25519 private key (PEM, mode 0600) to ``out``; return the public key hex."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "xb") as handle:  # never overwrite a witness key
        handle.write(pem)
    out.chmod(0o600)
    return public_hex(key)


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{path}: not an Ed25519 key")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def sign_statement(key: Ed25519PrivateKey, name: str, election_id: str, opening_hash: str,
                   seq: int, head: str, at: datetime | None = None) -> dict[str, Any]:
    """The signed statement of docs/record.md §3.5."""
    if not NAME_RE.match(name):
        raise InvalidInput(f"witness name {name!r}: not of the form [a-z0-9][a-z0-9-]{{0,31}}")
    when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    body: dict[str, Any] = {"type": WITNESS_TYPE, "election_id": election_id,
                            "opening": opening_hash, "seq": seq, "head": head,
                            "at": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "witness": name}
    body["signature"] = key.sign(canonical_json(body)).hex()
    return body
