"""The public snapshot API (docs/record.md §3.2): the bytes of the snapshot of §3.1, served a
range at a time so that observers fetch only what is new.

Every line is written by the export's own functions (:func:`election.export.ballot_line`, the
canonical JSON of :func:`app.services.voting.board.entry_dict`), so a range fetched here is, byte
for byte, the same lines as ``ssbvote board export --snapshot``.  Nothing past the latest signed
checkpoint is served (nothing unsigned is published); encrypted ballots are public from the
checkpoint that covers them (record.md §3.2).
"""
from __future__ import annotations

import json
import re
from typing import Mapping

from app.models import Election
from app.security import MAX_URL_INTEGER
from app.services.administration import authority
from app.services.errors import BadRange, NotFound
from app.services.platform import signing
from app.services.voting import board, poll_extensions
from crypto.encoding import canonical_json
from election.export import ballot_line

MAX_ENTRIES = 1000  # lines per GET entries (record.md §3.2)
MAX_BALLOTS = 20    # lines per GET ballots (~0.7 MB each at 2048 bits)
PIN_FILES = ("manifest.json", "election_key.json", "board_key.json", "opening.json",
             "credentials.json", "revocations.jsonl")
_NUMBER = re.compile(r"\A(0|[1-9][0-9]{0,15})\Z")


def _published(election: Election) -> None:
    if not election.opening:
        raise NotFound("this election has no opening yet: nothing is published")


def snapshot_file(election: Election, name: str) -> bytes:
    """A pinned file of the snapshot (record.md §3.2), exactly as the export writes it."""
    _published(election)
    if name == "manifest.json":
        return election.manifest.encode("utf-8")
    if name == "election_key.json":
        return (election.election_key or "").encode()
    if name == "board_key.json":
        return canonical_json(signing.public_key_dict())
    if name == "opening.json":
        return canonical_json(json.loads(election.opening or "{}"))
    if name == "credentials.json":
        return authority.credential_list_bytes(election)
    if name == "revocations.jsonl":
        return b"".join(canonical_json(r) + b"\n" for r in authority.revocations(election))
    if name == "poll_extensions.jsonl":  # record.md §2.7, §3.2
        return b"".join(canonical_json(x) + b"\n" for x in poll_extensions.extensions(election))
    raise NotFound(f"no snapshot file {name!r}")


def checkpoint_lines(election: Election) -> bytes:
    """``board/checkpoints.jsonl``: every signed checkpoint, in the order written."""
    _published(election)
    return b"".join(canonical_json(cp) + b"\n" for cp in board.checkpoints(election))


def latest_signed_seq(election: Election) -> int:
    cps = board.checkpoints(election)
    return int(cps[-1]["seq"]) if cps else 0


def parse_range(election: Election, args: Mapping[str, str], limit: int) -> tuple[int, int]:
    """(after, upto) from exactly the query parameters ``after`` and ``upto``:
    0 ≤ after < upto ≤ the latest checkpoint's seq, upto − after ≤ ``limit``."""
    _published(election)
    if set(args) != {"after", "upto"}:
        raise BadRange("give exactly the parameters after and upto")
    if not all(_NUMBER.match(args[k]) for k in ("after", "upto")):
        raise BadRange("after and upto are decimal integers without sign or leading zero")
    after, upto = int(args["after"]), int(args["upto"])
    if upto > MAX_URL_INTEGER:  # bounded like every URL integer (app/security.py)
        raise BadRange(f"after and upto are at most {MAX_URL_INTEGER}")
    signed = latest_signed_seq(election)
    if not after < upto <= signed:
        raise BadRange(f"need after < upto ≤ {signed} (the latest signed checkpoint)")
    if upto - after > limit:
        raise BadRange(f"at most {limit} lines per request")
    return after, upto


def entry_lines(election: Election, after: int, upto: int) -> bytes:
    """Lines after+1 … upto of ``board/entries.jsonl``."""
    return b"".join(canonical_json(board.entry_dict(e, election.election_id)) + b"\n"
                    for e in board.iter_entries(election, after=after, limit=upto - after))


def ballot_lines(election: Election, after: int, upto: int) -> bytes:
    """Lines after+1 … upto of ``board/ballots.jsonl``."""
    out = []
    for entry, ballot in board.iter_entries_with_ballots(election, after=after,
                                                         limit=upto - after):
        if ballot is None:  # pragma: no cover - the ballot row is written with its entry
            raise NotFound(f"board entry {entry.seq}: its ballot is missing")
        out.append(ballot_line(board.entry_dict(entry, election.election_id), ballot.encode())
                   + b"\n")
    return b"".join(out)
