"""Checks 6–8, 20 and 21 (docs/record.md §5): the bulletin board — the hash chain of its
entries (of both kinds, §2.1: cast ballots and audited ones), the ballots against the entries,
the signed checkpoints, no ballot twice, the times."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Iterator

from verifier.checks.context import HEX64_RE, CheckResult, Context, missing, record_json
from verifier.checks.pins import opening
from verifier.encoding import canonical_json, expect_object, expect_str, parse_count
from verifier.errors import InvalidInput
from verifier.hashing import object_hash
from verifier.manifest import parse_poll_window
from verifier.record import BALLOTS, BOARD_KEY, CHECKPOINTS, ENTRIES, MANIFEST, OPENING
from verifier.signatures import parse_board_key, signature_valid
from verifier.tables import EntryTable, RowMap, SeqMap, SeqSet

CHECKPOINT_TYPE = "ssbvote-checkpoint"  # the "type" of a signed checkpoint
PSEUDONYM_RE = re.compile(r"^[0-9a-f]{32}\Z")
CAST_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
KIND_BALLOT = "ballot"  # a cast ballot (docs/record.md §2.1)
KIND_AUDIT = "audit"  # an audited ballot, published with its seed, never counted (§2.1)
#: the exact keys of a board entry of each kind (docs/record.md §2.1, version 3)
BALLOT_ENTRY_KEYS = ("seq", "election_id", "kind", "pseudonym", "contest", "credential",
                     "previous", "signature", "ballot_hash", "cast_at", "prev_hash",
                     "entry_hash")
AUDIT_ENTRY_KEYS = ("seq", "election_id", "kind", "pseudonym", "contest", "credential", "seed",
                    "signature", "ballot_hash", "cast_at", "prev_hash", "entry_hash")
ENTRY_KEYS = {KIND_BALLOT: BALLOT_ENTRY_KEYS, KIND_AUDIT: AUDIT_ENTRY_KEYS}
SIGNATURE_RE = re.compile(r"^[0-9a-f]{128}\Z")


def parse_entry(e: Any) -> int:
    """The seq of a board entry of the shape of docs/record.md §2.1 — exactly the keys of its
    ``kind``; raises InvalidInput naming the field."""
    if not isinstance(e, dict):
        raise InvalidInput("entry: not an object")
    kind = e.get("kind")
    if kind not in ENTRY_KEYS:
        raise InvalidInput("entry.kind: neither \"ballot\" nor \"audit\"")
    expect_object(e, ENTRY_KEYS[kind], f"{kind} entry")
    seq = parse_count(e["seq"], "entry.seq")
    for k in ("election_id", "ballot_hash", "prev_hash", "entry_hash"):
        if not isinstance(e[k], str) or not HEX64_RE.match(e[k]):
            raise InvalidInput(f"entry.{k}: not a SHA-256 hex digest")
    if not isinstance(e["pseudonym"], str) or not PSEUDONYM_RE.match(e["pseudonym"]):
        raise InvalidInput("entry.pseudonym: not 32 lowercase hex digits")
    expect_str(e["contest"], "entry.contest")
    if not isinstance(e["credential"], str) or not HEX64_RE.match(e["credential"]):
        raise InvalidInput("entry.credential: not 64 lowercase hex digits")
    if kind == KIND_BALLOT and not (isinstance(e["previous"], str) and (
            e["previous"] == "" or HEX64_RE.match(e["previous"]))):
        raise InvalidInput("entry.previous: neither a ballot hash nor empty")
    if kind == KIND_AUDIT and not (isinstance(e["seed"], str) and HEX64_RE.match(e["seed"])):
        raise InvalidInput("entry.seed: not 64 lowercase hex digits")
    if not isinstance(e["signature"], str) or not SIGNATURE_RE.match(e["signature"]):
        raise InvalidInput("entry.signature: not 128 lowercase hex digits")
    if not isinstance(e["cast_at"], str) or not CAST_AT_RE.match(e["cast_at"]):
        raise InvalidInput("entry.cast_at: not UTC ISO 8601 with microseconds and Z")
    return seq


def board_entries(ctx: Context) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(seq, row, entry) of every entry check 6 kept (the well-formed ones, the first line of
    a seq given twice), read again from board/entries.jsonl (streamed)."""
    assert ctx.entries is not None
    done = SeqSet()
    for line in ctx.record.jsonl(ENTRIES):
        try:
            seq = parse_entry(line.value)
        except InvalidInput:
            continue
        row = ctx.entries.row(seq)
        if row is None or seq in done:
            continue
        done.add(seq)
        yield seq, row, line.value


def check_06_board_chain(ctx: Context) -> CheckResult:
    res = CheckResult(6, "board.chain")
    if missing(res, ("election id", ctx.election_id)):
        return res
    if not ctx.record.has(ENTRIES):
        res.fail("dependency", input=ENTRIES)
        return res
    entries = EntryTable(_checkpoint_seqs(ctx) | seen_seqs(ctx))  # seen: check 32
    prev = ctx.election_id
    count = 0
    for line in ctx.record.jsonl(ENTRIES):  # streamed: only the EntryTable is kept
        count += 1
        e = line.value
        item: dict[str, Any] = {"file": ENTRIES, "line": line.number}
        try:
            seq = parse_entry(e)
        except InvalidInput as exc:
            if isinstance(e, dict) and isinstance(e.get("seq"), int):
                item["seq"] = e["seq"]
            res.fail("chain.shape", item, error=str(exc))
            prev = e.get("entry_hash") if isinstance(e, dict) else None
            continue
        item["seq"] = seq
        if line.raw != canonical_json(e):
            res.fail("chain.not_canonical", item)
        if seq != line.number:
            res.fail("chain.seq", item, expected=line.number, found=seq)
        if e["election_id"] != ctx.election_id:
            res.fail("chain.election_id", item)
        if e["prev_hash"] != prev:
            res.fail("chain.prev_hash", item)
        body = {k: v for k, v in e.items() if k != "entry_hash"}
        if object_hash(body) != e["entry_hash"]:
            res.fail("chain.entry_hash", item)
        if seq in entries:
            res.fail("chain.duplicate_seq", item)
        else:
            entries.add(seq, e)
        prev = e["entry_hash"]
    ctx.entries = entries
    ctx.board_size = count
    res.note("chain.entries", count=count)
    return res


def seen_seqs(ctx: Context) -> set[int]:
    """The seqs of the checkpoints an observer saw (``--seen``, record.md §3.4)."""
    return {cp["seq"] for cp in ctx.options.seen or ()
            if isinstance(cp.get("seq"), int) and not isinstance(cp.get("seq"), bool)}


def _checkpoint_seqs(ctx: Context) -> set[int]:
    """The seqs the checkpoints name: the only entry hashes check 8 needs (check 6 keeps
    those, not all)."""
    out = set()
    for line in ctx.record.lines.get(CHECKPOINTS, []):
        if isinstance(line.value, dict):
            seq = line.value.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                out.add(seq)
    return out


def check_07_board_ballots(ctx: Context) -> CheckResult:
    res = CheckResult(7, "board.ballots")
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests)):
        return res
    assert ctx.entries is not None and ctx.contests is not None
    lines = ctx.record.ballot_lines  # streamed: no ballot is held (verifier/record.py)
    if lines is None:
        res.fail("dependency", input=BALLOTS)
        return res
    entries = ctx.entries
    ballots = SeqMap(0)
    last_seq = 0
    for line in lines:
        b = line.value
        item: dict[str, Any] = {"file": BALLOTS, "line": line.number}
        try:
            expect_object(b, ("seq", "pseudonym", "contest", "ballot"), "ballot line")
            assert b is not None  # expect_object refuses anything but an object
            seq = parse_count(b["seq"], "ballot line.seq", 1)
            expect_str(b["pseudonym"], "ballot line.pseudonym")
            expect_str(b["contest"], "ballot line.contest")
        except InvalidInput as exc:
            res.fail("ballots.shape", item, error=str(exc))
            continue
        item["seq"] = seq
        if seq in ballots:
            res.fail("ballots.duplicate", item)
            continue
        if seq <= last_seq:
            res.fail("ballots.order", item)
        last_seq = max(last_seq, seq)
        ballots.add(seq, line.number)
        row = entries.row(seq)
        if row is None:
            res.fail("ballots.not_on_board", item)
            continue
        contest = entries.contest(row)
        item["contest"] = contest
        if line.ballot_hash != entries.ballot_hash(row):
            res.fail("ballots.hash", item)
        if b["pseudonym"] != entries.pseudonym(row) or b["contest"] != contest:
            res.fail("ballots.context", item)
    for seq, row in entries.items():
        contest = entries.contest(row)
        if contest not in ctx.contests:
            res.fail("ballots.unknown_contest", {"file": ENTRIES, "seq": seq},
                     contest=contest)
        if seq not in ballots:
            res.fail("ballots.missing", {"file": BALLOTS, "seq": seq})
    ctx.ballots = ballots
    res.note("ballots.count", count=len(ballots))
    return res


def check_08_board_checkpoints(ctx: Context) -> CheckResult:
    res = CheckResult(8, "board.checkpoints")
    obj = record_json(ctx, BOARD_KEY)
    if obj is not None:
        try:
            ctx.board_key = parse_board_key(obj)
        except InvalidInput as exc:
            res.fail("checkpoints.board_key", {"file": BOARD_KEY}, error=str(exc))
    pins = opening(ctx)
    if pins is None:
        res.fail("dependency", input=OPENING)
    elif ctx.board_key is not None and pins.board_key != ctx.board_key.public_bytes_raw():
        res.fail("checkpoints.board_key_pin", {"file": BOARD_KEY})
    if missing(res, ("board key", ctx.board_key), ("board entries", ctx.entries),
                ("election id", ctx.election_id)):
        return res
    assert ctx.entries is not None and ctx.board_key is not None
    lines = ctx.record.lines.get(CHECKPOINTS)
    if lines is None:
        res.fail("dependency", input=CHECKPOINTS)
        return res
    if not lines:
        res.fail("checkpoints.none", {"file": CHECKPOINTS})
        return res
    heads: dict[int, Any] = dict(ctx.entries.heads)  # the entry hash at each checkpoint's seq
    heads[0] = ctx.election_id
    last_seq = -1
    finals = []
    for line in lines:
        cp = line.value
        item: dict[str, Any] = {"file": CHECKPOINTS, "line": line.number}
        try:
            expect_object(cp, ("type", "election_id", "opening", "seq", "head", "at", "final",
                               "signature"), "checkpoint")
            seq = parse_count(cp["seq"], "checkpoint.seq")
            if not isinstance(cp["final"], bool):
                raise InvalidInput("checkpoint.final: not a boolean")
            if cp["type"] != CHECKPOINT_TYPE:
                raise InvalidInput(f"checkpoint.type: not {CHECKPOINT_TYPE}")
            expect_str(cp["at"], "checkpoint.at")
        except InvalidInput as exc:
            res.fail("checkpoints.shape", item, error=str(exc))
            continue
        item["seq"] = seq
        if not signature_valid(cp, ctx.board_key):
            res.fail("checkpoints.signature", item)
        if cp["election_id"] != ctx.election_id:
            res.fail("checkpoints.election_id", item)
        if pins is not None and cp["opening"] != pins.hash:
            res.fail("checkpoints.opening", item)
        if seq > ctx.board_size or heads.get(seq) != cp["head"]:
            res.fail("checkpoints.head", item)
        if seq < last_seq:
            res.fail("checkpoints.order", item)
        last_seq = max(last_seq, seq)
        if cp["final"]:
            finals.append((line.number, seq))
    if len(finals) != 1 and not (ctx.options.snapshot and not finals):  # snapshot: §3.3
        res.fail("checkpoints.final_count", {"file": CHECKPOINTS}, count=len(finals))
    if finals and finals[-1][0] != lines[-1].number:
        res.fail("checkpoints.final_not_last", {"file": CHECKPOINTS, "line": finals[-1][0]})
    if finals and finals[-1][1] != ctx.board_size:
        res.fail("checkpoints.final_seq", {"file": CHECKPOINTS, "seq": finals[-1][1]},
                 expected=ctx.board_size)
    if ctx.options.snapshot and not finals and last_seq != ctx.board_size:
        res.fail("checkpoints.final_seq", {"file": CHECKPOINTS, "seq": last_seq},
                 expected=ctx.board_size)
    res.note("checkpoints.count", count=len(lines))
    return res


def check_20_board_unique(ctx: Context) -> CheckResult:
    res = CheckResult(20, "board.unique")
    if missing(res, ("board entries", ctx.entries)):
        return res
    assert ctx.entries is not None
    entries = ctx.entries
    first = RowMap(entries.ballot_hash_key)  # ballot hash → the first row that has it
    for seq, row in entries.items():
        earlier = first.setdefault(entries.ballot_hash_key(row), row)
        if earlier != row:
            res.fail("unique.duplicate", {"file": ENTRIES, "seq": seq,
                                          "credential": entries.credential(row)},
                     first=entries.seq(earlier), ballot_hash=entries.ballot_hash(row))
    res.note("unique.count", count=len(first))
    return res


def _utc_text(t: datetime) -> str:
    """``t`` in the form of ``cast_at`` (UTC, microseconds, Z): such texts compare as times."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_21_board_times(ctx: Context) -> CheckResult:
    res = CheckResult(21, "board.times")
    manifest = record_json(ctx, MANIFEST)
    if missing(res, ("board entries", ctx.entries), (MANIFEST, manifest)):
        return res
    try:
        opens, closes = (_utc_text(t) for t in parse_poll_window(manifest))
    except InvalidInput as exc:
        res.fail("times.poll_window", {"file": MANIFEST}, error=str(exc))
        return res
    from verifier.checks.decisions import extensions  # check 41's close in force (record.md §2.7)
    found = extensions(ctx)
    if found is not None:
        closes = _utc_text(found["close"])
    last: tuple[int, str] | None = None
    for seq, _row, e in board_entries(ctx):
        at = e["cast_at"]  # check 6: UTC, microseconds, Z — compares as text
        item = {"file": ENTRIES, "seq": seq}
        if not opens <= at <= closes:
            res.fail("times.window", item, cast_at=at, opens=opens, closes=closes)
        if last is not None and at < last[1]:
            res.fail("times.decreasing", item, cast_at=at, previous=last[0],
                     previous_at=last[1])
        last = (seq, at)
    res.note("times.summary", opens=opens, closes=closes)
    return res
