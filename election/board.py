"""The bulletin board's objects (docs/record.md §2): entries of both kinds (``ballot``: a cast
ballot; ``audit``: a ballot the voter audited, docs/protocol.md §14) and their hash chain,
checkpoints, the paper-override list and receipts (record format version 3).

This is the only producer code that spells the ``type`` of a signed board object.  The
constructors return *unsigned* objects; sign checkpoints and receipts with
:func:`election.signed.sign` and the board key, and the paper-vote list with
:func:`add_official_signature` and each of two officials' keys.  Every object but the entry
carries the opening hash (record.md §2.0); a ballot entry carries the voter's signature of the
ballot statement that binds it (docs/protocol.md §13.3), an audit entry the voter's signature
of the audit statement and the seed that opens its ballot (§14.2).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crypto.credential import (audit_statement, ballot_statement, public_credential, verify_audit_signature,
                               verify_ballot_signature)
from crypto.encoding import canonical_json

CHECKPOINT_TYPE = "ssbvote-checkpoint"  # record.md §2.3
PAPER_OVERRIDES_TYPE = "ssbvote-paper-overrides"  # record.md §2.4
RECEIPT_TYPE = "ssbvote-receipt"  # record.md §2.5

#: The two kinds of board entry (record.md §2.1).
KIND_BALLOT = "ballot"
KIND_AUDIT = "audit"
ENTRY_KEYS = frozenset({"seq", "election_id", "kind", "pseudonym", "contest", "credential", "previous",
                        "signature", "ballot_hash", "cast_at", "prev_hash", "entry_hash"})
AUDIT_ENTRY_KEYS = frozenset({"seq", "election_id", "kind", "pseudonym", "contest", "credential", "seed",
                              "signature", "ballot_hash", "cast_at", "prev_hash", "entry_hash"})
#: kind → the exact keys of an entry of that kind (record.md §2.1).
ENTRY_KEYS_BY_KIND = {KIND_BALLOT: ENTRY_KEYS, KIND_AUDIT: AUDIT_ENTRY_KEYS}
CHECKPOINT_KEYS = frozenset({"type", "election_id", "opening", "seq", "head", "at", "final", "signature"})
OVERRIDE_KEYS = frozenset({"type", "election_id", "opening", "pseudonyms", "at", "signatures"})
OVERRIDE_SIGNATURE_KEYS = frozenset({"official", "signature"})
RECEIPT_KEYS = frozenset({"type", "election_id", "opening", "seq", "pseudonym", "credential", "contest",
                          "ballot_hash", "entry_hash", "cast_at", "signature"})
#: The paper-vote list is signed by two distinct officials (propose + approve, record.md §2.4).
OVERRIDE_SIGNERS = 2


def iso_utc(moment: datetime) -> str:
    """UTC, ISO 8601 with microseconds and ``Z`` (record.md §2.1 ``cast_at``)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256: ``ballot_hash`` of a ballot's canonical JSON (record.md §2.1)."""
    return hashlib.sha256(data).hexdigest()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``entry`` without ``entry_hash`` (record.md §2.1)."""
    return sha256_hex(canonical_json({k: v for k, v in entry.items() if k != "entry_hash"}))


def new_entry(seq: int, election_id: str, pseudonym: str, contest: str, ballot_hash: str,
              cast_at: str, prev_hash: str, *, credential: str, previous: str,
              signature: str) -> dict[str, Any]:
    """The ballot entry of record.md §2.1 (``kind`` "ballot"), with its ``entry_hash`` (which
    covers the voter's ``credential``, ``previous`` and ``signature``: docs/protocol.md §13.3)."""
    body: dict[str, Any] = {
        "seq": seq, "election_id": election_id, "kind": KIND_BALLOT, "pseudonym": pseudonym,
        "contest": contest, "credential": credential, "previous": previous, "signature": signature,
        "ballot_hash": ballot_hash, "cast_at": cast_at, "prev_hash": prev_hash,
    }
    body["entry_hash"] = entry_hash(body)
    return body


def new_audit_entry(seq: int, election_id: str, pseudonym: str, contest: str, ballot_hash: str,
                    cast_at: str, prev_hash: str, *, credential: str, seed: str,
                    signature: str) -> dict[str, Any]:
    """The audit entry of record.md §2.1 (``kind`` "audit"): the audited ballot's ``seed`` (64
    hex) and the voter's signature of the audit statement (docs/protocol.md §14.2), no
    ``previous``; with its ``entry_hash``."""
    body: dict[str, Any] = {
        "seq": seq, "election_id": election_id, "kind": KIND_AUDIT, "pseudonym": pseudonym,
        "contest": contest, "credential": credential, "seed": seed, "signature": signature,
        "ballot_hash": ballot_hash, "cast_at": cast_at, "prev_hash": prev_hash,
    }
    body["entry_hash"] = entry_hash(body)
    return body


def entry_statement(entry: Mapping[str, Any], opening: str) -> dict[str, str]:
    """The statement (docs/protocol.md §13.3 for a ballot entry, §14.2 for an audit entry) that
    the entry's ``signature`` signs, under the opening hash ``opening``;
    crypto.errors.InvalidInput if a field is malformed."""
    if entry.get("kind") == KIND_AUDIT:
        return audit_statement(entry["election_id"], opening, entry["contest"], entry["pseudonym"],
                               entry["credential"], entry["ballot_hash"], entry["seed"])
    return ballot_statement(entry["election_id"], opening, entry["contest"], entry["pseudonym"],
                            entry["credential"], entry["ballot_hash"], previous=entry["previous"])


def entry_signature_ok(entry: Mapping[str, Any], opening: str) -> bool:
    """True if the entry's ``signature`` is its ``credential``'s signature of its statement
    (the ballot statement, docs/protocol.md §13.3, or for an audit entry the audit statement,
    §14.2) under the opening hash ``opening``."""
    if entry.get("kind") == KIND_AUDIT:
        return verify_audit_signature(entry["election_id"], opening, entry["contest"], entry["pseudonym"],
                                      entry["credential"], entry["ballot_hash"], entry["seed"],
                                      entry["signature"])
    return verify_ballot_signature(entry["election_id"], opening, entry["contest"], entry["pseudonym"],
                                   entry["credential"], entry["ballot_hash"], entry["signature"],
                                   previous=entry["previous"])


class Chain:
    """Appends entries to a board in memory: seq 1, 2, 3 …, each linked to the previous one
    (record.md §2.1; the first links to the election id)."""

    def __init__(self, election_id: str) -> None:
        self.election_id = election_id
        self.seq = 0
        self.head = election_id

    def append(self, pseudonym: str, contest: str, ballot_hash: str, cast_at: str, *,
               credential: str, previous: str, signature: str) -> dict[str, Any]:
        """Append a ballot entry."""
        entry = new_entry(self.seq + 1, self.election_id, pseudonym, contest, ballot_hash,
                          cast_at, self.head, credential=credential, previous=previous,
                          signature=signature)
        self.seq, self.head = entry["seq"], entry["entry_hash"]
        return entry

    def append_audit(self, pseudonym: str, contest: str, ballot_hash: str, cast_at: str, *,
                     credential: str, seed: str, signature: str) -> dict[str, Any]:
        """Append an audit entry (docs/protocol.md §14)."""
        entry = new_audit_entry(self.seq + 1, self.election_id, pseudonym, contest, ballot_hash,
                                cast_at, self.head, credential=credential, seed=seed, signature=signature)
        self.seq, self.head = entry["seq"], entry["entry_hash"]
        return entry


@dataclass(frozen=True)
class Link:
    """How one entry sits on the chain (record.md §2.1)."""

    seq: int
    expected_seq: int
    prev_ok: bool  # prev_hash is the previous entry's entry_hash (the election id for the first)
    hash_ok: bool  # entry_hash is the hash of the entry

    @property
    def ok(self) -> bool:
        return self.seq == self.expected_seq and self.prev_ok and self.hash_ok


class ChainScanner:
    """Streaming check of the hash chain (record.md §2.1), one entry at a time, in file or
    database order.  After a broken link it carries on from the entry's stated values, so each
    broken entry is reported once."""

    def __init__(self, election_id: str) -> None:
        self.head = election_id
        self.count = 0
        self._expected_seq = 1

    def step(self, entry: Mapping[str, Any]) -> Link:
        stated = entry["entry_hash"]
        link = Link(seq=entry["seq"], expected_seq=self._expected_seq,
                    prev_ok=entry["prev_hash"] == self.head, hash_ok=entry_hash(entry) == stated)
        self.head, self._expected_seq = stated, entry["seq"] + 1
        self.count += 1
        return link


def checkpoint(election_id: str, seq: int, head: str, at: str, final: bool, *,
               opening: str) -> dict[str, Any]:
    """An unsigned checkpoint of the board head under the opening hash ``opening`` (record.md
    §2.3); an empty board has seq 0 and the election id as head."""
    return {"type": CHECKPOINT_TYPE, "election_id": election_id, "opening": opening, "seq": seq,
            "head": head, "at": at, "final": final}


def paper_overrides(election_id: str, pseudonyms: Sequence[str], at: str, *,
                    opening: str) -> dict[str, Any]:
    """The paper-vote list (record.md §2.4) without ``signatures``: what the two officials see
    (its :func:`paper_list_digest`) and sign (:func:`add_official_signature`).  ``pseudonyms``
    as given (sorted, unique)."""
    return {"type": PAPER_OVERRIDES_TYPE, "election_id": election_id, "opening": opening,
            "pseudonyms": list(pseudonyms), "at": at}


def paper_list_body(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The paper-vote list without ``signatures``: the part each official signs (record.md §2.4)."""
    return {k: v for k, v in obj.items() if k != "signatures"}


def paper_list_digest(obj: Mapping[str, Any]) -> str:
    """The list's digest shown to both officials: SHA-256 hex of the canonical JSON of the list
    without ``signatures`` (record.md §2.4); the same with or without signatures."""
    return sha256_hex(canonical_json(paper_list_body(obj)))


def add_official_signature(obj: Mapping[str, Any], official: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of the paper-vote list with ``official``'s signature appended to ``signatures``
    (created if absent): Ed25519 by the official's key (docs/protocol.md §13.2, purpose
    ``official``) over the canonical JSON of the list without ``signatures`` (record.md §2.4).
    ValueError if that official signed already or the list already has two signatures."""
    signatures = list(obj.get("signatures", []))
    if any(s.get("official") == official for s in signatures):
        raise ValueError(f"official {official!r} signed this list already")
    if len(signatures) >= OVERRIDE_SIGNERS:
        raise ValueError(f"the list has {len(signatures)} signatures already")
    body = paper_list_body(obj)
    signatures.append({"official": official, "signature": key.sign(canonical_json(body)).hex()})
    return {**body, "signatures": signatures}


def paper_signature_problems(obj: Mapping[str, Any], officials: Mapping[str, str]) -> list[str]:
    """What is wrong with the officials' signatures of a paper-vote list (empty: two distinct
    officials of ``officials`` — username → pinned 64-hex public key, record.md §2.0 — signed
    the list without ``signatures``, record.md §2.4)."""
    signatures = obj.get("signatures")
    if not isinstance(signatures, list):
        return ["signatures is not a list"]
    problems: list[str] = []
    if len(signatures) != OVERRIDE_SIGNERS:
        problems.append(f"{len(signatures)} signatures, not {OVERRIDE_SIGNERS} (two officials)")
    body = canonical_json(paper_list_body(obj))
    seen: set[str] = set()
    for i, item in enumerate(signatures):
        if not isinstance(item, dict) or set(item) != OVERRIDE_SIGNATURE_KEYS:
            problems.append(f"signatures[{i}] is not {{\"official\", \"signature\"}}")
            continue
        name = item["official"]
        if not isinstance(name, str) or name in seen:
            problems.append(f"signatures[{i}]: official {name!r} signed twice or is not a name")
            continue
        seen.add(name)
        public = officials.get(name)
        if public is None:
            problems.append(f"signatures[{i}]: {name!r} is not an official pinned in the opening")
        elif not _signature_ok(public, item["signature"], body):
            problems.append(f"signatures[{i}]: the signature of official {name!r} is not valid")
    return problems


def _signature_ok(public_hex: str, signature: Any, message: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        if not isinstance(signature, str) or len(signature) != 128 or signature != signature.lower():
            return False
        key.verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return True


def official_public_key(key: Ed25519PrivateKey) -> str:
    """The 64-hex public key of an official's key, as pinned in the opening (record.md §2.0)."""
    return public_credential(key)


def receipt(entry: Mapping[str, Any], *, opening: str) -> dict[str, Any]:
    """The unsigned receipt of a ballot entry under the opening hash ``opening`` (record.md §2.5);
    ValueError for an audit entry (an audit gets its audit code, docs/protocol.md §14.4)."""
    if entry.get("kind", KIND_BALLOT) != KIND_BALLOT:
        raise ValueError("receipts are issued for ballot entries only")
    return {
        "type": RECEIPT_TYPE,
        "election_id": entry["election_id"],
        "opening": opening,
        "seq": entry["seq"],
        "pseudonym": entry["pseudonym"],
        "credential": entry["credential"],
        "contest": entry["contest"],
        "ballot_hash": entry["ballot_hash"],
        "entry_hash": entry["entry_hash"],
        "cast_at": entry["cast_at"],
    }
