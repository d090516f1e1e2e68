"""Voter mode — docs/record.md §5.1: ``python -m verifier RECORD --receipt R [--lang th|en]``.

A voter gives the receipt the ballot page let them save (record.md §2.5).  The verifier checks that it
is a receipt of this election (its election id, and its signature by the board key pinned in
the record's opening object), that its ballot is on the board at its ``seq`` with its
``ballot_hash`` and ``entry_hash``, and then what the tally did with it: counted, superseded
(naming the same credential's latest ballot), or excluded (paper vote, revoked, invalid).

Exit status: 0 the ballot is on the board (whatever its disposition); 1 it is missing or
different although the receipt is signed — proof that the server dropped or replaced it — or
the record cannot tell its disposition; 2 the record cannot be read, or the receipt is not a
receipt of this election.

Only what is needed is read: FORMAT.json, manifest.json and opening.json whole, and
board/entries.jsonl and tally/counted.json as streams (quick even for a million ballots); the
rest of the record is the full verification's business.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from verifier.encoding import loads_strict
from verifier.errors import RecordUnreadable
from verifier.hashing import object_hash
from verifier.jsonstream import JsonReader
from verifier.lines import iter_lines
from verifier.record import (COUNTED, ENTRIES, FORMAT, FORMAT_NAME, MANIFEST, OPENING,
                             SUPPORTED_VERSIONS, unsupported_version)
from verifier.signatures import signature_valid

RECEIPT_TYPE = "ssbvote-receipt"
KIND_BALLOT = "ballot"  # the kind of a cast ballot's board entry (§2.1)
RECEIPT_KEYS = ("type", "election_id", "opening", "seq", "pseudonym", "credential", "contest",
                "ballot_hash", "entry_hash", "cast_at", "signature")
#: the receipt's fields that its board entry must have, with the same value
ENTRY_FIELDS = ("pseudonym", "credential", "contest", "ballot_hash", "entry_hash", "cast_at")


@dataclass
class ReceiptResult:
    """``status`` is a message code of :data:`verifier.i18n.RECEIPT` (``receipt.<status>``)."""

    exit_code: int
    status: str
    params: dict[str, Any] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None


def read_json(root: Path, rel: str) -> Any:
    path = root / rel
    if not path.is_file():
        return None
    try:
        return loads_strict(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordUnreadable(f"{rel}: not valid JSON ({exc})") from None


def open_record(root: Path) -> None:
    """The exit-2 rules of docs/record.md §5 for the files voter mode reads."""
    if not root.is_dir():
        raise RecordUnreadable(f"{root}: not a directory")
    fmt = read_json(root, FORMAT)
    if fmt is None:
        raise RecordUnreadable(f"{FORMAT} is missing: not an election record")
    if not isinstance(fmt, dict) or fmt.get("format") != FORMAT_NAME:
        raise RecordUnreadable(f"{FORMAT}: not an {FORMAT_NAME} record")
    version = fmt.get("version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise RecordUnreadable(unsupported_version(version))


def stream_entries(root: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed entry) of board/entries.jsonl, streamed."""
    path = root / ENTRIES
    if not path.is_file():
        return
    for number, raw in iter_lines(path):
        try:
            yield number, loads_strict(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordUnreadable(f"{ENTRIES} line {number}: not valid JSON ({exc})") from None


def disposition(root: Path, contest: str, seq: int) -> str | None:
    """``"counted"``, the exclusion reason, or None: what tally/counted.json says of ``seq``
    in ``contest`` (streamed)."""
    path = root / COUNTED
    if not path.is_file():
        return None
    try:
        with JsonReader(path) as reader:
            if reader.peek() != "{":
                return None
            for key in reader.keys():
                if key != "contests" or reader.peek() != "{":
                    reader.value()
                    continue
                for cid in reader.keys():
                    if cid != contest or reader.peek() != "{":
                        reader.value()
                        continue
                    for name in reader.keys():
                        if name not in ("counted", "excluded") or reader.peek() != "[":
                            reader.value()
                            continue
                        for _ in reader.elements():
                            x = reader.value()
                            if isinstance(x, dict) and x.get("seq") == seq and (
                                    type(x.get("seq")) is int):
                                if name == "counted":
                                    return "counted"
                                reason = x.get("reason")
                                return reason if isinstance(reason, str) else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordUnreadable(f"{COUNTED}: not valid JSON ({exc})") from None
    return None


def check_receipt(record: str | Path, receipt_path: str | Path,
                  ca_key: bytes | None = None) -> ReceiptResult:
    """Voter mode (§5.1).  Raises RecordUnreadable if the record cannot be read (exit 2).
    With ``ca_key`` (``--ca-key``), the record's opening must also be signed by the CA."""
    root = Path(record)
    open_record(root)
    try:
        receipt = loads_strict(Path(receipt_path).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return ReceiptResult(2, "unreadable", {"error": str(exc)})
    if (not isinstance(receipt, dict) or set(receipt) != set(RECEIPT_KEYS)
            or receipt.get("type") != RECEIPT_TYPE or type(receipt.get("seq")) is not int
            or not all(isinstance(receipt[k], str) for k in RECEIPT_KEYS if k != "seq")):
        return ReceiptResult(2, "not_a_receipt", {}, None)
    manifest = root / MANIFEST
    if not manifest.is_file():
        return ReceiptResult(1, "incomplete", {"file": MANIFEST}, receipt)
    election_id = hashlib.sha256(manifest.read_bytes()).hexdigest()
    if receipt["election_id"] != election_id:
        return ReceiptResult(2, "other_election", {"found": receipt["election_id"],
                                                   "expected": election_id}, receipt)
    opening = read_json(root, OPENING)
    board_key = opening.get("board_key") if isinstance(opening, dict) else None
    if (not isinstance(opening, dict) or not isinstance(board_key, str)
            or not re.fullmatch(r"[0-9a-f]{64}", board_key)):
        return ReceiptResult(1, "incomplete", {"file": OPENING}, receipt)
    if ca_key is not None and not signature_valid(opening, ca_key):
        return ReceiptResult(1, "opening_not_ca", {"key": ca_key.hex()}, receipt)
    opening_hash = object_hash(opening)
    signed = signature_valid(receipt, bytes.fromhex(board_key))
    if receipt["opening"] != opening_hash:
        # signed by this record's board key under another opening: the pins changed after the
        # voter cast; not signed by it: either not this election's receipt, or the record's
        # pins (board key included) were replaced — the full verification (check 17) tells
        return ReceiptResult(1 if signed else 2,
                             "other_opening" if signed else "unverifiable_opening",
                             {"found": receipt["opening"], "expected": opening_hash,
                              "key": board_key}, receipt)
    if not signed:
        return ReceiptResult(2, "bad_signature", {"key": board_key}, receipt)
    seq = receipt["seq"]
    found: dict[str, Any] | None = None
    latest = seq  # the latest seq of a cast ballot of the receipt's credential
    for _number, e in stream_entries(root):
        if not isinstance(e, dict):
            continue
        if e.get("seq") == seq and found is None:
            found = e
        elif (isinstance(e.get("seq"), int) and e["seq"] > latest
              and e.get("kind") == KIND_BALLOT
              and e.get("credential") == receipt["credential"]
              and e.get("contest") == receipt["contest"]):
            latest = e["seq"]
    if found is None:
        return ReceiptResult(1, "missing", {"seq": seq}, receipt)
    differ = [k for k in ENTRY_FIELDS if found.get(k) != receipt[k]]
    body = {k: v for k, v in found.items() if k != "entry_hash"}
    if "entry_hash" not in differ and object_hash(body) != found.get("entry_hash"):
        differ.append("entry_hash")
    if differ:
        return ReceiptResult(1, "different", {"seq": seq, "fields": ", ".join(differ)},
                             receipt)
    params: dict[str, Any] = {"seq": seq, "contest": receipt["contest"]}
    if found.get("kind") != KIND_BALLOT:
        # receipts are issued for cast ballots only (§2.5): the server signed this one and
        # then published the ballot as an audit (or an entry of no known kind)
        return ReceiptResult(1, "not_cast", {**params, "kind": str(found.get("kind"))},
                             receipt)
    status, extra = ballot_status(disposition(root, receipt["contest"], seq))
    if status == "superseded":
        extra["later"] = latest
    return ReceiptResult(0 if status in ON_BOARD_STATUSES else 1, status,
                         {**params, **extra}, receipt)


#: statuses of a cast ballot found on the board whose disposition the record gives (exit 0)
ON_BOARD_STATUSES = ("counted", "superseded", "paper_vote", "revoked", "invalid")


def ballot_status(found: str | None) -> tuple[str, dict[str, Any]]:
    """(status, its parameters) of a cast ballot whose disposition in tally/counted.json is
    ``found`` (docs/record.md §4.1): counted, superseded, paper_vote, revoked, invalid — or
    ``unlisted`` when the record lists it nowhere or as ``audited`` (a fault)."""
    if found is None:
        return "unlisted", {}
    if found == "counted":
        return "counted", {}
    if found == "superseded":
        return "superseded", {}
    if found in ("paper-vote", "revoked"):
        return found.replace("-", "_"), {}
    if found.startswith("invalid"):
        return "invalid", {"why": found.partition(":")[2].strip() or "—"}
    return "unlisted", {"reason": found}
