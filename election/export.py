"""The board export folder (docs/record.md §3): its one writer and its one reader.

Layout (the tally copies these files into the record byte for byte, record.md §4)::

    manifest.json            canonical manifest bytes (docs/manifest.md §1.1)
    election_key.json        the election key (docs/protocol.md §9.2)
    board_key.json           {"algorithm": "Ed25519", "public_key": hex} (record.md §1)
    board/entries.jsonl      entries (§2.1), one canonical JSON + LF per line, seq order
    board/ballots.jsonl      {"ballot", "contest", "pseudonym", "seq"} per line, seq order
    board/checkpoints.jsonl  signed checkpoints (§2.3), the final one last
    paper_overrides.json     the signed paper-vote list (§2.4); absent from a snapshot (§3.1)

The reader streams ``entries.jsonl`` (:func:`scan_entries`): only ``(contest, pseudonym) →
highest seq`` and the entry hashes at the checkpointed positions are kept in memory.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.encoding import canonical_json, parse_json

from .board import (CHECKPOINT_KEYS, CHECKPOINT_TYPE, ENTRY_KEYS, OVERRIDE_KEYS,
                    PAPER_OVERRIDES_TYPE, ChainScanner)
from .errors import BoardInvalid, ExportUnreadable, ManifestInvalid
from .manifest import Manifest
from .signed import ALGORITHM, Verdict, verdict

MANIFEST = "manifest.json"
ELECTION_KEY = "election_key.json"
BOARD_KEY = "board_key.json"
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
PAPER_OVERRIDES = "paper_overrides.json"
EXPORT_FILES = (MANIFEST, ELECTION_KEY, BOARD_KEY, ENTRIES, BALLOTS, CHECKPOINTS, PAPER_OVERRIDES)
SNAPSHOT_FILES = EXPORT_FILES[:-1]  # record.md §3.1: a snapshot has no paper-vote list

OVERRIDES_MISSING = ("paper_overrides.json is missing: the officials must sign the paper-vote list "
                     "first (an empty list if nobody voted on paper)")

PathLike = Union[str, Path]
#: A board position as the writer takes it: (entry of record.md §2.1, canonical JSON of its ballot).
BoardItem = tuple[Mapping[str, Any], bytes]

_HASH_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_PSEUDONYM_RE = re.compile(r"\A[0-9a-f]{32}\Z")


# --- writing ---------------------------------------------------------------------------------


def ballot_line(entry: Mapping[str, Any], ballot: bytes) -> bytes:
    """The ``ballots.jsonl`` line of ``entry`` (record.md §4), without its LF: the canonical
    JSON of ``{"ballot", "contest", "pseudonym", "seq"}``, with ``ballot`` (already the
    ballot's canonical JSON, ~1 MB) spliced in rather than parsed and re-encoded."""
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TypeError("seq must be an integer")
    return (b'{"ballot":' + ballot + b',"contest":' + canonical_json(entry["contest"])
            + b',"pseudonym":' + canonical_json(entry["pseudonym"]) + b',"seq":'
            + str(seq).encode() + b"}")


def write_board(folder: Path, board: Iterable[BoardItem],
                checkpoints: Iterable[Mapping[str, Any]]) -> int:
    """Write ``board/`` of record.md §3 into ``folder`` (in place) and return the entry count.

    ``board`` is streamed, each entry written as given; ``checkpoints`` is iterated only after
    ``board``, so it may be a generator of a checkpoint of the chain just written."""
    (folder / "board").mkdir(parents=True, exist_ok=True)
    count = 0
    with (folder / ENTRIES).open("wb") as entries, (folder / BALLOTS).open("wb") as ballots:
        for entry, ballot in board:
            entries.write(canonical_json(entry) + b"\n")
            ballots.write(ballot_line(entry, ballot) + b"\n")
            count += 1
    with (folder / CHECKPOINTS).open("wb") as cps:
        for cp in checkpoints:
            cps.write(canonical_json(cp) + b"\n")
    return count


def write_export(
    out_dir: PathLike,
    *,
    manifest: bytes,
    election_key: bytes,
    board_key: Mapping[str, str],
    board: Iterable[BoardItem],
    checkpoints: Iterable[Mapping[str, Any]],
    paper_overrides: Optional[Mapping[str, Any]],
) -> Path:
    """Write a board export folder (record.md §3) and return its resolved path.

    ``manifest``: the canonical manifest bytes; ``election_key``: its file's bytes;
    ``board_key``: :func:`election.signed.public_key_dict`; ``board`` / ``checkpoints``: as
    :func:`write_board`; ``paper_overrides``: the signed list, None for a snapshot (§3.1).

    Atomic: everything is written to a fresh folder beside ``out_dir`` that replaces it at the
    end, so a failure (also one raised by the ``board`` iterable) leaves no partial export."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (work / MANIFEST).write_bytes(manifest)
        (work / ELECTION_KEY).write_bytes(election_key)
        (work / BOARD_KEY).write_bytes(canonical_json(board_key))
        if paper_overrides is not None:
            (work / PAPER_OVERRIDES).write_bytes(canonical_json(paper_overrides))
        write_board(work, board, checkpoints)
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out


# --- reading ---------------------------------------------------------------------------------


def iter_lines(path: PathLike, what: str) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, raw line without its LF), streaming; every line must end with LF
    (record.md §4 byte rules)."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise ExportUnreadable(f"{what}: file {path} is missing") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                raise ExportUnreadable(f"{what}: line {number} does not end with a newline")
            yield number, line[:-1]


def read_json(path: PathLike, what: str) -> Any:
    """Strictly parsed JSON (duplicate keys refused, docs/protocol.md §2.3)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ExportUnreadable(f"{what}: file {path} is missing") from None
    except OSError as exc:
        raise ExportUnreadable(f"{what}: cannot read {path} ({exc.strerror})") from None
    try:
        return parse_json(raw, what)
    except ValueError as exc:
        raise ExportUnreadable(f"{what}: {exc}") from None


def load_manifest(path: Path) -> Manifest:
    """``manifest.json``: the canonical bytes of a valid manifest (docs/manifest.md)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BoardInvalid(f"manifest: file {path} is missing") from None
    try:
        return Manifest.from_bytes(raw)
    except ManifestInvalid as exc:
        raise BoardInvalid(f"manifest: {exc}") from None
    except ValueError as exc:  # not strict JSON: the message names the manifest already
        raise BoardInvalid(str(exc)) from None


def load_board_key(path: Path) -> Ed25519PublicKey:
    """``board_key.json`` (record.md §1)."""
    data = read_json(path, "board key")
    if not isinstance(data, dict) or set(data) != {"algorithm", "public_key"} or data["algorithm"] != ALGORITHM:
        raise BoardInvalid("board key: expected {\"algorithm\": \"Ed25519\", \"public_key\": hex}")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(data["public_key"]))
    except (ValueError, TypeError):
        raise BoardInvalid("board key: public_key is not 32 bytes of hex") from None


def check_signature(public_key: Ed25519PublicKey, obj: Mapping[str, Any], what: str) -> None:
    """BoardInvalid unless ``obj`` is signed by the board key (record.md §1)."""
    result = verdict(obj, public_key)
    if result is Verdict.MALFORMED:
        raise BoardInvalid(f"{what}: signature missing or not 64 bytes of hex")
    if result is Verdict.INVALID:
        raise BoardInvalid(f"{what}: signature is not valid under board_key.json")


def load_checkpoints(path: Path, election_id: str, public_key: Ed25519PublicKey,
                     closed: bool = True) -> list[dict[str, Any]]:
    """Signed checkpoints (record.md §2.3), checked for shape, signature and order; their match
    with the chain is checked by :func:`scan_entries`.  ``closed``: the last one must be final
    (else a snapshot taken while the polls are open, §3.1, is accepted too)."""
    checkpoints: list[dict[str, Any]] = []
    for number, line in iter_lines(path, "checkpoints"):
        what = f"checkpoint on line {number}"
        try:
            cp = parse_json(line, what)
        except ValueError as exc:
            raise BoardInvalid(str(exc)) from None
        if not isinstance(cp, dict) or set(cp) != CHECKPOINT_KEYS:
            raise BoardInvalid(f"{what}: expected exactly the keys {sorted(CHECKPOINT_KEYS)}")
        if cp["type"] != CHECKPOINT_TYPE or cp["election_id"] != election_id:
            raise BoardInvalid(f"{what}: wrong type or election id")
        if not isinstance(cp["seq"], int) or isinstance(cp["seq"], bool) or cp["seq"] < 0:
            raise BoardInvalid(f"{what}: seq must be a non-negative integer")
        if not isinstance(cp["final"], bool) or not isinstance(cp["head"], str) or not isinstance(cp["at"], str):
            raise BoardInvalid(f"{what}: malformed head, at or final")
        check_signature(public_key, cp, what)
        if checkpoints and cp["seq"] < checkpoints[-1]["seq"]:
            raise BoardInvalid(f"{what}: seq goes backwards")
        if checkpoints and checkpoints[-1]["final"]:
            raise BoardInvalid(f"{what}: a checkpoint follows the final checkpoint")
        checkpoints.append(cp)
    if closed and (not checkpoints or not checkpoints[-1]["final"]):
        raise BoardInvalid("no final checkpoint: the board is not closed (polls must be closed first)")
    if not checkpoints:
        raise BoardInvalid("no checkpoint: a board snapshot must end at a signed checkpoint")
    return checkpoints


def load_overrides(path: Path, election_id: str, public_key: Ed25519PublicKey) -> frozenset[str]:
    """The pseudonyms of the signed paper-vote list (record.md §2.4)."""
    if not path.exists():
        raise BoardInvalid(OVERRIDES_MISSING)
    try:
        obj = read_json(path, "paper overrides")
    except ExportUnreadable as exc:
        raise BoardInvalid(str(exc)) from None
    if not isinstance(obj, dict) or set(obj) != OVERRIDE_KEYS:
        raise BoardInvalid(f"paper overrides: expected exactly the keys {sorted(OVERRIDE_KEYS)}")
    if obj["type"] != PAPER_OVERRIDES_TYPE or obj["election_id"] != election_id:
        raise BoardInvalid("paper overrides: wrong type or election id")
    pseudonyms = obj["pseudonyms"]
    if not isinstance(pseudonyms, list) or not all(isinstance(p, str) for p in pseudonyms):
        raise BoardInvalid("paper overrides: pseudonyms must be a list of strings")
    if pseudonyms != sorted(set(pseudonyms)):
        raise BoardInvalid("paper overrides: pseudonyms must be sorted and unique")
    approved = obj["approved_by"]
    if not isinstance(approved, list) or len(approved) != 2 or len(set(approved)) != 2:
        raise BoardInvalid("paper overrides: approved_by must name two distinct officials")
    check_signature(public_key, obj, "paper overrides")
    return frozenset(pseudonyms)


@dataclass(frozen=True)
class BoardIndex:
    """What one pass over ``entries.jsonl`` keeps: N, the head and the latest seq per voter
    (contest, pseudonym) (record.md §2.2)."""

    count: int
    head: str
    latest: dict[tuple[str, str], int]


def parse_entry(line: bytes, number: int, election_id: str, contest_ids: set[str]) -> dict[str, Any]:
    """One ``entries.jsonl`` line, strictly (record.md §2.1, §5 check 6): canonical, exact
    keys, seq = line number, known contest, well-formed pseudonym and hashes.  The hashes
    themselves are checked by :func:`scan_entries`."""
    what = f"board entry on line {number}"
    try:
        entry = parse_json(line, what)
    except ValueError as exc:
        raise BoardInvalid(str(exc)) from None
    if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
        raise BoardInvalid(f"{what}: expected exactly the keys {sorted(ENTRY_KEYS)}")
    if canonical_json(entry) != line:
        raise BoardInvalid(f"{what}: not canonical JSON")
    if entry["seq"] != number or isinstance(entry["seq"], bool):
        raise BoardInvalid(f"{what}: seq {entry['seq']!r} breaks the sequence 1, 2, 3 …")
    if entry["election_id"] != election_id:
        raise BoardInvalid(f"{what}: election id differs from the manifest's")
    if entry["contest"] not in contest_ids:
        raise BoardInvalid(f"{what}: unknown contest {entry['contest']!r}")
    if not isinstance(entry["pseudonym"], str) or not _PSEUDONYM_RE.match(entry["pseudonym"]):
        raise BoardInvalid(f"{what}: pseudonym is not 32 hex digits")
    for key in ("ballot_hash", "entry_hash"):
        if not isinstance(entry[key], str) or not _HASH_RE.match(entry[key]):
            raise BoardInvalid(f"{what}: {key} is not a SHA-256 hex digest")
    return entry


def scan_entries(
    path: Path,
    election_id: str,
    contest_ids: set[str],
    checkpoints: list[dict[str, Any]],
    advance: Callable[[int], None] = lambda _: None,
) -> BoardIndex:
    """One streaming pass (record.md §2.1, §2.3): every entry well-formed and on the hash chain,
    every checkpoint's (seq, head) on the chain, the last checkpoint at the last entry."""
    wanted: dict[int, list[dict[str, Any]]] = {}
    for cp in checkpoints:
        wanted.setdefault(cp["seq"], []).append(cp)
    heads = {0: election_id}
    latest: dict[tuple[str, str], int] = {}
    chain = ChainScanner(election_id)
    count = 0
    for number, line in iter_lines(path, "board entries"):
        entry = parse_entry(line, number, election_id, contest_ids)
        link = chain.step(entry)
        if not link.hash_ok:
            raise BoardInvalid(f"board entry on line {number}: entry_hash does not match the entry")
        if not link.prev_ok:
            raise BoardInvalid(f"board entry {number}: prev_hash does not link to entry {number - 1}")
        count = number
        latest[(entry["contest"], entry["pseudonym"])] = number
        if number in wanted:
            heads[number] = chain.head
        advance(1)
    for seq, cps in wanted.items():
        for cp in cps:
            kind = "final checkpoint" if cp["final"] else f"checkpoint at seq {seq}"
            if seq > count:
                raise BoardInvalid(f"{kind}: seq {seq} is beyond the last entry {count}")
            if cp["head"] != heads[seq]:
                raise BoardInvalid(f"{kind}: head does not match the board chain at seq {seq}")
    last = checkpoints[-1]
    kind = "final checkpoint" if last["final"] else "last checkpoint"
    if last["seq"] != count:
        raise BoardInvalid(f"{kind}: seq {last['seq']} but the board has {count} entries "
                           f"(no entry may follow the {kind})")
    return BoardIndex(count, chain.head, latest)
