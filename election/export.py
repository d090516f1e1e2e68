"""The board export folder (docs/record.md §3): its one writer and its one reader.

Layout (the tally copies these files into the record byte for byte, record.md §4)::

    manifest.json            canonical manifest bytes (docs/manifest.md §1.1)
    election_key.json        the election key (docs/protocol.md §9.2)
    board_key.json           {"algorithm": "Ed25519", "public_key": hex} (record.md §1)
    opening.json             the CA-signed opening object (record.md §2.0)
    credentials.json         the CA-signed public credential list (§6.2), the CA's bytes
    revocations.jsonl        the CA-signed revocations (§6.3), one per line; empty if none
    board/entries.jsonl      entries (§2.1), one canonical JSON + LF per line, seq order
    board/ballots.jsonl      {"ballot", "contest", "pseudonym", "seq"} per line, seq order: the
                             ballot of every entry, cast or audited (record.md §4)
    board/checkpoints.jsonl  signed checkpoints (§2.3), the final one last
    paper_overrides.json     the paper-vote list signed by two officials (§2.4); absent from a
                             snapshot (§3.1)
    poll_extensions.jsonl    the poll extensions signed by two officials (§2.7), in the order
                             made; absent if the polls were not extended (export and snapshot)

The reader checks the pins first (:func:`load_authority`: the opening, signed by the CA key it
names, pins this export's election key, board key and credential list; the list and the
revocations are that CA's), then streams ``entries.jsonl`` (:func:`scan_entries`): every
entry's voter signature is verified (of the ballot statement, or of the audit statement for an
audit entry) and its credential must be one of its contest's electorate; per credential only its
latest ballot entry's seq, pseudonym and ballot hash, per pseudonym its first credential, and the
entry hashes at the checkpointed positions are kept in memory.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Any, Callable, Collection, Iterable, Iterator, Mapping, Optional, Sequence, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.encoding import canonical_json, parse_json

from . import authority
from .board import (CHECKPOINT_KEYS, CHECKPOINT_TYPE, ENTRY_KEYS_BY_KIND, KIND_AUDIT, OVERRIDE_KEYS,
                    PAPER_OVERRIDES_TYPE, ChainScanner, entry_signature_ok, paper_signature_problems)
from .errors import BoardInvalid, ExportUnreadable, ManifestInvalid
from .manifest import Manifest
from .signed import ALGORITHM, Verdict, verdict, verify
from .voters import Voters, parse_credential_list, pins_problems
from .witness import file_name as witness_file

MANIFEST = "manifest.json"
ELECTION_KEY = "election_key.json"
BOARD_KEY = "board_key.json"
OPENING = "opening.json"
CREDENTIALS = "credentials.json"
REVOCATIONS = "revocations.jsonl"
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
PAPER_OVERRIDES = "paper_overrides.json"
EXPORT_FILES = (MANIFEST, ELECTION_KEY, BOARD_KEY, OPENING, CREDENTIALS, REVOCATIONS, ENTRIES, BALLOTS,
                CHECKPOINTS, PAPER_OVERRIDES)
SNAPSHOT_FILES = EXPORT_FILES[:-1]  # record.md §3.1: a snapshot has no paper-vote list
POLL_EXTENSIONS = "poll_extensions.jsonl"  # record.md §2.7: only when the polls were extended
#: Files an export (and the record) holds only when there is something to put in them.
OPTIONAL_EXPORT_FILES = (POLL_EXTENSIONS,)

OVERRIDES_MISSING = ("paper_overrides.json is missing: the officials must sign the paper-vote list "
                     "first (an empty list if nobody voted on paper)")

PathLike = Union[str, Path]
#: A board position as the writer takes it: (entry of record.md §2.1, canonical JSON of its ballot).
BoardItem = tuple[Mapping[str, Any], bytes]

_HASH_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_PSEUDONYM_RE = re.compile(r"\A[0-9a-f]{32}\Z")
_SIGNATURE_RE = re.compile(r"\A[0-9a-f]{128}\Z")


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
    opening: Mapping[str, Any],
    credentials: Union[bytes, Path],
    revocations: Iterable[Mapping[str, Any]],
    board: Iterable[BoardItem],
    checkpoints: Iterable[Mapping[str, Any]],
    paper_overrides: Optional[Mapping[str, Any]],
    witnesses: Iterable[Mapping[str, Any]] = (),
    poll_extensions: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """Write a board export folder (record.md §3) and return its resolved path.

    ``manifest``: the canonical manifest bytes; ``election_key``: its file's bytes;
    ``board_key``: :func:`election.signed.public_key_dict`; ``opening``: the CA-signed opening
    object (record.md §2.0); ``credentials``: the bytes of the CA's ``credentials.json`` exactly (its
    SHA-256 is pinned), or the path of that file (copied: a list of millions of voters);
    ``revocations``: the CA-signed revocations in the order made (§6.3); ``board`` /
    ``checkpoints``: as :func:`write_board`; ``paper_overrides``: the list signed by two
    officials, None for a snapshot (§3.1); ``witnesses``: each pinned witness's latest signed
    statement (§3.5), written as ``witnesses/<name>.json``; ``poll_extensions``: the signed poll
    extensions in the order made (§2.7), written to ``poll_extensions.jsonl`` if there is any.

    Atomic: everything is written to a fresh folder beside ``out_dir`` that replaces it at the
    end, so a failure (also one raised by the ``board`` iterable) leaves no partial export."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (work / MANIFEST).write_bytes(manifest)
        (work / ELECTION_KEY).write_bytes(election_key)
        (work / BOARD_KEY).write_bytes(canonical_json(board_key))
        (work / OPENING).write_bytes(canonical_json(opening))
        if isinstance(credentials, Path):
            shutil.copyfile(credentials, work / CREDENTIALS)
        else:
            (work / CREDENTIALS).write_bytes(credentials)
        with (work / REVOCATIONS).open("wb") as handle:
            for revocation in revocations:
                handle.write(canonical_json(revocation) + b"\n")
        if paper_overrides is not None:
            (work / PAPER_OVERRIDES).write_bytes(canonical_json(paper_overrides))
        if poll_extensions:
            (work / POLL_EXTENSIONS).write_bytes(b"".join(canonical_json(x) + b"\n" for x in poll_extensions))
        write_board(work, board, checkpoints)
        for statement in witnesses:
            path = work / witness_file(statement["witness"])
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(canonical_json(statement))
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


def read_bytearray(path: PathLike, what: str) -> bytearray:
    """A file's bytes as a bytearray (read once, not copied; see
    :func:`election.voters.parse_credential_list`)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = bytearray(size)
            if handle.readinto(data) != size or handle.read(1):
                raise ExportUnreadable(f"{what}: {path} changed while it was read")
    except FileNotFoundError:
        raise ExportUnreadable(f"{what}: file {path} is missing") from None
    except OSError as exc:
        raise ExportUnreadable(f"{what}: cannot read {path} ({exc.strerror})") from None
    return data


def sha256_of(path: PathLike, what: str) -> str:
    """Lowercase hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise ExportUnreadable(f"{what}: file {path} is missing") from None
    return digest.hexdigest()


@dataclass(frozen=True)
class Pins:
    """The opening object (record.md §2.0) as read: the object, its hash and what it pins."""

    opening: dict[str, Any]
    hash: str  # the opening hash: SHA-256 of the canonical JSON of the signed object
    ca_key: str
    board_key: str
    officials: dict[str, str]  # username → 64-hex public key


def load_opening(path: Path, election_id: str) -> Pins:
    """``opening.json``: the exact shape of record.md §2.0, this election, canonical JSON, and
    signed by the CA key it names (the export cannot say which CA key is the real one: observers
    give the verifier the CA's published key, record.md §2.0)."""
    obj = read_json(path, "opening")
    problems = authority.check_opening(obj)
    if problems:
        raise BoardInvalid("opening.json: " + "; ".join(problems))
    if obj["election_id"] != election_id:
        raise BoardInvalid(f"opening.json: of election {obj['election_id']}, not of this manifest's {election_id}")
    if canonical_json(obj) != path.read_bytes():
        raise BoardInvalid("opening.json: not canonical JSON")
    if not verify(obj, obj["ca_key"]):
        raise BoardInvalid("opening.json: not signed by the CA key it pins (ca_key)")
    return Pins(obj, authority.object_hash(obj), obj["ca_key"], obj["board_key"],
                {o["username"]: o["public_key"] for o in obj["officials"]})


def load_authority(folder: Path, election_id: str, board_key: Ed25519PublicKey,
                   contests: Optional[Collection[str]] = None) -> tuple[Pins, Voters]:
    """The opening and who may sign a ballot (record.md §2.0, §6.2, §6.3): ``opening.json``
    (:func:`load_opening`) whose pins equal this export's ``election_key.json``,
    ``board_key.json`` and ``credentials.json``; the credential list, canonical and signed by
    the opening's CA key; every revocation of ``revocations.jsonl`` signed by it and valid in
    order (:meth:`election.voters.Voters.add_revocation`).  ``contests``: the manifest's contest
    ids, which the list's keys must be (record.md §6.2, version 4)."""
    pins = load_opening(folder / OPENING, election_id)
    board_hex = board_key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    problems = pins_problems(pins.opening, election_key_sha256=sha256_of(folder / ELECTION_KEY, "election key"),
                             board_key=board_hex, credentials_sha256=sha256_of(folder / CREDENTIALS, "credentials"))
    if problems:
        raise BoardInvalid("opening.json pins other files than this export's: " + "; ".join(problems))
    try:
        listed = parse_credential_list(read_bytearray(folder / CREDENTIALS, "credentials"), election_id,
                                       pins.ca_key, contests)
    except ValueError as exc:
        raise BoardInvalid(str(exc)) from None
    voters = Voters(listed.contests)
    for number, line in iter_lines(folder / REVOCATIONS, "revocations"):
        what = f"revocations.jsonl line {number}"
        try:
            obj = parse_json(line, what)
            if canonical_json(obj) != line:
                raise ValueError("not canonical JSON")
            voters.add_revocation(obj, election_id, pins.ca_key)
        except ValueError as exc:  # crypto's InvalidInput is a ValueError
            message = str(exc)
            raise BoardInvalid(message if message.startswith(what) else f"{what}: {message}") from None
    return pins, voters


def _board_object(line: bytes, what: str, keys: AbstractSet[str]) -> dict[str, Any]:
    """One JSON object of a board file with exactly ``keys``; BoardInvalid naming ``what``."""
    obj = _json_object(line, what)
    if set(obj) != keys:
        raise BoardInvalid(f"{what}: expected exactly the keys {sorted(keys)}")
    return obj


def _json_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        obj = parse_json(line, what)
    except ValueError as exc:
        raise BoardInvalid(str(exc)) from None
    if not isinstance(obj, dict):
        raise BoardInvalid(f"{what}: expected a JSON object")
    return obj


def load_checkpoints(path: Path, election_id: str, public_key: Ed25519PublicKey,
                     closed: bool = True, *, opening: str) -> list[dict[str, Any]]:
    """Signed checkpoints (record.md §2.3), checked for shape, opening hash, signature and
    order; their match with the chain is checked by :func:`scan_entries`.  ``closed``: the last
    one must be final (else a snapshot taken while the polls are open, §3.1, is accepted too)."""
    checkpoints: list[dict[str, Any]] = []
    for number, line in iter_lines(path, "checkpoints"):
        what = f"checkpoint on line {number}"
        cp = _board_object(line, what, CHECKPOINT_KEYS)
        if cp["type"] != CHECKPOINT_TYPE or cp["election_id"] != election_id:
            raise BoardInvalid(f"{what}: wrong type or election id")
        if cp["opening"] != opening:
            raise BoardInvalid(f"{what}: opening is not the hash of opening.json")
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


def load_overrides(path: Path, election_id: str, pins: Pins) -> frozenset[str]:
    """The pseudonyms of the paper-vote list (record.md §2.4): this election and opening,
    sorted and unique, signed by two distinct officials pinned in the opening."""
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
    if obj["opening"] != pins.hash:
        raise BoardInvalid("paper overrides: opening is not the hash of opening.json")
    pseudonyms = obj["pseudonyms"]
    if not isinstance(pseudonyms, list) or not all(isinstance(p, str) for p in pseudonyms):
        raise BoardInvalid("paper overrides: pseudonyms must be a list of strings")
    if pseudonyms != sorted(set(pseudonyms)):
        raise BoardInvalid("paper overrides: pseudonyms must be sorted and unique")
    problems = paper_signature_problems(obj, pins.officials)
    if problems:
        raise BoardInvalid("paper overrides: officials' signatures: " + "; ".join(problems))
    return frozenset(pseudonyms)


@dataclass(frozen=True)
class BoardIndex:
    """What one pass over ``entries.jsonl`` keeps: N, the head and, per credential, its latest
    ballot entry's seq (record.md §2.2: the voter's current ballot; audit entries never are)
    with its pseudonym and ballot hash."""

    count: int
    head: str
    #: credential (32 bytes) → (latest seq, pseudonym (16 bytes) + ballot hash (32 bytes))
    credentials: dict[bytes, tuple[int, bytes]]

    def latest(self, credential: str) -> int:
        """The seq of the latest ballot entry of ``credential`` (64 hex) on the board, 0 if it
        has none (it only audited)."""
        state = self.credentials.get(bytes.fromhex(credential))
        return 0 if state is None else state[0]


def parse_entry(line: bytes, number: int, election_id: str, contest_ids: Iterable[str]) -> dict[str, Any]:
    """One ``entries.jsonl`` line, strictly (record.md §2.1, §5 check 6): canonical, a known
    ``kind`` and exactly its keys, seq = line number, known contest, well-formed pseudonym,
    credential, previous (ballot entries) or seed (audit entries), signature and hashes.  The hashes and the signature themselves are checked by
    :func:`scan_entries`."""
    what = f"board entry on line {number}"
    entry = _json_object(line, what)
    keys = ENTRY_KEYS_BY_KIND.get(entry["kind"]) if isinstance(entry.get("kind"), str) else None
    if keys is None:
        raise BoardInvalid(f"{what}: kind must be \"ballot\" or \"audit\"")
    if set(entry) != keys:
        raise BoardInvalid(f"{what}: expected exactly the keys of a {entry['kind']} entry {sorted(keys)}")
    if canonical_json(entry) != line:
        raise BoardInvalid(f"{what}: not canonical JSON")
    if entry["seq"] != number or isinstance(entry["seq"], bool):
        raise BoardInvalid(f"{what}: seq {entry['seq']!r} breaks the sequence 1, 2, 3 …")
    if entry["election_id"] != election_id:
        raise BoardInvalid(f"{what}: election id differs from the manifest's")
    if not isinstance(entry["contest"], str) or entry["contest"] not in contest_ids:
        raise BoardInvalid(f"{what}: unknown contest {entry['contest']!r}")
    if not isinstance(entry["pseudonym"], str) or not _PSEUDONYM_RE.match(entry["pseudonym"]):
        raise BoardInvalid(f"{what}: pseudonym is not 32 hex digits")
    for key in ("ballot_hash", "entry_hash", "credential") + (("seed",) if entry["kind"] == KIND_AUDIT else ()):
        if not isinstance(entry[key], str) or not _HASH_RE.match(entry[key]):
            raise BoardInvalid(f"{what}: {key} is not 64 lowercase hex digits")
    if entry["kind"] != KIND_AUDIT and (
            not isinstance(entry["previous"], str) or (entry["previous"] and not _HASH_RE.match(entry["previous"]))):
        raise BoardInvalid(f"{what}: previous is neither empty nor 64 lowercase hex digits")
    if not isinstance(entry["signature"], str) or not _SIGNATURE_RE.match(entry["signature"]):
        raise BoardInvalid(f"{what}: signature is not 128 lowercase hex digits")
    return entry


def scan_entries(
    path: Path,
    election_id: str,
    contests: Mapping[str, str],
    checkpoints: list[dict[str, Any]],
    voters: Voters,
    opening: str,
    advance: Callable[[int], None] = lambda _: None,
) -> BoardIndex:
    """One streaming pass (record.md §2.1–§2.3, §5 check 19): every entry well-formed and on
    the hash chain; signed by its credential under the opening hash ``opening`` (an audit entry:
    the audit statement; whether its seed opens its ballot is the verifier's check 29); its credential
    one of its contest's (version 4: the contest its voter is routed to) in ``voters``
    (``contests``: contest id → electorate, the manifest's contests); one
    pseudonym per credential; the ballots of a credential chained through ``previous`` in seq
    order; every credential of a pseudonym descending (through revocations) from one; every
    checkpoint's (seq, head) on the chain, the last checkpoint at the last entry.  A board that
    breaks any of these is refused (:class:`BoardInvalid` naming the entry): the server must
    never have accepted such an entry."""
    wanted: dict[int, list[dict[str, Any]]] = {}
    for cp in checkpoints:
        wanted.setdefault(cp["seq"], []).append(cp)
    heads = {0: election_id}
    credentials: dict[bytes, tuple[int, bytes]] = {}
    owners: dict[bytes, bytes] = {}  # pseudonym → the first credential (root) it voted with
    auditors: dict[bytes, bytes] = {}  # credential with audit entries only so far → its pseudonym
    chain = ChainScanner(election_id)
    count = 0
    for number, line in iter_lines(path, "board entries"):
        entry = parse_entry(line, number, election_id, contests)
        link = chain.step(entry)
        if not link.hash_ok:
            raise BoardInvalid(f"board entry on line {number}: entry_hash does not match the entry")
        if not link.prev_ok:
            raise BoardInvalid(f"board entry {number}: prev_hash does not link to entry {number - 1}")
        what = f"board entry {number}"
        credential = bytes.fromhex(entry["credential"])
        contest = entry["contest"]
        if not voters.member(credential, contest):  # record.md §6.2, check 19 (version 4)
            other = voters.contest_of(credential)
            raise BoardInvalid(f"{what}: credential {entry['credential']} is not one of contest {contest} "
                               "(credentials.json or a replacement in revocations.jsonl)"
                               + (f"; it is of contest {other}" if other else ""))
        if not entry_signature_ok(entry, opening):
            raise BoardInvalid(f"{what}: the voter's signature does not verify under credential "
                               f"{entry['credential']} (docs/protocol.md §13.3)")
        pseudonym = bytes.fromhex(entry["pseudonym"])
        state = credentials.get(credential)
        voted_for = state[1][:16] if state is not None else auditors.get(credential)
        if voted_for is not None and voted_for != pseudonym:
            at = state[0] if state is not None else "an earlier audit"
            raise BoardInvalid(f"{what}: credential {entry['credential']} votes for pseudonym "
                               f"{entry['pseudonym']} and, at seq {at}, for {voted_for.hex()}")
        root = voters.root(credential)
        first = owners.setdefault(pseudonym, root)
        if first != root:
            raise BoardInvalid(f"{what}: pseudonym {entry['pseudonym']} votes with credential "
                               f"{entry['credential']} and with {first.hex()}, which do not descend from one "
                               "credential through revocations")
        if entry["kind"] == KIND_AUDIT:  # not part of the credential's chain of ballots (§2.2)
            if state is None:
                auditors[credential] = pseudonym
        else:
            previous = state[1][16:].hex() if state is not None else ""
            if entry["previous"] != previous:
                raise BoardInvalid(f"{what}: previous is {entry['previous'] or 'empty'}, not the ballot_hash of "
                                   f"this credential's ballot before it ({previous or 'none: empty'})")
            credentials[credential] = (number, pseudonym + bytes.fromhex(entry["ballot_hash"]))
            auditors.pop(credential, None)
        count = number
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
    return BoardIndex(count, chain.head, credentials)
