"""Checks 41 and 42 (docs/record.md §2.7, §4.6, §5): the two-official decisions besides the
paper-vote list — poll extensions and lots at a tied last seat — and the close in force that
check 21 uses.  Their signatures are checked exactly as the paper-vote list's (check 22,
:func:`verifier.checks.overrides.official_signatures`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.checks.overrides import official_signatures
from verifier.checks.pins import Pins, opening
from verifier.errors import InvalidInput
from verifier.manifest import parse_poll_window
from verifier.record import EXTENSIONS, LOTS, MANIFEST, RESULTS

EXTENSION_TYPE = "ssbvote-poll-extension"
EXTENSION_KEYS = ("type", "election_id", "opening", "closes", "previous_closes", "reason", "at",
                  "signatures")
LOT_TYPE = "ssbvote-lot"
LOT_KEYS = ("type", "election_id", "opening", "contest", "tied", "seats", "chosen", "at", "signatures")
MAX_EXTENSIONS = 3
MAX_EXTENSION = timedelta(hours=24)
REASON_MAX = 500
UTC_AT_LEN = len("2026-12-20T01:02:03.123456Z")


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"{what}: not a string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{what}: not an ISO 8601 timestamp") from None
    if t.tzinfo is None:
        raise InvalidInput(f"{what}: no time zone")
    return t


def _utc_at(value: Any, what: str) -> datetime:
    """``at``: UTC ISO with microseconds and Z (record.md §2.1's form)."""
    if not isinstance(value, str) or len(value) != UTC_AT_LEN or not value.endswith("Z"):
        raise InvalidInput(f"{what}: not UTC ISO 8601 with microseconds and Z")
    t = _time(value[:-1] + "+00:00", what)
    return t


def _extension_findings(ext: Any, number: int, close: datetime, opens: datetime,
                        previous_at: datetime | None, election_id: str | None,
                        pins: Pins) -> tuple[list[tuple[str, dict[str, Any]]], datetime, datetime]:
    """(failures as (code, params), its closes, its at) of extension ``number``; raises
    InvalidInput if its shape is wrong."""
    if not isinstance(ext, dict) or tuple(sorted(ext)) != tuple(sorted(EXTENSION_KEYS)):
        raise InvalidInput("not exactly the keys of a poll extension (record.md §2.7)")
    closes = _time(ext["closes"], "closes")
    previous = _time(ext["previous_closes"], "previous_closes")
    at = _utc_at(ext["at"], "at")
    out: list[tuple[str, dict[str, Any]]] = []
    if ext["type"] != EXTENSION_TYPE:
        out.append(("extensions.type", {}))
    if ext["election_id"] != election_id:
        out.append(("extensions.election_id", {}))
    if ext["opening"] != pins.hash:
        out.append(("extensions.opening", {}))
    if number > MAX_EXTENSIONS:
        out.append(("extensions.too_many", {"limit": MAX_EXTENSIONS}))
    reason = ext["reason"]
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_MAX:
        out.append(("extensions.reason", {"limit": REASON_MAX}))
    if previous != close:
        out.append(("extensions.chain", {"previous_closes": ext["previous_closes"],
                                         "close": close.isoformat()}))
    if not closes > close:
        out.append(("extensions.not_later", {"closes": ext["closes"], "close": close.isoformat()}))
    elif closes - close > MAX_EXTENSION:
        out.append(("extensions.too_long", {"closes": ext["closes"], "close": close.isoformat()}))
    if not opens <= at < close:
        out.append(("extensions.after_close", {"at": ext["at"], "close": close.isoformat()}))
    if previous_at is not None and at < previous_at:
        out.append(("extensions.order", {"at": ext["at"]}))
    return out, closes, at


def extensions(ctx: Context) -> dict[str, Any] | None:
    """What check 41 finds (computed once, kept in ``ctx.loaded``): ``findings`` (line, code,
    params), ``count`` and ``close`` — the close in force after the extensions that pass, in
    order, up to the first that does not (check 21).  None if the manifest's window or the
    opening is unreadable."""
    if "extensions" in ctx.loaded:
        return ctx.loaded["extensions"]  # type: ignore[no-any-return]
    result: dict[str, Any] | None = None
    manifest = record_json(ctx, MANIFEST)
    pins = opening(ctx)
    try:
        opens, close = parse_poll_window(manifest)
    except InvalidInput:
        opens = close = None  # type: ignore[assignment]
    if close is not None and pins is not None:
        findings: list[tuple[int, str, dict[str, Any]]] = []
        in_force, valid, previous_at = close, True, None
        lines = list(ctx.record.jsonl(EXTENSIONS))
        for line in lines:
            try:
                found, closes, at = _extension_findings(line.value, line.number, in_force, opens,
                                                        previous_at, ctx.election_id, pins)
            except InvalidInput as exc:
                findings.append((line.number, "extensions.shape", {"error": str(exc)}))
                valid = False
                continue
            sig = CheckResult(41, "")
            official_signatures(sig, line.value, pins, {})
            found += [(f.code, f.params) for f in sig.failures]
            findings += [(line.number, code, params) for code, params in found]
            if found:
                valid = False
            elif valid:
                in_force, previous_at = closes, at
        result = {"findings": findings, "count": len(lines), "close": in_force, "opens": opens}
    ctx.loaded["extensions"] = result
    return result


def check_41_poll_extensions(ctx: Context) -> CheckResult:
    res = CheckResult(41, "poll.extensions")
    found = extensions(ctx)
    if found is None:
        res.fail("dependency", input="manifest.json poll_window and opening.json")
        return res
    for number, code, params in found["findings"]:
        res.fail(code, {"file": EXTENSIONS, "line": number}, **params)
    if not found["count"]:
        res.note("extensions.none")
    else:
        res.note("extensions.count", count=found["count"],
                 close=found["close"].astimezone(timezone.utc).isoformat())
    return res


def _tie(contest: dict[str, Any], seats: int) -> tuple[list[str], int] | None:
    """(tied ids sorted, seats they compete for) if the last seat is tied (record.md §4.6)."""
    candidates = contest["candidates"]
    if seats <= 0 or len(candidates) <= seats:
        return None
    ranked = sorted(candidates, key=lambda c: (-c["votes"], c["number"]))
    last = ranked[seats - 1]["votes"]
    if ranked[seats]["votes"] != last:
        return None
    return (sorted(c["id"] for c in candidates if c["votes"] == last),
            seats - sum(1 for c in candidates if c["votes"] > last))


def seats(contest: dict[str, Any]) -> int:
    """A contest's seats (record.md §4.6): results.json's ``seats``, else ``max_selections``."""
    return int(contest.get("seats", contest["max_selections"]))


def check_42_results_lots(ctx: Context) -> CheckResult:
    res = CheckResult(42, "results.lots")
    results = record_json(ctx, RESULTS)
    pins = opening(ctx)
    if missing(res, (RESULTS, results), ("opening.json", pins)):
        return res
    assert pins is not None
    obj = record_json(ctx, LOTS)
    lots: list[Any] = []
    if obj is not None:
        if not isinstance(obj, dict) or set(obj) != {"lots"} or not isinstance(obj["lots"], list):
            res.fail("lots.shape", {"file": LOTS}, error='not {"lots": [...]}')
            return res
        lots = obj["lots"]
    try:
        contests = results["contests"]
        ties = {cid: _tie(c, seats(c)) for cid, c in contests.items() if c.get("tie_at_last_seat")}
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        res.fail("dependency", input=f"results.json ({exc})")
        return res
    decided: list[str] = []
    for i, lot in enumerate(lots):
        item: dict[str, Any] = {"file": LOTS, "line": i + 1}
        if not isinstance(lot, dict) or tuple(sorted(lot)) != tuple(sorted(LOT_KEYS)):
            res.fail("lots.shape", item, error=f"lots[{i}]: not exactly the keys of a lot")
            continue
        contest = lot["contest"]
        item["contest"] = contest
        if lot["type"] != LOT_TYPE:
            res.fail("lots.type", item)
        if lot["election_id"] != ctx.election_id:
            res.fail("lots.election_id", item)
        if lot["opening"] != pins.hash:
            res.fail("lots.opening", item)
        try:
            _utc_at(lot["at"], "at")
        except InvalidInput as exc:
            res.fail("lots.shape", item, error=str(exc))
        if contest in decided or (decided and isinstance(contest, str) and contest < decided[-1]):
            res.fail("lots.order", item)
        decided.append(contest if isinstance(contest, str) else "")
        tie = ties.get(contest) if isinstance(contest, str) else None
        if tie is None:
            res.fail("lots.no_tie", item)
        else:
            tied, count = tie
            if lot["tied"] != tied:
                res.fail("lots.tied", item, tied=", ".join(tied))
            if lot["seats"] != count or isinstance(lot["seats"], bool):
                res.fail("lots.seats", item, seats=count)
            chosen = lot["chosen"]
            if (not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen)
                    or chosen != sorted(set(chosen)) or not set(chosen) <= set(tied)
                    or len(chosen) != count):
                res.fail("lots.chosen", item, seats=count)
        official_signatures(res, lot, pins, item)
    for contest in sorted(ties):
        if contest not in decided:
            res.note("lots.undecided", contest=contest)
    res.note("lots.count", count=len(lots))
    return res
