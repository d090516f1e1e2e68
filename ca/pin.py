"""The opening object (docs/record.md §2.0): the CA pins the election's keys before polls open.

The CA attends the key ceremony and receives the election key, the server's board key and the
officials' public keys; it checks their shapes and that the credential list is its own for
this election, and signs

    {"type": "ssbvote-opening", "election_id", "election_key": SHA-256 of election_key.json,
     "board_key", "ca_key", "credentials": SHA-256 of credentials.json, "officials", "at"}

The opening hash (SHA-256 of the signed object's canonical JSON) is bound into every ballot
signature, checkpoint and receipt.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.encoding import canonical_json, parse_json
from crypto.errors import InvalidInput
from crypto.threshold import ElectionPublicKey
from election import authority
from election.signed import ALGORITHM, sign, verify

from . import files
from .errors import CAError
from .issue import load_manifest
from .keys import public_hex


@dataclass(frozen=True)
class Opening:
    opening: dict[str, Any]  # signed
    opening_hash: str


def _json(data: bytes, what: str) -> Any:
    try:
        return parse_json(data, what)
    except InvalidInput as exc:
        raise CAError(str(exc)) from None


def _point(hex_key: str, what: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError:
        raise CAError(f"{what}: not an Ed25519 public key") from None


def board_key_of(data: bytes) -> str:
    """The 64 hex of a board_key.json ``{"algorithm": "Ed25519", "public_key": …}`` (record.md §1)."""
    obj = _json(data, "board key")
    if (not isinstance(obj, dict) or set(obj) != {"algorithm", "public_key"}
            or obj["algorithm"] != ALGORITHM or not authority.is_hex64(obj["public_key"])):
        raise CAError('board key: expected {"algorithm": "Ed25519", "public_key": <64 lowercase hex>}')
    _point(obj["public_key"], "board key")
    return str(obj["public_key"])


def build_opening(key: Ed25519PrivateKey, manifest: bytes, election_key: bytes, board_key: bytes,
                  credentials: bytes, officials: bytes, *, allow_insecure_test_key: bool = False,
                  at: Optional[str] = None, witnesses: bytes = b"[]") -> Opening:
    """Check the inputs (file bytes) and sign the opening; :class:`CAError` naming the first
    input at fault."""
    parsed = load_manifest(manifest)
    election_id = parsed.election_id
    try:
        ElectionPublicKey.from_dict(_json(election_key, "election key"),
                                    allow_insecure_test_key=allow_insecure_test_key)
    except InvalidInput as exc:
        raise CAError(f"election key: {exc}") from None
    board = board_key_of(board_key)

    listed = _json(credentials, "credential list")
    problems = authority.check_credential_list(listed)
    if problems:
        raise CAError("credential list: " + "; ".join(problems))
    ca_key = public_hex(key)
    if not verify(listed, ca_key):
        raise CAError("credential list: not signed by this CA key")
    if listed["election_id"] != election_id:
        raise CAError(f"credential list: of election {listed['election_id']}, not of this "
                      f"manifest's {election_id}")
    if canonical_json(listed) != credentials:
        raise CAError("credential list: not the canonical bytes the CA wrote (its hash would differ)")
    unknown = sorted(set(listed["contests"]) - {c.id for c in parsed.contests})
    if unknown:  # record.md §6.2 (version 4): keyed by the manifest's contest ids
        raise CAError(f"credential list: {', '.join(unknown)} not contests of the manifest")

    people = _json(officials, "officials")
    problems = authority.check_officials(people)
    if problems:
        raise CAError("; ".join(problems))
    for official in people:
        _point(official["public_key"], f"official {official['username']}")
    observers = _json(witnesses, "witnesses")
    if isinstance(observers, list) and all(isinstance(w, dict) for w in observers):
        observers = sorted(observers, key=lambda w: str(w.get("name")))  # the opening's order
    problems = authority.check_witnesses(observers)
    if problems:
        raise CAError("; ".join(problems))
    for w in observers:
        _point(w["public_key"], f"witness {w['name']}")
    keys = ([board, ca_key] + [o["public_key"] for o in people]
            + [w["public_key"] for w in observers])
    if len(set(keys)) != len(keys):
        raise CAError("the board key, the CA key, the officials' and the witnesses' keys must "
                      "all differ")

    opening = sign(authority.opening(
        election_id, hashlib.sha256(election_key).hexdigest(), board, ca_key,
        hashlib.sha256(credentials).hexdigest(), people, at or files.now_iso(), observers), key)
    return Opening(opening, authority.object_hash(opening))
