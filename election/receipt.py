"""The texts a voter is shown for a board entry (docs/record.md §2.5, docs/protocol.md §14.4–§14.5).

* The **tracker** QR of a receipt: ``ssbvote-tracker:1:<seq>:<ballot_hash>`` — where the cast
  ballot is on the board, never anything that opens it (record.md §2.5).
* The **audit code** of an audited ballot: ``ssbvote-audit:1:<seq>:<ballot_hash>`` — what the
  second device needs to fetch the audit entry, whose published seed opens the ballot.

``seq`` is decimal without leading zeros, ``ballot_hash`` 64 lowercase hex.  The parsers ignore
surrounding white space and nothing else.  No text here holds a seed: a cast ballot's seed
never leaves the voting device (docs/protocol.md §4.4).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TRACKER_PREFIX = "ssbvote-tracker:1:"
AUDIT_PREFIX = "ssbvote-audit:1:"
#: seq: 1 to 12 digits, no leading zero (a board of up to 10^12 entries).
_SEQ = r"([1-9][0-9]{0,11})"
_HASH = r"([0-9a-f]{64})"
_TRACKER = re.compile(rf"\Assbvote-tracker:1:{_SEQ}:{_HASH}\Z")
_AUDIT = re.compile(rf"\Assbvote-audit:1:{_SEQ}:{_HASH}\Z")
_BALLOT_HASH = re.compile(rf"\A{_HASH}\Z")
_MAX_SEQ = 10**12 - 1


@dataclass(frozen=True)
class BoardRef:
    """A board position and the ballot hash expected there."""

    seq: int
    ballot_hash: str


def _check(seq: int, ballot_hash: str) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= _MAX_SEQ:
        raise ValueError("seq must be an integer from 1 to 10^12 - 1")
    if not isinstance(ballot_hash, str) or not _BALLOT_HASH.match(ballot_hash):
        raise ValueError("ballot_hash must be 64 lowercase hex digits")


def tracker_text(seq: int, ballot_hash: str) -> str:
    """The receipt's QR text (record.md §2.5)."""
    _check(seq, ballot_hash)
    return f"{TRACKER_PREFIX}{seq}:{ballot_hash}"


def parse_tracker(text: str) -> BoardRef:
    """The position and tracker of a receipt's QR text; ValueError if it is not one."""
    match = _TRACKER.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("this is not an SSB Vote tracker code")
    return BoardRef(int(match.group(1)), match.group(2))


def audit_code(seq: int, ballot_hash: str) -> str:
    """The audit code of the audit entry at ``seq`` (docs/protocol.md §14.4)."""
    _check(seq, ballot_hash)
    return f"{AUDIT_PREFIX}{seq}:{ballot_hash}"


def parse_audit_code(text: str) -> BoardRef:
    """The position and ballot hash of an audit code; ValueError if it is not one."""
    match = _AUDIT.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("this is not an SSB Vote audit code")
    return BoardRef(int(match.group(1)), match.group(2))


def is_ballot_hash(text: str) -> bool:
    """True for a full tracker: 64 lowercase hex digits (docs/protocol.md §14.5)."""
    return isinstance(text, str) and bool(_BALLOT_HASH.match(text))


def short_tracker(ballot_hash: str) -> str:
    """The tracker as shown short: its first 8 hex digits as two groups of 4 (``3f9a c210``)."""
    _check(1, ballot_hash)
    return f"{ballot_hash[:4]} {ballot_hash[4:8]}"
