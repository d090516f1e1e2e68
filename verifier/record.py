"""Reading an election record directory — docs/record.md §4.

:func:`load_record` reads every file once (bytes for the hashes, parsed JSON for the checks).
It raises :class:`RecordUnreadable` exactly in the cases of docs/record.md §5 (exit status 2);
a missing file is not an error here, it is reported by check 1.

The files that grow with the board are *streamed*, never held (:data:`STREAMED`):

- ``board/ballots.jsonl`` (~0.7 MB per 7-of-228 ballot at 2048-bit n).  One pass hashes it,
  finds its lines and parses each one (JSON validity is still an exit-2 matter), keeping per
  line only what :class:`~verifier.tables.BallotIndex` packs — its byte offset and length, its
  small fields and the object hash of its ballot.  The checks that need a ballot itself (9:
  proofs, 12: aggregate) read it again by offset, a chunk at a time, in the workers.
- ``board/entries.jsonl`` (~0.7 KB per entry), ``tally/counted.json`` (~60 bytes per ballot)
  and ``credentials.json`` (~67 bytes per voter).  One pass hashes and strictly parses each;
  the checks read them again as streams (:meth:`Record.jsonl`,
  :class:`~verifier.jsonstream.JsonReader`).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from verifier.encoding import canonical_json, key_paths, loads_strict
from verifier.errors import RecordUnreadable
from verifier.jsonstream import PLAIN_DECODER, JsonReader
from verifier.lines import iter_lines, iter_spans
from verifier.tables import BallotIndex, BallotLine

FORMAT_NAME = "ssbvote-record"
SUPPORTED_VERSIONS = (4,)  # docs/record.md: version 4 (issue 21); 1–3 are refused (exit 2)

FORMAT = "FORMAT.json"
MANIFEST = "manifest.json"
ELECTION_KEY = "election_key.json"
BOARD_KEY = "board_key.json"
OPENING = "opening.json"
CREDENTIALS = "credentials.json"
REVOCATIONS = "revocations.jsonl"
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
OVERRIDES = "paper_overrides.json"
COUNTED = "tally/counted.json"
ENCRYPTED_TALLY = "tally/encrypted_tally.json"
SHARES_DIR = "tally/decryption_shares"
RESULTS = "results.json"
HASHES = "HASHES.json"

REQUIRED_FILES = (FORMAT, MANIFEST, ELECTION_KEY, BOARD_KEY, OPENING, CREDENTIALS, REVOCATIONS,
                  ENTRIES, BALLOTS, CHECKPOINTS, OVERRIDES, COUNTED, ENCRYPTED_TALLY, RESULTS,
                  HASHES)
#: record.md §2.7, §4.6 (version 4): present only when there is a poll extension / a lot
EXTENSIONS = "poll_extensions.jsonl"
LOTS = "lots.json"
OPTIONAL_FILES = (EXTENSIONS, LOTS)
SHARE_FILE_RE = re.compile(r"^tally/decryption_shares/trustee-([1-9][0-9]*)\.json\Z")
WITNESS_FILE_RE = re.compile(r"^witnesses/([a-z0-9][a-z0-9-]{0,31})\.json\Z")  # §3.5
STREAMED = (BALLOTS, ENTRIES, COUNTED, CREDENTIALS)  # read as streams, never held
#: counted.json: the top object, contests, a contest, its lists are walked; credentials.json:
#: the top object, contests, a list
STREAM_DEPTH = 4
SCAN_CHUNK = 64  # ballots.jsonl lines per work unit of the loading scan


def unsupported_version(version: Any) -> str:
    """The exit-2 message for a record of another version (docs/record.md §5: it names it)."""
    return (f"{FORMAT}: unsupported version {version!r} (this verifier reads version "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))} only)")


@dataclass(frozen=True)
class Line:
    """One line of a .jsonl file: its number (1-based), raw bytes and parsed value."""

    number: int
    raw: bytes
    value: Any


SMALL_FIELDS = ("seq", "pseudonym", "contest")  # kept from a ballot line; "ballot" is hashed


@dataclass
class Record:
    root: Path
    files: dict[str, bytes] = field(default_factory=dict)       # relative posix path → bytes
    json: dict[str, Any] = field(default_factory=dict)          # .json files, parsed
    lines: dict[str, list[Line]] = field(default_factory=dict)  # .jsonl files, parsed
    # the STREAMED files are not in ``files``/``lines``/``json``: their digests, and the line
    # index of board/ballots.jsonl
    streamed: dict[str, str] = field(default_factory=dict)      # relative path → SHA-256 hex
    ballot_lines: BallotIndex | None = None
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

    def jsonl(self, rel: str) -> Iterator[Line]:
        """The lines of a .jsonl file of the record, held or streamed (none if it is absent).

        A streamed file was parsed strictly by :func:`load_record`; here the plain parser
        gives the same values, faster."""
        if rel in self.lines:
            yield from self.lines[rel]
        elif rel in self.streamed:
            for number, raw in iter_lines(self.root / rel):
                yield Line(number, raw, PLAIN_DECODER.decode(raw.decode("utf-8")))

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
    # a "seed" key (check 31) is spelt so in the bytes, or with a \u escape
    seeds = tuple(key_paths(value, "seed")) if b"seed" in raw or b"\\u" in raw else ()
    if not isinstance(value, dict):
        return BallotLine(number, offset, len(raw), None, None, seeds)
    ballot_hash = (hashlib.sha256(canonical_json(value["ballot"])).hexdigest()
                   if "ballot" in value else None)
    small = {k: (v if k in SMALL_FIELDS else None) for k, v in value.items()}
    return BallotLine(number, offset, len(raw), small, ballot_hash, seeds)


def line_spans(path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    """(SHA-256 hex, [(line number, offset, length)]) of ``path``, read a block at a time
    (:func:`verifier.lines.iter_spans`)."""
    digest = hashlib.sha256()
    spans = list(iter_spans(path, digest))
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


def scan_ballots(path: Path, processes: int = 1) -> tuple[str, BallotIndex]:
    """Hash board/ballots.jsonl and summarize every line (in ``processes`` workers), in
    bounded memory.  Raises RecordUnreadable for the first line that is not valid JSON."""
    from verifier.parallel import map_chunks  # parallel imports batch → proofs; keep this light
    digest = hashlib.sha256()

    def chunks() -> Iterator[tuple[str, list[tuple[int, int, int]]]]:
        chunk: list[tuple[int, int, int]] = []
        for span in iter_spans(path, digest):
            chunk.append(span)
            if len(chunk) == SCAN_CHUNK:
                yield str(path), chunk
                chunk = []
        if chunk:
            yield str(path), chunk

    index = BallotIndex()
    # the spans are found while the pool works: the list of them is never held
    for part in map_chunks(scan_chunk, chunks(), processes, ordered=True):
        for line in part:
            index.append(line)
    return digest.hexdigest(), index


def scan_entries(path: Path) -> str:
    """Hash board/entries.jsonl and parse every line strictly, keeping none (the checks read
    it again).  Raises RecordUnreadable for the first line that is not valid JSON."""
    digest = hashlib.sha256()
    for number, raw in iter_lines(path, digest):
        try:
            loads_strict(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RecordUnreadable(f"{ENTRIES} line {number}: not valid JSON ({exc})") from None
    return digest.hexdigest()


def scan_json(rel: str, path: Path) -> str:
    """Hash a streamed .json file and parse it strictly in bounded memory.  If it is not valid
    JSON, the whole file is parsed once more for the json module's message (exit 2)."""
    digest = hashlib.sha256()
    try:
        with JsonReader(path, digest=digest) as reader:
            reader.skip(STREAM_DEPTH)
            reader.finish()
    except (ValueError, UnicodeDecodeError) as exc:
        _parse(rel, path.read_bytes())  # raises RecordUnreadable with the message
        raise RecordUnreadable(f"{rel}: not valid JSON ({exc})") from None
    return digest.hexdigest()


def load_record(path: str | Path, processes: int = 1, snapshot: bool = False) -> Record:
    """Read a record, or with ``snapshot`` a snapshot folder (docs/record.md §3.1, §3.3: the
    export's files, no FORMAT.json)."""
    root = Path(path)
    if not root.is_dir():
        raise RecordUnreadable(f"{root}: not a directory")
    fmt_path = root / FORMAT
    if snapshot:
        if fmt_path.exists():
            raise RecordUnreadable(f"{root}: a record, not a snapshot (it has {FORMAT})")
    elif not fmt_path.is_file():
        raise RecordUnreadable(f"{FORMAT} is missing: not an election record")
    rec = Record(root)
    streamed: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            rel = p.relative_to(root).as_posix()
            rec.order.append(rel)
            if rel in STREAMED:
                streamed[rel] = p
            else:
                rec.files[rel] = p.read_bytes()
    if not snapshot:
        fmt = _parse(FORMAT, rec.files[FORMAT])
        if not isinstance(fmt, dict) or fmt.get("format") != FORMAT_NAME:
            raise RecordUnreadable(f"{FORMAT}: not an {FORMAT_NAME} record")
        version = fmt.get("version")
        if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
            raise RecordUnreadable(unsupported_version(version))
    for rel in rec.names():  # the order of the files decides which error is reported
        if rel == BALLOTS:
            rec.streamed[rel], rec.ballot_lines = scan_ballots(streamed[rel], processes)
        elif rel == ENTRIES:
            rec.streamed[rel] = scan_entries(streamed[rel])
        elif rel in (COUNTED, CREDENTIALS):
            rec.streamed[rel] = scan_json(rel, streamed[rel])
        elif rel.endswith(".jsonl"):
            rec.lines[rel] = _parse_lines(rel, rec.files[rel])
        elif rel.endswith(".json"):
            rec.json[rel] = _parse(rel, rec.files[rel])
    return rec
