"""Checks 14–16 (docs/record.md §5): the results — combined from the decryption shares, the
elected candidates (the contest's ``seats``, version 4: §4.4), and the plausibility of the
counts.  The seats themselves are check 39's (:mod:`verifier.checks.contests`)."""
from __future__ import annotations

from typing import Any

from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.encoding import expect_list, expect_object, expect_str, parse_count
from verifier.errors import InvalidInput
from verifier.manifest import Contest
from verifier.record import RESULTS
from verifier.threshold import combine

PLAINTEXT_LIMIT = 1 << 63


def _results_contests(ctx: Context, obj: Any) -> dict[str, dict[str, Any]]:
    assert ctx.contests is not None
    expect_object(obj, ("election_id", "trustees_used", "contests"), "results")
    if not isinstance(obj["contests"], dict) or set(obj["contests"]) != set(ctx.contests):
        raise InvalidInput("results.contests: keys differ from the manifest's contest ids")
    out = {}
    for cid, contest in ctx.contests.items():
        w = f"results.contests.{cid}"
        c = obj["contests"][cid]
        keys = {"counted_ballots", "max_selections", "seats", "candidates", "elected"}
        if not isinstance(c, dict) or not keys <= set(c) <= keys | {"tie_at_last_seat"}:
            raise InvalidInput(f"{w}: keys are not {sorted(keys)} (+ tie_at_last_seat)")
        parse_count(c["counted_ballots"], f"{w}.counted_ballots")
        parse_count(c["max_selections"], f"{w}.max_selections")
        parse_count(c["seats"], f"{w}.seats")
        cands = expect_list(c["candidates"], f"{w}.candidates", contest.size)
        for j, cand in enumerate(cands):
            if not isinstance(cand, dict) or "votes" not in cand:
                raise InvalidInput(f"{w}.candidates[{j}]: no votes")
            parse_count(cand["votes"], f"{w}.candidates[{j}].votes")
        for x in expect_list(c["elected"], f"{w}.elected"):
            expect_str(x, f"{w}.elected[]")
        if "tie_at_last_seat" in c and not isinstance(c["tie_at_last_seat"], bool):
            raise InvalidInput(f"{w}.tie_at_last_seat: not a boolean")
        out[cid] = c
    return out


def check_14_results_combination(ctx: Context) -> CheckResult:
    res = CheckResult(14, "results.combination")
    obj = record_json(ctx, RESULTS)
    if missing(res, (RESULTS, obj), ("manifest contests", ctx.contests),
                ("election key", ctx.key), ("valid decryption shares", ctx.valid_shares),
                ("encrypted tally", ctx.tally)):
        return res
    assert ctx.contests and ctx.key and ctx.valid_shares is not None and ctx.tally is not None
    item = {"file": RESULTS}
    try:
        contests = _results_contests(ctx, obj)
        used = [parse_count(i, "results.trustees_used[]", 1)
                for i in expect_list(obj["trustees_used"], "results.trustees_used")]
    except InvalidInput as exc:
        res.fail("results.shape", item, error=str(exc))
        return res
    ctx.votes = {cid: [int(c["votes"]) for c in contests[cid]["candidates"]]
                 for cid in contests}
    t = ctx.key.threshold
    expected_used = sorted(ctx.valid_shares)[:t]
    if len(expected_used) < t:
        res.fail("results.not_enough_shares", item, valid=len(expected_used), t=t)
    elif used != expected_used:
        res.fail("results.trustees_used", item, found=used, expected=expected_used)
    for cid, contest in ctx.contests.items():
        c = contests[cid]
        citem = {"file": RESULTS, "contest": cid}
        if ctx.tally_counts is not None and c["counted_ballots"] != ctx.tally_counts[cid]:
            res.fail("results.counted_ballots", citem, found=c["counted_ballots"],
                     expected=ctx.tally_counts[cid])
        if c["max_selections"] != contest.max_selections:
            res.fail("results.max_selections", citem, found=c["max_selections"],
                     expected=contest.max_selections)
        for cand, mc in zip(c["candidates"], contest.candidates):
            meta = {k: v for k, v in cand.items() if k != "votes"}
            want = {k: mc.raw.get(k) for k in ("id", "number", "name", "team")}
            if meta != want:
                res.fail("results.candidate", {**citem, "candidate": mc.id})
        if len(expected_used) < t:
            continue
        try:
            plain = combine(ctx.key, {i: ctx.valid_shares[i][cid] for i in expected_used},
                            contest.size)
        except InvalidInput as exc:
            res.fail("results.combine_failed", citem, reason=str(exc))
            continue
        for j, (want_votes, cand, mc) in enumerate(zip(plain, c["candidates"],
                                                       contest.candidates)):
            if want_votes >= PLAINTEXT_LIMIT:
                res.fail("results.plaintext_range", {**citem, "candidate": mc.id})
            elif cand["votes"] != want_votes:
                res.fail("results.count", {**citem, "candidate": mc.id},
                         found=cand["votes"], expected=want_votes)
    res.note("results.used", trustees=expected_used)
    return res


def expected_elected(contest: Contest, votes: list[int]) -> tuple[list[str], bool]:
    """Top ``seats`` by votes, ties broken by the lower ballot number; and the tie-at-last-seat
    flag (docs/record.md §4.4; ``seats`` is the manifest's, ``max_selections`` in format 1)."""
    ranked = sorted(zip(votes, contest.candidates), key=lambda vc: (-vc[0], vc[1].number))
    k = contest.seats
    elected = [c.id for _, c in ranked[:k]]
    tie = len(ranked) > k and ranked[k - 1][0] == ranked[k][0]
    return elected, tie


def check_15_results_elected(ctx: Context) -> CheckResult:
    res = CheckResult(15, "results.elected")
    if missing(res, ("results", ctx.votes), ("manifest contests", ctx.contests)):
        return res
    assert ctx.votes is not None and ctx.contests is not None
    results = ctx.record.json[RESULTS]["contests"]
    for cid, contest in ctx.contests.items():
        item = {"file": RESULTS, "contest": cid}
        want, tie = expected_elected(contest, ctx.votes[cid])
        got = results[cid]["elected"]
        if got != want:  # rank order (docs/record.md §4.4)
            res.fail("elected.mismatch", item, found=got, expected=want)
        if bool(results[cid].get("tie_at_last_seat", False)) != tie:
            res.fail("elected.tie_flag", item, expected=tie)
    return res


def check_16_results_plausible(ctx: Context) -> CheckResult:
    res = CheckResult(16, "results.plausible")
    if missing(res, ("results", ctx.votes), ("manifest contests", ctx.contests)):
        return res
    assert ctx.votes is not None and ctx.contests is not None
    results = ctx.record.json[RESULTS]["contests"]
    for cid, contest in ctx.contests.items():
        counted = results[cid]["counted_ballots"]
        item = {"file": RESULTS, "contest": cid}
        for v, cand in zip(ctx.votes[cid], contest.candidates):
            if v > counted:
                res.fail("plausible.count", {**item, "candidate": cand.id}, votes=v,
                         counted=counted)
        total = sum(ctx.votes[cid])
        if total > contest.max_selections * counted:
            res.fail("plausible.sum", item, total=total,
                     limit=contest.max_selections * counted)
    return res
