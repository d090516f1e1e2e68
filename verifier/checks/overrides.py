"""Checks 10 and 22 (docs/record.md §2.4, §5): the paper-vote list — its shape, and the
signatures of the two officials pinned in the opening."""
from __future__ import annotations

from typing import Any

from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.checks.pins import opening
from verifier.encoding import expect_list, expect_object, expect_str
from verifier.errors import InvalidInput
from verifier.record import OVERRIDES
from verifier.signatures import signed_body, verify_bytes

OVERRIDES_TYPE = "ssbvote-paper-overrides"  # the "type" of the signed paper overrides
OVERRIDES_KEYS = ("type", "election_id", "opening", "pseudonyms", "at", "signatures")
OFFICIALS = 2  # the list is signed by two distinct officials (propose + approve)


def check_10_overrides_signature(ctx: Context) -> CheckResult:
    res = CheckResult(10, "overrides.signature")
    obj = record_json(ctx, OVERRIDES)
    if missing(res, (OVERRIDES, obj), ("election id", ctx.election_id)):
        return res
    item = {"file": OVERRIDES}
    try:
        expect_object(obj, OVERRIDES_KEYS, "paper_overrides")
        if obj["type"] != OVERRIDES_TYPE:
            raise InvalidInput(f"paper_overrides.type: not {OVERRIDES_TYPE}")
        pseudonyms = [expect_str(p, "paper_overrides.pseudonyms[]")
                      for p in expect_list(obj["pseudonyms"], "paper_overrides.pseudonyms")]
        expect_str(obj["opening"], "paper_overrides.opening")
        expect_str(obj["at"], "paper_overrides.at")
        expect_list(obj["signatures"], "paper_overrides.signatures")
    except InvalidInput as exc:
        res.fail("overrides.shape", item, error=str(exc))
        return res
    ctx.overrides = set(pseudonyms)
    if obj["election_id"] != ctx.election_id:
        res.fail("overrides.election_id", item)
    if pseudonyms != sorted(set(pseudonyms)):
        res.fail("overrides.not_sorted", item)
    res.note("overrides.count", count=len(pseudonyms))
    return res


def check_22_overrides_officials(ctx: Context) -> CheckResult:
    res = CheckResult(22, "overrides.officials")
    obj = record_json(ctx, OVERRIDES)
    pins = opening(ctx)
    if missing(res, (OVERRIDES, obj), ("opening.json", pins)):
        return res
    assert pins is not None
    item: dict[str, Any] = {"file": OVERRIDES}
    if not isinstance(obj, dict) or not isinstance(obj.get("signatures"), list):
        res.fail("dependency", input="paper_overrides.signatures")
        return res
    if obj.get("opening") != pins.hash:
        res.fail("officials.opening", item)
    seen = official_signatures(res, obj, pins, item)
    res.note("officials.signed", officials=", ".join(sorted(seen)) or "—")
    return res


def official_signatures(res: CheckResult, obj: Any, pins: Any, item: dict[str, Any]) -> set[str]:
    """Fail ``res`` unless ``obj`` carries two signatures by two distinct officials pinned in
    the opening over the canonical JSON of ``obj`` without ``signatures`` (record.md §2.4; the
    same for poll extensions §2.7 and lots §4.6); returns the officials who signed."""
    seen: set[str] = set()
    if not isinstance(obj, dict) or not isinstance(obj.get("signatures"), list):
        res.fail("officials.shape", item, error="signatures is not a list")
        return seen
    body = signed_body(obj, "signatures")
    signatures = obj["signatures"]
    if len(signatures) != OFFICIALS:
        res.fail("officials.count", item, count=len(signatures))
    for i, s in enumerate(signatures):
        where = dict(item)
        try:
            expect_object(s, ("official", "signature"), f"signatures[{i}]")
            name = expect_str(s["official"], f"signatures[{i}].official")
        except InvalidInput as exc:
            res.fail("officials.shape", where, error=str(exc))
            continue
        where["official"] = name
        if name in seen:
            res.fail("officials.twice", where)
            continue
        seen.add(name)
        key = pins.officials.get(name)
        if key is None:
            res.fail("officials.unpinned", where)
        elif not verify_bytes(key, s["signature"], body):
            res.fail("officials.signature", where)
    return seen
