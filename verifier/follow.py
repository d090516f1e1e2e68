"""Follow mode: ``python -m verifier --follow URL --state FILE`` (docs/record.md §3.3).

The observer fetches the public snapshot API (§3.2) — only what is new since its last verified
head — keeps a local copy of the snapshot beside its state file (``FILE.board/``), keeps every
signed checkpoint it has ever seen in FILE, and runs the snapshot checks with the proofs of the
new ballots only.  Anti-equivocation (§3.4) runs every round.  Nothing the server sends is
trusted before it is checked: the pins by ``--ca-key`` (check 17), everything else by the pins.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from verifier.checks import Options, Verification, verify_snapshot
from verifier.encoding import canonical_json, loads_strict
from verifier.errors import InvalidInput, RecordUnreadable
from verifier.hashing import object_hash
from verifier.seen import (STATE_TYPE, Equivocation, checkpoint_problem, equivocations,
                           first_not_on_chain, unique)

PIN_FILES = ("manifest.json", "election_key.json", "board_key.json", "opening.json",
             "credentials.json")
REVOCATIONS = "revocations.jsonl"
EXTENSIONS = "poll_extensions.jsonl"
ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
ENTRY_PAGE = 1000  # the API's bounds (record.md §3.2)
BALLOT_PAGE = 20
TIMEOUT = 60
URL_RE = re.compile(r"^https?://[^\s]+/api/elections/[^/\s]+/\Z")


class FollowFailed(Exception):
    """The round found the server at fault (exit 1): the message names what."""


@dataclass
class State:
    """The observer's state file (docs/record.md §3.3)."""

    url: str
    election_id: str | None = None
    opening: str | None = None
    pins: dict[str, str] = field(default_factory=dict)
    verified_seq: int = 0
    verified_head: str | None = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # the copy's files at verified_seq

    def to_json(self) -> dict[str, Any]:
        return {"type": STATE_TYPE, "version": 1, "url": self.url,
                "election_id": self.election_id, "opening": self.opening, "pins": self.pins,
                "verified": {"seq": self.verified_seq, "head": self.verified_head},
                "sizes": self.sizes, "checkpoints": self.checkpoints}

    @classmethod
    def load(cls, path: Path, url: str) -> "State":
        if not path.exists():
            return cls(url)
        try:
            obj = loads_strict(path.read_bytes())
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not a state file ({exc})") from None
        if not isinstance(obj, dict) or obj.get("type") != STATE_TYPE:
            raise InvalidInput(f"{path}: not an observer state file")
        if obj.get("url") != url:
            raise InvalidInput(f"{path}: the state of {obj.get('url')}, not of {url}")
        return cls(url, obj["election_id"], obj["opening"], dict(obj["pins"]),
                   int(obj["verified"]["seq"]), obj["verified"]["head"],
                   list(obj["checkpoints"]), dict(obj.get("sizes", {})))

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(json.dumps(self.to_json(), indent=1).encode() + b"\n")
        os.replace(tmp, path)


@dataclass
class RoundResult:
    seq: int
    head: str
    new_ballots: int
    verification: Verification


class Client:
    """GETs of the snapshot API, bounded in time; a failing request is RecordUnreadable."""

    def __init__(self, url: str) -> None:
        if not URL_RE.match(url):
            raise InvalidInput(f"{url}: not an election's API URL "
                               "(http(s)://host/api/elections/<slug>/)")
        self.url = url

    def get(self, path: str) -> bytes:
        try:
            with urllib.request.urlopen(self.url + path, timeout=TIMEOUT) as answer:
                data: bytes = answer.read()
                return data
        except (urllib.error.URLError, OSError) as exc:
            raise RecordUnreadable(f"GET {self.url}{path}: {exc}") from None

    def lines(self, path: str) -> list[bytes]:
        data = self.get(path)
        if data and not data.endswith(b"\n"):
            raise FollowFailed(f"{path}: the answer does not end with a line feed")
        return data.split(b"\n")[:-1] if data else []

    def range_lines(self, what: str, after: int, upto: int, page: int) -> Iterator[bytes]:
        while after < upto:
            top = min(upto, after + page)
            got = self.lines(f"{what}?after={after}&upto={top}")
            if len(got) != top - after:
                raise FollowFailed(f"{what} ({after}, {top}]: {len(got)} lines served, "
                                   f"{top - after} expected")
            yield from got
            after = top


def _parse(raw: bytes, what: str) -> Any:
    try:
        return loads_strict(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FollowFailed(f"{what}: not valid JSON ({exc})") from None


def describe(eq: Equivocation) -> str:
    return (f"EQUIVOCATION at seq {eq.seq}: the board key signed head {eq.first['head']} "
            f"(at {eq.first['at']}) and head {eq.second['head']} (at {eq.second['at']})")


def follow_round(client: Client, state_path: Path, options: Options,
                 report: Callable[[str], None] = lambda _: None) -> RoundResult:
    """One round (record.md §3.3).  Raises FollowFailed (exit 1) naming the fault, or
    RecordUnreadable / InvalidInput (exit 2)."""
    state = State.load(state_path, client.url)
    copy = state_path.with_name(state_path.name + ".board")
    (copy / "board").mkdir(parents=True, exist_ok=True)

    # (1) the pins: kept on the first round, never changed after
    for name in PIN_FILES:
        data = client.get(f"snapshot/{name}")
        digest = hashlib.sha256(data).hexdigest()
        if name in state.pins and state.pins[name] != digest:
            raise FollowFailed(f"{name} changed since it was first fetched")
        state.pins[name] = digest
        (copy / name).write_bytes(data)
    revocations = client.get(f"snapshot/{REVOCATIONS}")
    old = (copy / REVOCATIONS).read_bytes() if (copy / REVOCATIONS).exists() else b""
    if not revocations.startswith(old):
        raise FollowFailed("revocations.jsonl lost or changed a line it had before")
    (copy / REVOCATIONS).write_bytes(revocations)
    extensions = client.get(f"snapshot/{EXTENSIONS}")  # record.md §2.7: may only grow
    old = (copy / EXTENSIONS).read_bytes() if (copy / EXTENSIONS).exists() else b""
    if not extensions.startswith(old):
        raise FollowFailed("poll_extensions.jsonl lost or changed a line it had before")
    if extensions:
        (copy / EXTENSIONS).write_bytes(extensions)
    opening_obj = _parse((copy / "opening.json").read_bytes(), "opening.json")
    manifest_raw = (copy / "manifest.json").read_bytes()
    election_id = hashlib.sha256(manifest_raw).hexdigest()
    if not isinstance(opening_obj, dict) or not isinstance(opening_obj.get("board_key"), str):
        raise FollowFailed("opening.json: not an opening object")
    opening_hash = object_hash(opening_obj)
    state.election_id, state.opening = election_id, opening_hash
    if state.verified_head is None:
        state.verified_head = election_id
    board_key = bytes.fromhex(opening_obj["board_key"]) if re.fullmatch(
        r"[0-9a-f]{64}", opening_obj["board_key"]) else b""
    if len(board_key) != 32:
        raise FollowFailed("opening.json: board_key is not 64 hex digits")

    # (2) every checkpoint, kept; (3) equivocation
    served = []
    for k, raw in enumerate(client.lines("checkpoints"), start=1):
        cp = _parse(raw, f"checkpoints line {k}")
        problem = checkpoint_problem(cp, board_key, election_id, opening_hash)
        if problem is not None:
            raise FollowFailed(f"checkpoints line {k}: {problem}")
        served.append(cp)
    state.checkpoints = unique(state.checkpoints + served)
    state.save(state_path)  # what was seen is kept even if this round fails
    found = equivocations(state.checkpoints)
    if found:
        raise FollowFailed("; ".join(describe(eq) for eq in found))
    if not served:
        raise FollowFailed("no signed checkpoint is served yet")
    target = served[-1]["seq"]
    if target < state.verified_seq:
        raise FollowFailed(f"the latest checkpoint (seq {target}) is before the verified "
                           f"seq {state.verified_seq}: the board shrank")

    # (4) the new entries and ballots; they must extend the verified head
    _truncate(copy, state.sizes)
    new = 0
    with (copy / ENTRIES).open("ab") as entries:
        for k, raw in enumerate(client.range_lines("entries", state.verified_seq, target,
                                                   ENTRY_PAGE)):
            if k == 0:
                first = _parse(raw, "entry")
                if not isinstance(first, dict) or first.get("prev_hash") != state.verified_head:
                    _truncate(copy, state.sizes)
                    raise FollowFailed(_not_extended(client, state, target))
            entries.write(raw + b"\n")
            new += 1
    with (copy / BALLOTS).open("ab") as ballots:
        for raw in client.range_lines("ballots", state.verified_seq, target, BALLOT_PAGE):
            ballots.write(raw + b"\n")
    (copy / CHECKPOINTS).write_bytes(b"".join(canonical_json(cp) + b"\n" for cp in served))

    # (5) the snapshot checks, proofs of the new ballots only
    options.seen = state.checkpoints
    options.proofs_after = state.verified_seq
    verification = verify_snapshot(copy, options)
    if not verification.ok:
        _truncate(copy, state.sizes)
        return RoundResult(state.verified_seq, state.verified_head or "", new, verification)
    head = state.verified_head
    if target > state.verified_seq:
        last = (copy / ENTRIES).read_bytes().rsplit(b"\n", 2)[-2]
        head = _parse(last, "entry")["entry_hash"]
    state.verified_seq, state.verified_head = target, head
    state.sizes = {rel: (copy / rel).stat().st_size for rel in (ENTRIES, BALLOTS)}
    state.save(state_path)
    return RoundResult(target, head or "", new, verification)


def _truncate(copy: Path, sizes: dict[str, int]) -> None:
    """Cut the copy's board files back to what was verified (an unverified tail is dropped)."""
    for rel in (ENTRIES, BALLOTS):
        path = copy / rel
        if not path.exists():
            path.touch()
        with path.open("r+b") as handle:
            handle.truncate(sizes.get(rel, 0))


def _not_extended(client: Client, state: State, target: int) -> str:
    """The published chain does not continue from the verified head: name the first seen
    checkpoint it does not contain (record.md §3.4)."""
    assert state.election_id is not None
    heads: dict[int, str] = {0: state.election_id}
    wanted = {int(cp["seq"]) for cp in state.checkpoints}
    size = 0
    for raw in client.range_lines("entries", 0, target, ENTRY_PAGE):
        e = _parse(raw, "entry")
        size += 1
        if isinstance(e, dict) and e.get("seq") in wanted:
            heads[e["seq"]] = str(e.get("entry_hash"))
    seen = [cp for cp in state.checkpoints if cp["seq"] <= state.verified_seq]
    gone = first_not_on_chain(seen, heads, size)
    if gone is None:  # pragma: no cover - the verified head itself is a seen checkpoint
        return (f"the published chain does not continue from the verified head "
                f"(seq {state.verified_seq}, head {state.verified_head})")
    cp = gone[0]
    return (f"the checkpoint seen at seq {cp['seq']} with head {cp['head']} (at {cp['at']}) is "
            f"not on the published chain (its head there: {gone[1] or '—'})")


def remove_copy(state_path: Path) -> None:
    """Forget the local copy (the state file's checkpoints are kept)."""
    shutil.rmtree(state_path.with_name(state_path.name + ".board"), ignore_errors=True)


__all__ = ["Client", "FollowFailed", "RoundResult", "State", "follow_round", "remove_copy"]
