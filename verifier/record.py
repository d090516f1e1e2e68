"""Reading an election record directory — docs/record.md §4.

:func:`load_record` reads every file once (bytes for the hashes, parsed JSON for the checks).
It raises :class:`RecordUnreadable` exactly in the cases of docs/record.md §5 (exit status 2);
a missing file is not an error here, it is reported by check 1.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.encoding import loads_strict
from verifier.errors import RecordUnreadable

FORMAT_NAME = "ssbvote-record"
SUPPORTED_VERSIONS = (1,)

FORMAT = "FORMAT.json"
MANIFEST = "manifest.json"
ELECTION_KEY = "election_key.json"
BOARD_KEY = "board_key.json"
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
OVERRIDES = "paper_overrides.json"
COUNTED = "tally/counted.json"
ENCRYPTED_TALLY = "tally/encrypted_tally.json"
SHARES_DIR = "tally/decryption_shares"
RESULTS = "results.json"
HASHES = "HASHES.json"

REQUIRED_FILES = (FORMAT, MANIFEST, ELECTION_KEY, BOARD_KEY, ENTRIES, BALLOTS, CHECKPOINTS,
                  OVERRIDES, COUNTED, ENCRYPTED_TALLY, RESULTS, HASHES)
SHARE_FILE_RE = re.compile(r"^tally/decryption_shares/trustee-([1-9][0-9]*)\.json$")


@dataclass(frozen=True)
class Line:
    """One line of a .jsonl file: its number (1-based), raw bytes and parsed value."""

    number: int
    raw: bytes
    value: Any


@dataclass
class Record:
    root: Path
    files: dict[str, bytes] = field(default_factory=dict)       # relative posix path → bytes
    json: dict[str, Any] = field(default_factory=dict)          # .json files, parsed
    lines: dict[str, list[Line]] = field(default_factory=dict)  # .jsonl files, parsed

    def share_files(self) -> dict[int, str]:
        """trustee index → relative path of tally/decryption_shares/trustee-<i>.json."""
        out = {}
        for rel in self.files:
            m = SHARE_FILE_RE.match(rel)
            if m:
                out[int(m.group(1))] = rel
        return dict(sorted(out.items()))


def _parse(rel: str, data: bytes) -> Any:
    try:
        return loads_strict(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordUnreadable(f"{rel}: not valid JSON ({exc})") from None


def _parse_lines(rel: str, data: bytes) -> list[Line]:
    out = []
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    for k, raw in enumerate(chunks, start=1):
        try:
            value = loads_strict(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordUnreadable(f"{rel} line {k}: not valid JSON ({exc})") from None
        out.append(Line(k, raw, value))
    return out


def load_record(path: str | Path) -> Record:
    root = Path(path)
    if not root.is_dir():
        raise RecordUnreadable(f"{root}: not a directory")
    fmt_path = root / FORMAT
    if not fmt_path.is_file():
        raise RecordUnreadable(f"{FORMAT} is missing: not an election record")
    rec = Record(root)
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            rec.files[rel] = p.read_bytes()
    fmt = _parse(FORMAT, rec.files[FORMAT])
    if not isinstance(fmt, dict) or fmt.get("format") != FORMAT_NAME:
        raise RecordUnreadable(f"{FORMAT}: not an {FORMAT_NAME} record")
    version = fmt.get("version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise RecordUnreadable(f"{FORMAT}: unsupported version {version!r}")
    for rel, data in rec.files.items():
        if rel.endswith(".jsonl"):
            rec.lines[rel] = _parse_lines(rel, data)
        elif rel.endswith(".json"):
            rec.json[rel] = _parse(rel, data)
    return rec
