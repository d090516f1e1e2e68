"""The bulletin board's objects (docs/record.md §2): entries and their hash chain, checkpoints,
the paper-override list and receipts.

This is the only producer code that spells the ``type`` of a signed board object.  The
constructors return *unsigned* objects; sign them with :func:`election.signed.sign`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from crypto.encoding import canonical_json

CHECKPOINT_TYPE = "ssbvote-checkpoint"  # record.md §2.3
PAPER_OVERRIDES_TYPE = "ssbvote-paper-overrides"  # record.md §2.4
RECEIPT_TYPE = "ssbvote-receipt"  # record.md §2.5

ENTRY_KEYS = frozenset({"seq", "election_id", "pseudonym", "contest", "ballot_hash", "cast_at",
                        "prev_hash", "entry_hash"})
CHECKPOINT_KEYS = frozenset({"type", "election_id", "seq", "head", "at", "final", "signature"})
OVERRIDE_KEYS = frozenset({"type", "election_id", "pseudonyms", "at", "approved_by", "signature"})


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
              cast_at: str, prev_hash: str) -> dict[str, Any]:
    """The board entry of record.md §2.1, with its ``entry_hash``."""
    body: dict[str, Any] = {
        "seq": seq, "election_id": election_id, "pseudonym": pseudonym, "contest": contest,
        "ballot_hash": ballot_hash, "cast_at": cast_at, "prev_hash": prev_hash,
    }
    body["entry_hash"] = entry_hash(body)
    return body


class Chain:
    """Appends entries to a board in memory: seq 1, 2, 3 …, each linked to the previous one
    (record.md §2.1; the first links to the election id)."""

    def __init__(self, election_id: str) -> None:
        self.election_id = election_id
        self.seq = 0
        self.head = election_id

    def append(self, pseudonym: str, contest: str, ballot_hash: str, cast_at: str) -> dict[str, Any]:
        entry = new_entry(self.seq + 1, self.election_id, pseudonym, contest, ballot_hash,
                          cast_at, self.head)
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


def checkpoint(election_id: str, seq: int, head: str, at: str, final: bool) -> dict[str, Any]:
    """An unsigned checkpoint of the board head (record.md §2.3); an empty board has seq 0 and
    the election id as head."""
    return {"type": CHECKPOINT_TYPE, "election_id": election_id, "seq": seq, "head": head,
            "at": at, "final": final}


def paper_overrides(election_id: str, pseudonyms: Sequence[str], at: str,
                    approved_by: Sequence[str]) -> dict[str, Any]:
    """The unsigned paper-vote list (record.md §2.4); ``pseudonyms`` as given (sorted, unique)."""
    return {"type": PAPER_OVERRIDES_TYPE, "election_id": election_id,
            "pseudonyms": list(pseudonyms), "at": at, "approved_by": list(approved_by)}


def receipt(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The unsigned receipt of a board entry (record.md §2.5)."""
    return {
        "type": RECEIPT_TYPE,
        "election_id": entry["election_id"],
        "seq": entry["seq"],
        "pseudonym": entry["pseudonym"],
        "contest": entry["contest"],
        "ballot_hash": entry["ballot_hash"],
        "entry_hash": entry["entry_hash"],
        "cast_at": entry["cast_at"],
    }
