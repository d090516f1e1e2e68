"""Reading an election record directory — docs/record.md §4.

:func:`load_record` reads every file once (bytes for the hashes, parsed JSON for the checks).
It raises :class:`RecordUnreadable` exactly in the cases of docs/record.md §5 (exit status 2);
a missing file is not an error here, it is reported by check 1.

``board/ballots.jsonl`` is the one big file (~0.7 MB per 7-of-228 ballot at 2048-bit n): it is
*streamed*, never held.  One pass hashes it, finds its lines and parses each one (JSON validity
is still an exit-2 matter), keeping per line only a :class:`BallotLine` — its byte offset and
length, its small fields and the object hash of its ballot.  The checks that need a ballot
itself (9: proofs, 12: aggregate) read it again by offset, a chunk at a time, in the workers.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.encoding import canonical_json, loads_strict
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


SMALL_FIELDS = ("seq", "pseudonym", "contest")  # kept from a ballot line; "ballot" is hashed
READ_BLOCK = 1 << 24  # bytes read at a time while streaming ballots.jsonl


@dataclass(frozen=True, slots=True)
class BallotLine:
    """What is kept of one line of board/ballots.jsonl (the line itself is not).

    ``value`` is the line's object with only its small fields (``seq``, ``pseudonym``,
    ``contest``) and every other key mapped to None — enough for the shape checks — or None if
    the line is not an object; ``ballot_hash`` is the object hash of its ``ballot`` (None if it
    has none).  ``offset``/``length``: where the line's bytes are, for :func:`read_line`.
    """

    number: int
    offset: int
    length: int
    value: dict[str, Any] | None
    ballot_hash: str | None


@dataclass
class Record:
    root: Path
    files: dict[str, bytes] = field(default_factory=dict)       # relative posix path → bytes
    json: dict[str, Any] = field(default_factory=dict)          # .json files, parsed
    lines: dict[str, list[Line]] = field(default_factory=dict)  # .jsonl files, parsed
    # board/ballots.jsonl is streamed, not in ``files``/``lines``: its digest and line index
    streamed: dict[str, str] = field(default_factory=dict)      # relative path → SHA-256 hex
    ballot_lines: list[BallotLine] | None = None
    order: list[str] = field(default_factory=list)               # every file, as found

    def names(self) -> list[str]:
        """Every file of the record (relative posix paths), held or streamed, as found."""
        return list(self.order)

    def has(self, rel: str) -> bool:
        return rel in self.files or rel in self.streamed

    def sha256(self, rel: str) -> str:
        if rel in self.streamed:
            return self.streamed[rel]
        return hashlib.sha256(self.files[rel]).hexdigest()

    @property
    def ballots_path(self) -> Path:
        return self.root / BALLOTS

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


def read_line(handle: Any, offset: int, length: int) -> Any:
    """The parsed JSON of a line found by :func:`scan_ballots` (already checked strictly, so
    the fast parser gives the same value)."""
    handle.seek(offset)
    return json.loads(handle.read(length))


def summarize_line(number: int, offset: int, raw: bytes) -> BallotLine:
    """Parse one ballots.jsonl line strictly; keep only its :class:`BallotLine`."""
    try:
        value = loads_strict(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordUnreadable(f"{BALLOTS} line {number}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        return BallotLine(number, offset, len(raw), None, None)
    ballot_hash = (hashlib.sha256(canonical_json(value["ballot"])).hexdigest()
                   if "ballot" in value else None)
    small = {k: (v if k in SMALL_FIELDS else None) for k, v in value.items()}
    return BallotLine(number, offset, len(raw), small, ballot_hash)


def line_spans(path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    """One streaming pass over ``path``: (SHA-256 hex, [(line number, offset, length)]).

    Lines are split at b"\\n" exactly as ``bytes.split`` does (a final newline ends the last
    line; it does not start an empty one)."""
    digest = hashlib.sha256()
    spans: list[tuple[int, int, int]] = []
    start = 0     # file offset of the current line
    pos = 0       # file offset of ``block[0]``
    tail = 0      # bytes of the current line seen in earlier blocks
    with open(path, "rb") as handle:
        while True:
            block = handle.read(READ_BLOCK)
            if not block:
                break
            digest.update(block)
            i = 0
            while True:
                j = block.find(b"\n", i)
                if j < 0:
                    tail += len(block) - i
                    break
                spans.append((len(spans) + 1, start, tail + j - i))
                start = pos + j + 1
                tail = 0
                i = j + 1
            pos += len(block)
    if tail:
        spans.append((len(spans) + 1, start, tail))
    return digest.hexdigest(), spans


def scan_chunk(args: tuple[str, list[tuple[int, int, int]]]) -> list[BallotLine]:
    """Pool worker: read and summarize the lines ``(number, offset, length)`` of ``path``."""
    path, spans = args
    out = []
    with open(path, "rb") as handle:
        for number, offset, length in spans:
            handle.seek(offset)
            out.append(summarize_line(number, offset, handle.read(length)))
    return out


def scan_ballots(path: Path, processes: int = 1) -> tuple[str, list[BallotLine]]:
    """Hash board/ballots.jsonl and summarize every line (in ``processes`` workers), in
    bounded memory.  Raises RecordUnreadable for the first line that is not valid JSON."""
    from verifier.parallel import map_chunks  # parallel imports batch → proofs; keep this light
    digest, spans = line_spans(path)
    lines: list[BallotLine] = []
    chunks = [(str(path), spans[i:i + 64]) for i in range(0, len(spans), 64)]
    for part in map_chunks(scan_chunk, chunks, processes, ordered=True):
        lines.extend(part)
    return digest, lines


def load_record(path: str | Path, processes: int = 1) -> Record:
    root = Path(path)
    if not root.is_dir():
        raise RecordUnreadable(f"{root}: not a directory")
    fmt_path = root / FORMAT
    if not fmt_path.is_file():
        raise RecordUnreadable(f"{FORMAT} is missing: not an election record")
    rec = Record(root)
    big = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            rec.order.append(rel)
            if rel == BALLOTS:
                big.append(p)
            else:
                rec.files[rel] = p.read_bytes()
    fmt = _parse(FORMAT, rec.files[FORMAT])
    if not isinstance(fmt, dict) or fmt.get("format") != FORMAT_NAME:
        raise RecordUnreadable(f"{FORMAT}: not an {FORMAT_NAME} record")
    version = fmt.get("version")
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise RecordUnreadable(f"{FORMAT}: unsupported version {version!r}")
    for rel in rec.names():  # the order of the files decides which error is reported
        if rel == BALLOTS:
            rec.streamed[rel], rec.ballot_lines = scan_ballots(big[0], processes)
        elif rel.endswith(".jsonl"):
            rec.lines[rel] = _parse_lines(rel, rec.files[rel])
        elif rel.endswith(".json"):
            rec.json[rel] = _parse(rel, rec.files[rel])
    return rec
