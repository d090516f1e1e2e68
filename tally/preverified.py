"""Ballots whose proofs were already verified while the polls were open (docs/record.md §3.1).

``tally preverify`` checks board *snapshots* (exports that end at a signed, non-final checkpoint)
during polling and records here every ballot it verified valid.  The final ``tally prepare
--preverified FILE`` then skips the proof check of a counted ballot it finds here: it still
checks the ballot line against its entry (bytes, hash, canonical form, value ranges) and
aggregates it, which costs a few milliseconds instead of ~50.

A ballot's validity depends only on its bytes and on (election, key, contest, ballot party), all
bound by the key of a line: SHA-256(contest ‖ 0 ‖ party ‖ 0 ‖ ballot_hash) truncated to 128
bits, with party the ballot party ``<pseudonym>/<credential>`` (docs/protocol.md §13.4), in a
file whose header names the election id and the election key's fingerprint.  The file
is the tally operator's local cache, like the chunk results an interrupted prepare reuses; it is
not part of the election record, and the independent verifier re-verifies every counted ballot.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .errors import TallyError

HEADER_TYPE = "ssbvote-preverified/2"  # /2: lines keyed by the ballot party (record format 2)
_KEY_HEX_DIGITS = 32


def ballot_key(contest: str, party: str, ballot_hash: str) -> str:
    """The line recording that this ballot of this ballot party (``<pseudonym>/<credential>``,
    docs/protocol.md §13.4) in this contest verified valid."""
    data = b"\0".join((contest.encode(), party.encode(), ballot_hash.encode()))
    return hashlib.sha256(data).hexdigest()[:_KEY_HEX_DIGITS]


def key_fingerprint(n: int) -> str:
    return hashlib.sha256(format(n, "x").encode()).hexdigest()


@dataclass
class Preverified:
    """The known-valid ballots of one election under one key, backed by an append-only file."""

    path: Path
    election_id: str
    fingerprint: str
    keys: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path, election_id: str, n: int, create: bool = False) -> "Preverified":
        """Read ``path``; refuse a file of another election or key, or a damaged one.  With
        ``create``, a missing file is started empty."""
        path = Path(path)
        found = cls(path, election_id, key_fingerprint(n))
        if not path.exists():
            if not create:
                raise TallyError(f"pre-verified ballots: {path} does not exist")
            return found
        with open(path, "rb") as handle:
            first = handle.readline()
            if not first.endswith(b"\n"):
                return found  # empty, or a header cut short by a crash: start again
            try:
                header = json.loads(first)
            except ValueError:
                header = None
            if not isinstance(header, dict) or header.get("type") != HEADER_TYPE:
                raise TallyError(f"pre-verified ballots: {path} is not a {HEADER_TYPE} file")
            if header.get("election_id") != election_id or header.get("key") != found.fingerprint:
                raise TallyError(f"pre-verified ballots: {path} belongs to another election or election key")
            for number, line in enumerate(handle, start=2):
                key = line.rstrip(b"\n").decode("ascii", "replace")
                if not line.endswith(b"\n"):
                    break  # a line cut short by a crash while appending: ignored, re-verified
                if len(key) != _KEY_HEX_DIGITS or key.strip("0123456789abcdef"):
                    raise TallyError(f"pre-verified ballots: {path} line {number} is damaged")
                found.keys.add(key)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: Iterable[str]) -> int:
        """Append the new ``keys`` (durably); return how many were new."""
        new = [k for k in dict.fromkeys(keys) if k not in self.keys]
        if not new:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_partial_line()
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "ab") as handle:
            if fresh:
                header = {"type": HEADER_TYPE, "election_id": self.election_id, "key": self.fingerprint}
                handle.write(json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n")
            handle.write("".join(k + "\n" for k in new).encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        self.keys.update(new)
        return len(new)

    def _drop_partial_line(self) -> None:
        """Cut off a last line that a crash left without its newline (load ignored it)."""
        if not self.path.exists():
            return
        with open(self.path, "r+b") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - 4096)
            handle.seek(start)
            tail = handle.read()
            if tail and not tail.endswith(b"\n"):
                handle.truncate(start + tail.rfind(b"\n") + 1)
