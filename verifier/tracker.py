"""Tracker lookup — docs/record.md §5.1: ``python -m verifier RECORD --tracker T [--lang th|en]``.

T is what a voter's receipt shows (docs/record.md §2.5, docs/protocol.md §14.5): the receipt's QR
text ``ssbvote-tracker:1:<seq>:<ballot_hash>`` or the full ``ballot_hash`` (64 lowercase hex).
The verifier says at which ``seq`` the tracker is on the board and what the tally did with it:
counted, superseded (naming the credential's latest cast ballot), audited (an audit entry,
never counted), or excluded (paper vote, revoked, invalid).

Exit status: 0 the tracker is on the board and the record gives its disposition; 1 a QR text's
``seq`` does not hold that hash, the hash is not on the board, or the record lists it wrongly
(an audit counted, a cast ballot listed as audited or not at all); 2 the record cannot be read
or T is not a tracker.  A tracker is not signed: it proves nothing about the server (the
receipt does, ``--receipt``); it tells the voter where the ballot is.

Reads only FORMAT.json, board/entries.jsonl and tally/counted.json (streamed).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from verifier.receipt import (KIND_BALLOT, ON_BOARD_STATUSES, ReceiptResult, ballot_status,
                              disposition, open_record, stream_entries)

TRACKER_QR_RE = re.compile(r"ssbvote-tracker:1:([1-9][0-9]{0,17}):([0-9a-f]{64})")
BALLOT_HASH_RE = re.compile(r"[0-9a-f]{64}")
KIND_AUDIT = "audit"


def parse_tracker(text: str) -> tuple[int | None, str] | None:
    """(seq or None, ballot_hash) of a tracker (surrounding white space ignored); None if
    ``text`` is neither a tracker QR text nor a full ballot hash."""
    text = text.strip()
    m = TRACKER_QR_RE.fullmatch(text)
    if m:
        return int(m.group(1)), m.group(2)
    if BALLOT_HASH_RE.fullmatch(text):
        return None, text
    return None


def short_tracker(ballot_hash: str) -> str:
    """The first 8 hex digits as two groups of 4 (docs/protocol.md §14.1): ``3f9a c210``."""
    return f"{ballot_hash[:4]} {ballot_hash[4:8]}"


def check_tracker(record: str | Path, text: str) -> ReceiptResult:
    """Tracker mode (§5.1).  Raises RecordUnreadable if the record cannot be read (exit 2)."""
    root = Path(record)
    open_record(root)
    parsed = parse_tracker(text)
    if parsed is None:
        return ReceiptResult(2, "not_a_tracker", {"text": text.strip()[:100]})
    want_seq, ballot_hash = parsed
    params: dict[str, Any] = {"tracker": ballot_hash, "short": short_tracker(ballot_hash)}
    found: dict[str, Any] | None = None   # the entry that has the hash
    at_seq: dict[str, Any] | None = None  # the entry at the QR text's seq
    for _number, e in stream_entries(root):
        if not isinstance(e, dict):
            continue
        if found is None and e.get("ballot_hash") == ballot_hash:
            found = e
        if want_seq is not None and at_seq is None and e.get("seq") == want_seq:
            at_seq = e
    if want_seq is not None and (at_seq is None or at_seq.get("ballot_hash") != ballot_hash):
        where = found.get("seq") if found is not None else None
        return ReceiptResult(1, "moved" if where is not None else "not_on_board",
                             {**params, "seq": want_seq, "found": where})
    if found is None:
        return ReceiptResult(1, "not_on_board", params)
    seq, contest = found.get("seq"), found.get("contest")
    if type(seq) is not int or not isinstance(contest, str):
        return ReceiptResult(1, "unlisted", {**params, "seq": seq, "contest": contest})
    params.update(seq=seq, contest=contest, kind=str(found.get("kind")))
    listed = disposition(root, contest, seq)
    if found.get("kind") == KIND_AUDIT:
        if listed == "audited":
            return ReceiptResult(0, "audited", params)
        return ReceiptResult(1, "audit_misfiled", {**params, "found": listed or "—"})
    if found.get("kind") != KIND_BALLOT:
        return ReceiptResult(1, "unlisted", params)
    status, extra = ballot_status(listed)
    params.update(extra)
    if status == "superseded":
        params["later"] = _latest(root, found.get("credential"), contest, seq)
    return ReceiptResult(0 if status in ON_BOARD_STATUSES else 1, status, params)


def _latest(root: Path, credential: Any, contest: str, seq: int) -> int:
    """The latest seq of a cast ballot of ``credential`` in ``contest`` (a second pass)."""
    latest = seq
    for _number, e in stream_entries(root):
        if (isinstance(e, dict) and type(e.get("seq")) is int and e["seq"] > latest
                and e.get("kind") == KIND_BALLOT and e.get("credential") == credential
                and e.get("contest") == contest):
            latest = e["seq"]
    return latest
