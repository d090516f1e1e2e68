"""Checks 32–35 (docs/record.md §3.3–§3.5, §5): what observers add — the board extends every
checkpoint they saw (no equivocation), the witnesses' co-signatures, the pinned witness list,
and turnout per contest (never partial results)."""
from __future__ import annotations

import re
from typing import Any

from verifier.checks.context import CheckResult, Context, missing
from verifier.checks.credentials import voters as credential_voters
from verifier.checks.pins import opening
from verifier.record import CHECKPOINTS, OPENING
from verifier.seen import checkpoint_problem, equivocations, first_not_on_chain
from verifier.witness import HEX64_RE, NAME_RE, pinned_witnesses, statement_problem

WITNESS_FILE_RE = re.compile(r"^witnesses/([a-z0-9][a-z0-9-]{0,31})\.json\Z")


def _cp_params(cp: Any) -> dict[str, Any]:
    return {"seq": cp.get("seq"), "head": cp.get("head"), "at": cp.get("at")}


def check_32_board_seen(ctx: Context) -> CheckResult:
    res = CheckResult(32, "board.seen")
    if ctx.options.seen is None:
        res.note("seen.not_given")
        return res
    pins = opening(ctx)
    if missing(res, ("board key", ctx.board_key), ("board entries", ctx.entries),
                ("election id", ctx.election_id), ("opening", pins)):
        return res
    assert ctx.board_key is not None and ctx.entries is not None and pins is not None
    assert ctx.election_id is not None
    valid = []
    for i, cp in enumerate(ctx.options.seen, start=1):
        problem = checkpoint_problem(cp, ctx.board_key, ctx.election_id, pins.hash)
        if problem is None:
            valid.append(cp)
        else:
            res.note("seen.ignored", number=i, reason=problem)
    published = [line.value for line in ctx.record.lines.get(CHECKPOINTS, [])
                 if checkpoint_problem(line.value, ctx.board_key, ctx.election_id,
                                       pins.hash) is None]
    for eq in equivocations(valid + published):
        res.fail("seen.equivocation", {"file": CHECKPOINTS, "seq": eq.seq}, seq=eq.seq,
                 head=eq.first["head"], at=eq.first["at"], other_head=eq.second["head"],
                 other_at=eq.second["at"])
    heads = dict(ctx.entries.heads)
    heads[0] = ctx.election_id
    gone = first_not_on_chain(valid, heads, ctx.board_size)
    if gone is not None:
        res.fail("seen.not_on_chain", {"seq": gone[0]["seq"]}, **_cp_params(gone[0]),
                 found=gone[1] or "—")
    res.note("seen.count", count=len(valid))
    return res


def check_33_witnesses_statements(ctx: Context) -> CheckResult:
    res = CheckResult(33, "witnesses.statements")
    files = {m.group(1): rel for rel in ctx.record.names()
             if (m := WITNESS_FILE_RE.match(rel))}
    if not files:
        res.note("witnesses.none")
        return res
    pins = opening(ctx)
    if missing(res, ("opening", pins), ("board entries", ctx.entries),
                ("election id", ctx.election_id)):
        return res
    assert pins is not None and ctx.entries is not None and ctx.election_id is not None
    pinned = pinned_witnesses(pins.obj)
    final_seq = ctx.board_size
    final_head = ctx.entries.heads.get(final_seq) if final_seq else ctx.election_id
    for name, rel in sorted(files.items()):
        obj = ctx.record.json.get(rel)
        item = {"file": rel, "witness": name}
        problem = statement_problem(obj, pinned, ctx.election_id, pins.hash)
        if problem is not None:
            res.fail("witnesses.invalid", item, reason=problem)
            continue
        assert isinstance(obj, dict)
        if obj["witness"] != name:
            res.fail("witnesses.name", item, found=obj["witness"])
        if obj["seq"] != final_seq or obj["head"] != final_head:
            res.fail("witnesses.not_final", item, seq=obj["seq"], head=obj["head"],
                     final_seq=final_seq)
    res.note("witnesses.count", count=len(files), pinned=len(pinned))
    return res


def check_34_pins_witnesses(ctx: Context) -> CheckResult:
    res = CheckResult(34, "pins.witnesses")
    pins = opening(ctx)
    if pins is None:
        res.fail("dependency", input=OPENING)
        return res
    item = {"file": OPENING}
    listed = pins.obj.get("witnesses")
    if not isinstance(listed, list):
        res.fail("pinwit.shape", item, error="witnesses: not a list")
        return res
    others = {k for k in (pins.board_key, pins.ca_key) if k is not None}
    others |= set(pins.officials.values())
    names: list[str] = []
    keys: set[str] = set()
    for i, w in enumerate(listed):
        if not isinstance(w, dict) or set(w) != {"name", "public_key"}:
            res.fail("pinwit.shape", item, error=f"witnesses[{i}]: not {{name, public_key}}")
            continue
        name, key = w["name"], w["public_key"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            res.fail("pinwit.shape", item, error=f"witnesses[{i}].name: not of the §2.0 form")
            continue
        names.append(name)
        if not isinstance(key, str) or not HEX64_RE.match(key):
            res.fail("pinwit.shape", item, error=f"witnesses[{i}].public_key: not 64 hex")
            continue
        if key in keys or bytes.fromhex(key) in others:
            res.fail("pinwit.key_reused", {**item, "witness": name})
        keys.add(key)
    if names != sorted(set(names)):
        res.fail("pinwit.order", item)
    res.note("pinwit.count", count=len(listed))
    return res


def check_35_board_turnout(ctx: Context) -> CheckResult:
    res = CheckResult(35, "board.turnout")
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests)):
        return res
    assert ctx.entries is not None and ctx.contests is not None
    ballots: dict[str, int] = {c: 0 for c in ctx.contests}
    audits: dict[str, int] = {c: 0 for c in ctx.contests}
    voters: dict[str, set[bytes | str]] = {c: set() for c in ctx.contests}
    for _seq, row in ctx.entries.items():
        name = ctx.entries.contest(row)
        if name not in ballots:
            continue
        if ctx.entries.is_audit(row):  # an audited ballot is never cast (record.md §2.1)
            audits[name] += 1
            continue
        ballots[name] += 1
        voters[name].add(ctx.entries.credential_key(row))
    lists = credential_voters(ctx)
    for cid in ctx.contests:
        res.note("board_turnout.contest", contest=cid, ballots=ballots[cid], voters=len(voters[cid]))
        if audits[cid]:
            res.note("board_turnout.audits", contest=cid, audits=audits[cid])
        if lists is None:
            continue
        size = lists.size(cid)  # version 4: that contest's list and replacements
        if len(voters[cid]) > size:
            res.fail("board_turnout.too_many", {"contest": cid}, voters=len(voters[cid]),
                     credentials=size)
    return res
