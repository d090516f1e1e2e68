"""Checks 37–40 (docs/record.md §5, version 4; docs/manifest.md §4): the election's rules as
data — the manifest and its routing rule, the contests of the credential list, revocations and
board, the seats of the results, and the contests of every tally file.

The record never holds a voter's attribute values, so the routing of a *voter* is not
checkable here: check 37 checks the *rule* (every combination of declared values in exactly one
contest of its electorate), and check 19 that each ballot sits in the contest whose credential
list holds its credential (the CA routed the voter, record.md §6.1–§6.2).
"""
from __future__ import annotations

from typing import Any

from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.checks.pins import credential_list
from verifier.errors import InvalidInput
from verifier.jsonstream import JsonReader
from verifier.manifest import (ELECTORATES, manifest_problems, parse_manifest,
                               routing_problems)
from verifier.record import (COUNTED, CREDENTIALS, ENCRYPTED_TALLY, ENTRIES, MANIFEST, RESULTS,
                             REVOCATIONS)
from verifier.tables import RowMap


# --- check 37 ---------------------------------------------------------------------------------

def check_37_manifest_rules(ctx: Context) -> CheckResult:
    res = CheckResult(37, "manifest.rules")
    manifest = record_json(ctx, MANIFEST)
    if manifest is None:
        res.fail("dependency", input=MANIFEST)
        return res
    item = {"file": MANIFEST}
    for problem in manifest_problems(manifest):
        res.fail("rules.invalid", item, error=problem)
    try:
        parsed = parse_manifest(manifest)
    except InvalidInput as exc:
        res.fail("rules.invalid", item, error=str(exc))
        return res
    problems, too_many = routing_problems(parsed)
    for message in too_many:
        res.fail("rules.invalid", item, error=message)
    for p in problems:
        where = {**item, "electorate": p.electorate}
        if not p.contests:
            res.fail("rules.no_contest", where, combination=p.label)
        else:
            res.fail("rules.several_contests", where, combination=p.label,
                     count=len(p.contests), contests=", ".join(p.contests))
    for electorate in ELECTORATES:
        ids = [c.id for c in parsed.contests.values() if c.electorate == electorate]
        if ids:
            names = ", ".join(a.name for a in parsed.attributes.get(electorate, ())) or "—"
            res.note("rules.electorate", electorate=electorate, contests=", ".join(ids),
                     attributes=names)
    res.note("rules.format", format=parsed.format, contests=len(parsed.contests))
    return res


# --- check 38 ---------------------------------------------------------------------------------

def check_38_credentials_contests(ctx: Context) -> CheckResult:
    res = CheckResult(38, "credentials.contests")
    lst = credential_list(ctx)
    lists = lst.contests if lst is not None else None
    if missing(res, ("manifest contests", ctx.contests), ("credentials.json", lists)):
        return res
    assert ctx.contests is not None and lists is not None
    # the CA's lists: contest ids of the manifest (a contest it issued nothing for is absent)
    for name in sorted(lists):
        if name not in ctx.contests:
            res.fail("contests.credential_list", {"file": CREDENTIALS, "contest": name})
    # every revocation names a contest that has a list (its revoked credential is listed
    # there, or replaces one that was: check 18)
    for line in ctx.record.jsonl(REVOCATIONS):
        r = line.value
        contest = r.get("contest") if isinstance(r, dict) else None
        if not isinstance(contest, str) or contest not in lists or contest not in ctx.contests:
            res.fail("contests.revocation", {"file": REVOCATIONS, "line": line.number},
                     contest=str(contest))
    entries = ctx.entries
    if entries is None:
        res.fail("dependency", input="board entries")
        return res
    first_of_pseudonym = RowMap(entries.pseudonym_key)  # its first entry
    for seq, row in entries.items():
        name = entries.contest(row)
        item = {"file": ENTRIES, "seq": seq, "contest": name}
        if name not in ctx.contests:
            res.fail("contests.entry", item)
            continue
        first = first_of_pseudonym.setdefault(entries.pseudonym_key(row), row)
        if entries.contest(first) != name:  # one route per voter (record.md §6.2)
            res.fail("contests.pseudonym", item, pseudonym=entries.pseudonym(row),
                     other=entries.contest(first), first=entries.seq(first))
    res.note("contests.lists", lists=len(lists), contests=len(ctx.contests))
    return res


# --- check 39 ---------------------------------------------------------------------------------

def check_39_results_seats(ctx: Context) -> CheckResult:
    res = CheckResult(39, "results.seats")
    obj = record_json(ctx, RESULTS)
    if missing(res, (RESULTS, obj), ("manifest contests", ctx.contests)):
        return res
    assert ctx.contests is not None
    contests = obj.get("contests") if isinstance(obj, dict) else None
    if not isinstance(contests, dict):
        res.fail("seats.shape", {"file": RESULTS}, error="results.contests: not an object")
        return res
    for cid, contest in ctx.contests.items():
        c = contests.get(cid)
        item = {"file": RESULTS, "contest": cid}
        if not isinstance(c, dict):
            continue  # check 40 names the missing contest
        seats = c.get("seats")
        if "seats" not in c:
            res.fail("seats.missing", item, expected=contest.seats)
        elif seats != contest.seats or isinstance(seats, bool):
            res.fail("seats.value", item, found=str(seats), expected=contest.seats)
        elected = c.get("elected")
        if not isinstance(elected, list):
            res.fail("seats.shape", item, error="elected: not a list")
            continue
        if len(elected) != contest.seats:
            res.fail("seats.elected_count", item, found=len(elected), expected=contest.seats)
        ids = {cand.id for cand in contest.candidates}
        seen: set[Any] = set()
        for x in elected:
            key = x if isinstance(x, str) else repr(x)
            if key in seen:
                res.fail("seats.elected_twice", {**item, "candidate": key})
            elif x not in ids:
                res.fail("seats.elected_unknown", {**item, "candidate": key})
            seen.add(key)
        res.note("seats.contest", contest=cid, seats=contest.seats, elected=len(elected))
    return res


# --- check 40 ---------------------------------------------------------------------------------

def _counted_contest_ids(ctx: Context) -> list[str] | None:
    """The keys of counted.json's ``contests`` (read as a stream: the file lists every
    ballot), or None if it has no such object."""
    if not ctx.record.has(COUNTED):
        return None
    with JsonReader(ctx.record.root / COUNTED, strict=False) as reader:
        if reader.peek() != "{":
            return None
        for key in reader.keys():
            if key == "contests" and reader.peek() == "{":
                ids = []
                for cid in reader.keys():
                    ids.append(cid)
                    reader.skip()
                return ids
            reader.skip()
    return None


def _keys(res: CheckResult, rel: str, found: Any, expected: set[str]) -> bool:
    """Fail unless ``found`` (an object's ``contests``) has exactly the manifest's ids."""
    if not isinstance(found, (dict, list)):
        res.fail("tally_contests.not_object", {"file": rel})
        return False
    keys = set(found)
    if keys != expected:
        res.fail("tally_contests.keys", {"file": rel},
                 missing=", ".join(sorted(expected - keys)) or "—",
                 extra=", ".join(sorted(keys - expected)) or "—")
        return False
    return True


def _sizes(res: CheckResult, ctx: Context, rel: str, found: Any, field: str) -> None:
    """Fail for each contest whose ``field`` list in ``found`` (keys already checked by
    :func:`_keys`) does not have one entry per candidate of the manifest's contest."""
    assert isinstance(found, dict) and ctx.contests is not None
    for cid, contest in ctx.contests.items():
        c = found[cid]
        values = c.get(field) if isinstance(c, dict) else None
        count = len(values) if isinstance(values, list) else None
        if count != contest.size:
            res.fail(f"tally_contests.{field}", {"file": rel, "contest": cid},
                     found=str(count), expected=contest.size)


def check_40_tally_contests(ctx: Context) -> CheckResult:
    res = CheckResult(40, "tally.contests")
    if missing(res, ("manifest contests", ctx.contests)):
        return res
    assert ctx.contests is not None
    expected = set(ctx.contests)
    if ctx.record.has(COUNTED):
        _keys(res, COUNTED, _counted_contest_ids(ctx), expected)
    else:
        res.fail("dependency", input=COUNTED)
    tally = record_json(ctx, ENCRYPTED_TALLY)
    found = tally.get("contests") if isinstance(tally, dict) else None
    if tally is None:
        res.fail("dependency", input=ENCRYPTED_TALLY)
    elif _keys(res, ENCRYPTED_TALLY, found, expected):
        _sizes(res, ctx, ENCRYPTED_TALLY, found, "ciphertexts")
    for _index, rel in ctx.record.share_files().items():
        obj = ctx.record.json.get(rel)
        shares = obj.get("contests") if isinstance(obj, dict) else None
        if _keys(res, rel, shares, expected):
            _sizes(res, ctx, rel, shares, "shares")
    results = record_json(ctx, RESULTS)
    found = results.get("contests") if isinstance(results, dict) else None
    if results is None:
        res.fail("dependency", input=RESULTS)
    elif _keys(res, RESULTS, found, expected):
        _sizes(res, ctx, RESULTS, found, "candidates")
    res.note("tally_contests.count", contests=len(expected))
    return res
