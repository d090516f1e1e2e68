"""Check 9 (docs/record.md §5): the proofs of every ballot, batched across the pool."""
from __future__ import annotations

import time
from typing import Any, Iterator

from verifier import arith
from verifier.batch import BallotJob
from verifier.checks.context import CheckResult, Context, missing
from verifier.parallel import iter_verdicts
from verifier.record import BALLOTS
from verifier.tables import SeqSet


def _candidate_item(ctx: Context, contest_id: str, where: str | None) -> dict[str, Any]:
    if where is None:
        return {}
    if where == "sum":
        return {"candidate": "sum-proof"}
    contest = (ctx.contests or {}).get(contest_id)
    if contest is not None and where.isdigit() and int(where) < contest.size:
        return {"candidate": contest.candidates[int(where)].id}
    return {"candidate": where}


def _ballot_context(ctx: Context, seq: int, number: int) -> tuple[str, str]:
    """(contest id, pseudonym) of the ballot ``seq`` (at line ``number``): its board entry's
    (§9.3), or its own line's if it is not on the board."""
    assert ctx.record.ballot_lines is not None
    row = ctx.entries.row(seq) if ctx.entries is not None else None
    if row is not None:
        assert ctx.entries is not None
        return ctx.entries.contest(row), ctx.entries.pseudonym(row)
    value = ctx.record.ballot_lines.line(number).value
    assert value is not None  # only well-formed lines reach ctx.ballots
    return value["contest"], value["pseudonym"]


def _ballot_jobs(ctx: Context) -> Iterator[BallotJob]:
    """A job per ballot of a known contest, in seq order; the worker reads the ballot itself
    from its line (offset, length): nothing big here."""
    assert ctx.ballots is not None and ctx.contests is not None
    assert ctx.record.ballot_lines is not None
    for seq, number in ctx.ballots.items():
        contest_id, pseudonym = _ballot_context(ctx, seq, number)
        contest = ctx.contests.get(contest_id)
        if contest is None:
            continue  # reported by board.ballots
        offset, length = ctx.record.ballot_lines.span(number)
        yield BallotJob(seq, contest.id, pseudonym, contest.size, contest.max_selections, None,
                        offset, length)


def check_09_ballots_proofs(ctx: Context) -> CheckResult:
    res = CheckResult(9, "ballots.proofs")
    if missing(res, ("election key", ctx.key), ("ballots", ctx.ballots),
                ("manifest contests", ctx.contests), ("election id", ctx.election_id)):
        return res
    assert ctx.key and ctx.ballots is not None and ctx.contests and ctx.election_id
    total = sum(1 for seq, number in ctx.ballots.items()
                if _ballot_context(ctx, seq, number)[0] in ctx.contests)
    done = 0
    progress = ctx.options.progress

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress("ballots.proofs", done, total)

    if progress:
        progress("ballots.proofs", 0, total)
    start = time.perf_counter()
    verified = SeqSet()
    # verdicts come in seq order, a chunk at a time: only whether each one verified is kept
    for v in iter_verdicts(ctx.key.n, ctx.election_id, _ballot_jobs(ctx), total,
                           processes=ctx.options.processes, batched=ctx.options.batched,
                           progress=tick, path=str(ctx.record.ballots_path)):
        if v.ok:
            verified.add(v.seq)
            continue
        number = ctx.ballots.get(v.seq)
        assert number is not None
        cid = _ballot_context(ctx, v.seq, number)[0]
        res.fail("proofs.invalid", {"file": BALLOTS, "seq": v.seq, "contest": cid,
                                    **_candidate_item(ctx, cid, v.where)},
                 reason=v.reason or "")
    seconds = time.perf_counter() - start
    ctx.verdicts = verified
    res.note("proofs.summary", count=total, seconds=round(seconds, 3), backend=arith.BACKEND,
             processes=ctx.options.processes,
             mode="batch" if ctx.options.batched else "per-proof")
    return res
