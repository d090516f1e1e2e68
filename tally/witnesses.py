"""Witnesses at the tally (docs/record.md §3.5): ``tally prepare`` refuses to start when a
pinned witness's latest statement is not on the board, and keeps the co-signatures of the final
head for ``tally finish`` to put in the record (``witnesses/<name>.json``).

The statements come from the export (the server stored them) and from ``--witness FILE``
(witnesses hand theirs to the tally operator directly, so a server that dropped one does not
hide it)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from crypto.encoding import canonical_json
from election.witness import WITNESS_DIR, file_name, pinned, statement_problem

from .errors import BoardRefused, TallyError
from .files import atomic_write_bytes, iter_lines, read_json


def _statements(export: Path, extra: Iterable[Path]) -> list[tuple[str, Any]]:
    found = [(str(p), read_json(p, "witness statement"))
             for p in sorted((export / WITNESS_DIR).glob("*.json"))]
    for path in extra:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TallyError(f"witness statement {path}: cannot be read ({exc})") from None
        try:
            found.append((str(path), json.loads(text)))
        except ValueError as exc:
            raise TallyError(f"witness statement {path}: not JSON ({exc})") from None
    return found


def _heads(entries: Path, seqs: set[int], election_id: str) -> dict[int, str]:
    """The chain's entry hash at each of ``seqs`` (0 → the election id); the chain itself was
    checked by prepare."""
    heads = {0: election_id}
    for number, line in iter_lines(entries, "board entries"):
        if number in seqs:
            heads[number] = json.loads(line)["entry_hash"]
    return heads


def check(export: Path, work: Path, opening: Mapping[str, Any], opening_hash: str, size: int,
          head: str, extra: Iterable[Path] = ()) -> dict[str, dict[str, Any]]:
    """Refuse (BoardRefused, naming the witness) a statement that does not verify with its
    pinned key, or a pinned witness whose latest statement is not on the board; write
    ``work/witnesses/<name>.json`` for each witness whose latest statement co-signs the final
    head (size, head); return name → latest statement."""
    latest: dict[str, dict[str, Any]] = {}
    for where, obj in _statements(export, extra):
        problem = statement_problem(obj, opening, opening_hash)
        if problem is not None:
            name = obj.get("witness") if isinstance(obj, dict) else None
            raise BoardRefused(f"witness statement {where} ({name or 'unnamed'}): {problem}")
        have = latest.get(obj["witness"])
        if have is None or obj["seq"] > have["seq"] or (
                obj["seq"] == have["seq"] and obj["at"] > have["at"]):
            latest[obj["witness"]] = obj
    seqs = {s["seq"] for s in latest.values() if s["seq"] <= size}
    heads = _heads(work / "board/entries.jsonl", seqs, opening["election_id"])
    for name in sorted(latest):
        s = latest[name]
        if s["seq"] > size or heads.get(s["seq"]) != s["head"]:
            raise BoardRefused(f"witness {name}: its latest statement (seq {s['seq']}, head "
                               f"{s['head']}, at {s['at']}) is not on this board — the board "
                               "the witness verified is not the one being tallied")
    out = work / WITNESS_DIR
    if out.exists():
        for old in out.glob("*.json"):
            old.unlink()
    for name, s in latest.items():
        if s["seq"] == size and s["head"] == head:
            out.mkdir(exist_ok=True)
            atomic_write_bytes(work / file_name(name), canonical_json(s))
    return latest


def missing(opening: Mapping[str, Any], latest: Mapping[str, Any]) -> list[str]:
    """The pinned witnesses with no statement (reported, not refused)."""
    return sorted(set(pinned(opening)) - set(latest))
