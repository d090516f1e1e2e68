"""Opening an audited ballot — docs/record.md §5.1, docs/protocol.md §14.4:
``python -m verifier RECORD --audit CODE [--lang th|en]``.

CODE is the audit code the voting device showed (``ssbvote-audit:1:<seq>:<ballot_hash>``, seq
decimal without leading zeros, ballot_hash 64 lowercase hex).  The verifier checks that entry
``seq`` of the board is an audit entry with that ``ballot_hash``, that the ballot line of that
``seq`` hashes to it, and that the entry's seed opens it (docs/protocol.md §5.6, party
``<pseudonym>/<credential>``); then it prints the choices by candidate number and name, and the
tracker, for the voter to compare with what the voting device showed before the audit.  It
never shows a choice of a ballot that does not open.

Exit status: 0 it opens; 1 it does not (naming why); 2 the record cannot be read or CODE is
not an audit code.

Reads FORMAT.json, manifest.json, election_key.json, board/entries.jsonl (streamed) and the one
line of board/ballots.jsonl it needs (read up to it, not parsed).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.encoding import canonical_json, loads_strict
from verifier.errors import InvalidInput, RecordUnreadable
from verifier.lines import iter_spans
from verifier.manifest import Contest, parse_contests
from verifier.opening import open_ballot, parse_seed
from verifier.receipt import open_record, read_json, stream_entries
from verifier.record import BALLOTS, ELECTION_KEY, MANIFEST
from verifier.threshold import parse_election_key
from verifier.tracker import short_tracker

AUDIT_CODE_RE = re.compile(r"ssbvote-audit:1:([1-9][0-9]{0,17}):([0-9a-f]{64})")
KIND_AUDIT = "audit"


@dataclass
class AuditResult:
    """``status`` is a message code of :data:`verifier.i18n.AUDIT`; ``choices`` (on success)
    one (number, name {"th", "en"}, chosen) per candidate in ballot order."""

    exit_code: int
    status: str
    params: dict[str, Any] = field(default_factory=dict)
    choices: list[tuple[int, dict[str, str], bool]] = field(default_factory=list)
    title: dict[str, str] = field(default_factory=dict)  # the contest's title {"th", "en"}


def parse_audit_code(text: str) -> tuple[int, str] | None:
    """(seq, ballot_hash) of an audit code (surrounding white space ignored), else None."""
    m = AUDIT_CODE_RE.fullmatch(text.strip())
    return (int(m.group(1)), m.group(2)) if m else None


def _ballot_line(root: Path, seq: int) -> Any:
    """The parsed line of board/ballots.jsonl whose ``seq`` is ``seq`` (None if there is none).
    Lines are in seq order, one per entry (docs/record.md §4), so line ``seq`` is tried first;
    otherwise every line is parsed."""
    path = root / BALLOTS
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        for number, offset, length in iter_spans(path):
            if number == seq:
                handle.seek(offset)
                line = _parse_line(handle.read(length), number)
                if isinstance(line, dict) and line.get("seq") == seq:
                    return line
                break
        for number, offset, length in iter_spans(path):
            handle.seek(offset)
            line = _parse_line(handle.read(length), number)
            if isinstance(line, dict) and type(line.get("seq")) is int and line["seq"] == seq:
                return line
    return None


def _parse_line(raw: bytes, number: int) -> Any:
    try:
        return loads_strict(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordUnreadable(f"{BALLOTS} line {number}: not valid JSON ({exc})") from None


def _contest_title(manifest: Any, contest_id: str) -> dict[str, str]:
    for c in manifest.get("contests", []) if isinstance(manifest, dict) else []:
        if isinstance(c, dict) and c.get("id") == contest_id and isinstance(c.get("title"), dict):
            return {k: str(v) for k, v in c["title"].items()}
    return {"th": contest_id, "en": contest_id}


def _name(raw: Any) -> dict[str, str]:
    name = raw.get("name") if isinstance(raw, dict) else None
    if isinstance(name, dict):
        return {k: str(v) for k, v in name.items()}
    return {"th": str(name), "en": str(name)}


def check_audit_code(record: str | Path, code: str) -> AuditResult:
    """``--audit CODE`` (§5.1).  Raises RecordUnreadable if the record cannot be read."""
    root = Path(record)
    open_record(root)
    parsed = parse_audit_code(code)
    if parsed is None:
        return AuditResult(2, "not_an_audit_code", {"text": code.strip()[:100]})
    seq, ballot_hash = parsed
    params: dict[str, Any] = {"seq": seq, "tracker": ballot_hash,
                              "short": short_tracker(ballot_hash)}
    manifest = read_json(root, MANIFEST)
    key_obj = read_json(root, ELECTION_KEY)
    try:
        contests = parse_contests(manifest)
        n = parse_election_key(key_obj).n
    except InvalidInput as exc:
        return AuditResult(1, "incomplete", {**params, "error": str(exc)})
    entry = next((e for _number, e in stream_entries(root)
                  if isinstance(e, dict) and type(e.get("seq")) is int and e["seq"] == seq),
                 None)
    if entry is None:
        return AuditResult(1, "missing", params)
    if entry.get("kind") != KIND_AUDIT:
        return AuditResult(1, "not_audit", {**params, "kind": str(entry.get("kind"))})
    if entry.get("ballot_hash") != ballot_hash:
        return AuditResult(1, "other_hash", {**params, "found": str(entry.get("ballot_hash"))})
    cid = entry.get("contest")
    contest: Contest | None = contests.get(cid) if isinstance(cid, str) else None
    if contest is None:
        return AuditResult(1, "incomplete", {**params, "error": "unknown contest"})
    params["contest"] = contest.id
    line = _ballot_line(root, seq)
    ballot = line.get("ballot") if isinstance(line, dict) else None
    if ballot is None:
        return AuditResult(1, "no_ballot", params)
    if hashlib.sha256(canonical_json(ballot)).hexdigest() != ballot_hash:
        return AuditResult(1, "ballot_hash", params)
    eid = hashlib.sha256((root / MANIFEST).read_bytes()).hexdigest()
    try:
        seed = parse_seed(entry.get("seed"), "entry.seed")
        pseudonym, credential = entry.get("pseudonym"), entry.get("credential")
        if not isinstance(pseudonym, str) or not isinstance(credential, str):
            raise InvalidInput("entry: no pseudonym or credential")
        choices = open_ballot(ballot, n, eid, contest.id, f"{pseudonym}/{credential}",
                              contest.size, contest.max_selections, seed)
    except (InvalidInput, ValueError) as exc:
        where = getattr(exc, "where", None)
        reason = str(exc)
        if where is not None and where.isdigit() and int(where) < contest.size:
            reason = f"candidate {contest.candidates[int(where)].number}: {reason}"
        return AuditResult(1, "not_open", {**params, "reason": reason})
    return AuditResult(0, "opened", params,
                       [(c.number, _name(c.raw), bool(m))
                        for c, m in zip(contest.candidates, choices)],
                       _contest_title(manifest, contest.id))
