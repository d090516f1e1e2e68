"""Check 9 (docs/record.md §5): the proofs of every ballot on the board, batched across the
pool, with the ballot party ``<pseudonym>/<credential>`` of its entry (docs/protocol.md §3)."""
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


def _ballot_context(ctx: Context, seq: int) -> tuple[str, str] | None:
    """(contest id, ballot party) of the ballot ``seq``: its board entry's contest and
    ``<pseudonym>/<credential>`` (docs/protocol.md §3, §13.4); None for a ballot line with no
    board entry (board.ballots names it: it is not on the board, and has no credential)."""
    row = ctx.entries.row(seq) if ctx.entries is not None else None
    if row is None:
        return None
    assert ctx.entries is not None
    return (ctx.entries.contest(row),
            f"{ctx.entries.pseudonym(row)}/{ctx.entries.credential(row)}")


def _ballot_jobs(ctx: Context) -> Iterator[BallotJob]:
    """A job per ballot of a known contest on the board, in seq order; the worker reads the
    ballot itself from its line (offset, length): nothing big here."""
    assert ctx.ballots is not None and ctx.contests is not None
    assert ctx.record.ballot_lines is not None
    for seq, number in ctx.ballots.items():
        if seq <= ctx.options.proofs_after:
            continue  # follow mode: verified in an earlier round (record.md §3.3)
        context = _ballot_context(ctx, seq)
        contest = ctx.contests.get(context[0]) if context is not None else None
        if contest is None or context is None:
            continue  # reported by board.ballots
        offset, length = ctx.record.ballot_lines.span(number)
        yield BallotJob(seq, contest.id, context[1], contest.size, contest.max_selections,
                        None, offset, length)


def check_09_ballots_proofs(ctx: Context) -> CheckResult:
    res = CheckResult(9, "ballots.proofs")
    if missing(res, ("election key", ctx.key), ("ballots", ctx.ballots),
                ("manifest contests", ctx.contests), ("election id", ctx.election_id)):
        return res
    assert ctx.key and ctx.ballots is not None and ctx.contests and ctx.election_id
    total = sum(1 for seq, _ in ctx.ballots.items()
                if seq > ctx.options.proofs_after
                and (c := _ballot_context(ctx, seq)) is not None and c[0] in ctx.contests)
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
        context = _ballot_context(ctx, v.seq)
        assert context is not None
        cid = context[0]
        res.fail("proofs.invalid", {"file": BALLOTS, "seq": v.seq, "contest": cid,
                                    **_candidate_item(ctx, cid, v.where)},
                 reason=v.reason or "")
    seconds = time.perf_counter() - start
    ctx.verdicts = verified
    res.note("proofs.summary", count=total, seconds=round(seconds, 3), backend=arith.BACKEND,
             processes=ctx.options.processes,
             mode="batch" if ctx.options.batched else "per-proof")
    return res
