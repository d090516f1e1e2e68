"""Reading and checking a closed board export (docs/record.md §1–§3).

The board is read as a stream: entries are checked line by line against the hash chain and only
``(contest, pseudonym) → highest seq`` is kept in memory, plus the entry hashes at the
checkpointed positions.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.encoding import canonical_json, parse_json
from crypto.errors import InvalidInput
from crypto.threshold import ElectionPublicKey

from .errors import BoardRefused, TallyError
from .files import iter_lines, read_json

ENTRY_KEYS = {"seq", "election_id", "pseudonym", "contest", "ballot_hash", "cast_at", "prev_hash", "entry_hash"}
CHECKPOINT_KEYS = {"type", "election_id", "seq", "head", "at", "final", "signature"}
OVERRIDE_KEYS = {"type", "election_id", "pseudonyms", "at", "approved_by", "signature"}
_HASH_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_PSEUDONYM_RE = re.compile(r"\A[0-9a-f]{32}\Z")
_SIG_RE = re.compile(r"\A[0-9a-f]{128}\Z")

OVERRIDES_MISSING = ("paper_overrides.json is missing: the officials must sign the paper-vote list "
                     "first (an empty list if nobody voted on paper)")
EXPORT_FILES = ("manifest.json", "election_key.json", "board_key.json", "board/entries.jsonl",
                "board/ballots.jsonl", "board/checkpoints.jsonl", "paper_overrides.json")


@dataclass(frozen=True)
class Candidate:
    id: str
    number: int
    name: dict[str, str]
    team: Optional[str]


@dataclass(frozen=True)
class Contest:
    id: str
    max_selections: int
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class Manifest:
    """The parts of the manifest the tally needs (docs/manifest.md); the id is the hash of the
    canonical bytes (§1.1)."""

    election_id: str
    contests: tuple[Contest, ...]

    def contest(self, contest_id: str) -> Contest:
        for c in self.contests:
            if c.id == contest_id:
                return c
        raise KeyError(contest_id)

    @property
    def contest_ids(self) -> list[str]:
        return sorted(c.id for c in self.contests)


def load_manifest(path: Path) -> Manifest:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BoardRefused(f"manifest: file {path} is missing") from None
    try:
        data = parse_json(raw, "manifest")
    except ValueError as exc:
        raise BoardRefused(str(exc)) from None
    if canonical_json(data) != raw:
        raise BoardRefused("manifest: manifest.json is not the canonical manifest bytes")
    try:
        contests = []
        for c in data["contests"]:
            candidates = tuple(Candidate(x["id"], x["number"], x["name"], x["team"]) for x in c["candidates"])
            k = c["max_selections"]
            if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k <= len(candidates) or not candidates:
                raise BoardRefused(f"manifest: contest {c['id']!r}: bad max_selections")
            contests.append(Contest(c["id"], k, candidates))
    except (KeyError, TypeError) as exc:
        raise BoardRefused(f"manifest: not a valid manifest ({exc})") from None
    if not contests or len({c.id for c in contests}) != len(contests):
        raise BoardRefused("manifest: contests missing or duplicated")
    return Manifest(hashlib.sha256(raw).hexdigest(), tuple(contests))


def load_election_key(path: Path, allow_insecure_test_key: bool) -> ElectionPublicKey:
    data = read_json(path, "election key")
    try:
        return ElectionPublicKey.from_dict(data, allow_insecure_test_key=allow_insecure_test_key)
    except InvalidInput as exc:
        raise TallyError(f"election key: {exc}") from None


def load_board_key(path: Path) -> Ed25519PublicKey:
    data = read_json(path, "board key")
    if not isinstance(data, dict) or set(data) != {"algorithm", "public_key"} or data["algorithm"] != "Ed25519":
        raise BoardRefused("board key: expected {\"algorithm\": \"Ed25519\", \"public_key\": hex}")
    try:
        raw = bytes.fromhex(data["public_key"])
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise BoardRefused("board key: public_key is not 32 bytes of hex") from None


def check_signature(public_key: Ed25519PublicKey, obj: dict[str, Any], what: str) -> None:
    """Ed25519 over the canonical JSON without ``signature`` (docs/record.md §1)."""
    sig = obj.get("signature")
    if not isinstance(sig, str) or not _SIG_RE.match(sig):
        raise BoardRefused(f"{what}: signature missing or not 64 bytes of hex")
    body = {k: v for k, v in obj.items() if k != "signature"}
    try:
        public_key.verify(bytes.fromhex(sig), canonical_json(body))
    except InvalidSignature:
        raise BoardRefused(f"{what}: signature is not valid under board_key.json") from None


def load_checkpoints(path: Path, election_id: str, public_key: Ed25519PublicKey,
                     closed: bool = True) -> list[dict[str, Any]]:
    """Signed checkpoints (§2.3), checked for shape, signature and order; the chain match is
    checked by :func:`scan_entries`.  ``closed``: the last one must be final (else a snapshot
    taken while the polls are open, §4.3, is accepted too)."""
    checkpoints: list[dict[str, Any]] = []
    for number, line in iter_lines(path, "checkpoints"):
        what = f"checkpoint on line {number}"
        try:
            cp = parse_json(line, what)
        except ValueError as exc:
            raise BoardRefused(str(exc)) from None
        if not isinstance(cp, dict) or set(cp) != CHECKPOINT_KEYS:
            raise BoardRefused(f"{what}: expected exactly the keys {sorted(CHECKPOINT_KEYS)}")
        if cp["type"] != "ssbvote-checkpoint" or cp["election_id"] != election_id:
            raise BoardRefused(f"{what}: wrong type or election id")
        if not isinstance(cp["seq"], int) or isinstance(cp["seq"], bool) or cp["seq"] < 0:
            raise BoardRefused(f"{what}: seq must be a non-negative integer")
        if not isinstance(cp["final"], bool) or not isinstance(cp["head"], str) or not isinstance(cp["at"], str):
            raise BoardRefused(f"{what}: malformed head, at or final")
        check_signature(public_key, cp, what)
        if checkpoints and cp["seq"] < checkpoints[-1]["seq"]:
            raise BoardRefused(f"{what}: seq goes backwards")
        if checkpoints and checkpoints[-1]["final"]:
            raise BoardRefused(f"{what}: a checkpoint follows the final checkpoint")
        checkpoints.append(cp)
    if closed and (not checkpoints or not checkpoints[-1]["final"]):
        raise BoardRefused("no final checkpoint: the board is not closed (polls must be closed first)")
    if not checkpoints:
        raise BoardRefused("no checkpoint: a board snapshot must end at a signed checkpoint")
    return checkpoints


def load_overrides(path: Path, election_id: str, public_key: Ed25519PublicKey) -> frozenset[str]:
    """The signed paper-vote list (§2.4)."""
    if not path.exists():
        raise BoardRefused(OVERRIDES_MISSING)
    try:
        obj = read_json(path, "paper overrides")
    except TallyError as exc:
        raise BoardRefused(str(exc)) from None
    if not isinstance(obj, dict) or set(obj) != OVERRIDE_KEYS:
        raise BoardRefused(f"paper overrides: expected exactly the keys {sorted(OVERRIDE_KEYS)}")
    if obj["type"] != "ssbvote-paper-overrides" or obj["election_id"] != election_id:
        raise BoardRefused("paper overrides: wrong type or election id")
    pseudonyms = obj["pseudonyms"]
    if not isinstance(pseudonyms, list) or not all(isinstance(p, str) for p in pseudonyms):
        raise BoardRefused("paper overrides: pseudonyms must be a list of strings")
    if pseudonyms != sorted(set(pseudonyms)):
        raise BoardRefused("paper overrides: pseudonyms must be sorted and unique")
    approved = obj["approved_by"]
    if not isinstance(approved, list) or len(approved) != 2 or len(set(approved)) != 2:
        raise BoardRefused("paper overrides: approved_by must name two distinct officials")
    check_signature(public_key, obj, "paper overrides")
    return frozenset(pseudonyms)


@dataclass
class BoardIndex:
    """What the first pass over ``entries.jsonl`` keeps: N, the head and the latest seq per
    voter (contest, pseudonym)."""

    count: int
    head: str
    latest: dict[tuple[str, str], int]


def parse_entry(line: bytes, number: int, election_id: str, contest_ids: set[str]) -> dict[str, Any]:
    """One entry line, strictly: canonical, exact keys, seq = line number, own hash right."""
    what = f"board entry on line {number}"
    try:
        entry = parse_json(line, what)
    except ValueError as exc:
        raise BoardRefused(str(exc)) from None
    if not isinstance(entry, dict) or set(entry) != ENTRY_KEYS:
        raise BoardRefused(f"{what}: expected exactly the keys {sorted(ENTRY_KEYS)}")
    if canonical_json(entry) != line:
        raise BoardRefused(f"{what}: not canonical JSON")
    if entry["seq"] != number or isinstance(entry["seq"], bool):
        raise BoardRefused(f"{what}: seq {entry['seq']!r} breaks the sequence 1, 2, 3 …")
    if entry["election_id"] != election_id:
        raise BoardRefused(f"{what}: election id differs from the manifest's")
    if entry["contest"] not in contest_ids:
        raise BoardRefused(f"{what}: unknown contest {entry['contest']!r}")
    if not isinstance(entry["pseudonym"], str) or not _PSEUDONYM_RE.match(entry["pseudonym"]):
        raise BoardRefused(f"{what}: pseudonym is not 32 hex digits")
    for key in ("ballot_hash", "entry_hash"):
        if not isinstance(entry[key], str) or not _HASH_RE.match(entry[key]):
            raise BoardRefused(f"{what}: {key} is not a SHA-256 hex digest")
    body = {k: v for k, v in entry.items() if k != "entry_hash"}
    if hashlib.sha256(canonical_json(body)).hexdigest() != entry["entry_hash"]:
        raise BoardRefused(f"{what}: entry_hash does not match the entry")
    return entry


def scan_entries(
    path: Path,
    election_id: str,
    contest_ids: set[str],
    checkpoints: list[dict[str, Any]],
    advance: Callable[[int], None] = lambda _: None,
) -> BoardIndex:
    """First pass (§2.1, §2.3): chain, entry hashes, checkpoints on the chain, last = final."""
    wanted: dict[int, list[dict[str, Any]]] = {}
    for cp in checkpoints:
        wanted.setdefault(cp["seq"], []).append(cp)
    heads = {0: election_id}
    latest: dict[tuple[str, str], int] = {}
    prev = election_id
    count = 0
    for number, line in iter_lines(path, "board entries"):
        entry = parse_entry(line, number, election_id, contest_ids)
        if entry["prev_hash"] != prev:
            raise BoardRefused(f"board entry {number}: prev_hash does not link to entry {number - 1}")
        prev = entry["entry_hash"]
        count = number
        latest[(entry["contest"], entry["pseudonym"])] = number
        if number in wanted:
            heads[number] = prev
        advance(1)
    for seq, cps in wanted.items():
        for cp in cps:
            kind = "final checkpoint" if cp["final"] else f"checkpoint at seq {seq}"
            if seq > count:
                raise BoardRefused(f"{kind}: seq {seq} is beyond the last entry {count}")
            if cp["head"] != heads[seq]:
                raise BoardRefused(f"{kind}: head does not match the board chain at seq {seq}")
    last = checkpoints[-1]
    kind = "final checkpoint" if last["final"] else "last checkpoint"
    if last["seq"] != count:
        raise BoardRefused(f"{kind}: seq {last['seq']} but the board has {count} entries "
                           f"(no entry may follow the {kind})")
    return BoardIndex(count, prev, latest)
