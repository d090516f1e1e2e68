"""The checkpoints an observer saw, and the anti-equivocation rules of docs/record.md §3.4.

A server that shows one board to observers and another to the tally, or rewrites history after
a checkpoint and re-signs from there, leaves either two signed checkpoints with the same ``seq``
and different heads (proof of equivocation) or a seen checkpoint that the published chain does
not contain.  The observer keeps every signed checkpoint it has seen (its state file,
docs/record.md §3.3) and hands them to the verifier (``--seen FILE``, check 32, and follow mode).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from verifier.encoding import expect_object, loads_strict, parse_count
from verifier.errors import InvalidInput
from verifier.signatures import signature_valid

CHECKPOINT_TYPE = "ssbvote-checkpoint"
CHECKPOINT_KEYS = ("type", "election_id", "opening", "seq", "head", "at", "final", "signature")
STATE_TYPE = "ssbvote-observer-state"


def load_seen(path: str | Path) -> list[dict[str, Any]]:
    """The checkpoints of ``path``: an observer state file (its ``checkpoints``) or a ``.jsonl``
    of checkpoints.  Raises InvalidInput if it is neither."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot be read ({exc})") from None
    try:
        whole = loads_strict(data)
    except (ValueError, UnicodeDecodeError):
        whole = None
    if isinstance(whole, dict):
        if whole.get("type") != STATE_TYPE or not isinstance(whole.get("checkpoints"), list):
            raise InvalidInput(f"{path}: not an observer state file ({STATE_TYPE})")
        items = list(whole["checkpoints"])
    elif whole is not None:
        items = [whole]
    else:
        items = []
        for k, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                items.append(loads_strict(raw))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"{path} line {k}: not valid JSON ({exc})") from None
    for i, cp in enumerate(items):
        if not isinstance(cp, dict):
            raise InvalidInput(f"{path}: checkpoint {i + 1} is not an object")
    return items


def checkpoint_problem(cp: Any, board_key: bytes | Any, election_id: str,
                       opening: str) -> str | None:
    """Why ``cp`` is not a checkpoint signed by the board key for this election and opening
    (docs/record.md §2.3), or None."""
    try:
        expect_object(cp, CHECKPOINT_KEYS, "checkpoint")
        parse_count(cp["seq"], "checkpoint.seq")
        if cp["type"] != CHECKPOINT_TYPE:
            raise InvalidInput(f"checkpoint.type: not {CHECKPOINT_TYPE}")
        if not isinstance(cp["head"], str) or not isinstance(cp["final"], bool):
            raise InvalidInput("checkpoint.head/final: wrong type")
    except InvalidInput as exc:
        return str(exc)
    if cp["election_id"] != election_id:
        return "checkpoint of another election"
    if cp["opening"] != opening:
        return "checkpoint under another opening"
    if not signature_valid(cp, board_key):
        return "signature does not verify with the pinned board key"
    return None


@dataclass(frozen=True)
class Equivocation:
    """Two validly signed checkpoints with the same seq and different heads."""

    seq: int
    first: Mapping[str, Any]
    second: Mapping[str, Any]


def equivocations(checkpoints: Iterable[Mapping[str, Any]]) -> list[Equivocation]:
    """Every seq at which the (already verified) checkpoints name two heads, first pair each."""
    by_seq: dict[int, Mapping[str, Any]] = {}
    out: dict[int, Equivocation] = {}
    for cp in checkpoints:
        seq = cp["seq"]
        earlier = by_seq.setdefault(seq, cp)
        if earlier["head"] != cp["head"] and seq not in out:
            out[seq] = Equivocation(seq, earlier, cp)
    return [out[s] for s in sorted(out)]


def first_not_on_chain(seen: Iterable[Mapping[str, Any]], heads: Mapping[int, str],
                       size: int) -> tuple[Mapping[str, Any], str | None] | None:
    """The seen checkpoint with the lowest seq whose (seq, head) is not on the chain — given
    the chain's entry hash at each seen seq (``heads``, with 0 → the election id) and its length
    — with the head the chain has there (None past its end); None if the chain has them all."""
    for cp in sorted(seen, key=lambda c: int(c["seq"])):
        seq = int(cp["seq"])
        found = heads.get(seq) if seq <= size else None
        if found != cp["head"]:
            return cp, found
    return None


def unique(checkpoints: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The checkpoints without repeats (same signature), in first-seen order."""
    out: list[dict[str, Any]] = []
    have: set[str] = set()
    for cp in checkpoints:
        if cp["signature"] not in have:
            have.add(cp["signature"])
            out.append(dict(cp))
    return out
