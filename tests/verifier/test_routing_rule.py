"""Check 37 ``manifest.rules`` (docs/record.md §5, version 4; docs/manifest.md §1, §4): the
manifest is a valid format 1 or 2 manifest and its routing rule holds — every combination of
an electorate's declared attribute values is eligible for exactly one of its contests.

The property test draws random declarations and filters and decides the rule by its own
enumeration (each contest's covered combinations as a product of its allowed values, counted),
not by the verifier's (which tests every combination against every contest's filter)."""
from __future__ import annotations

import copy
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.checks import CheckResult, Context, Options
from verifier.checks.contests import check_37_manifest_rules
from verifier.checks.results import expected_elected
from verifier.i18n import message
from verifier.manifest import (Candidate, Contest, manifest_problems, parse_manifest,
                               routing_problems)
from verifier.record import MANIFEST, Record


def text(s: str) -> dict[str, str]:
    return {"th": s + " (th)", "en": s}


def contest(cid: str, electorate: str = "insured", eligibility: dict[str, list[str]] | None = None,
            candidates: int = 3, k: int = 1, seats: int = 2) -> dict[str, Any]:
    c: dict[str, Any] = {
        "id": cid, "electorate": electorate, "max_selections": k, "seats": seats,
        "title": text(cid), "teams": [{"id": "T", "name": text("team")}],
        "candidates": [{"id": f"{cid}-{i}", "number": i, "name": text(f"{cid} {i}"),
                        "team": "T" if i % 2 else None} for i in range(1, candidates + 1)]}
    if eligibility is not None:
        c["eligibility"] = eligibility
    return c


def manifest2(contests: list[dict[str, Any]],
              attributes: dict[str, list[tuple[str, list[str]]]] | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "format": "ssbvote-manifest/2", "election": "rules-test", "title": text("Rules"),
        "poll_window": {"opens": "2026-12-20T08:00:00+07:00",
                        "closes": "2026-12-27T16:00:00+07:00"},
        "contests": contests}
    if attributes is not None:
        m["roll_attributes"] = {e: [{"name": n, "title": text(n), "values": list(vs)}
                                    for n, vs in decls] for e, decls in attributes.items()}
    return m


SECTIONS = {"insured": [("section", ["33", "39", "40"])]}


def sections() -> dict[str, Any]:
    """The example of docs/manifest.md §4.5."""
    return manifest2([contest("insured-33", eligibility={"section": ["33"]}),
                      contest("insured-39", eligibility={"section": ["39"]}),
                      contest("insured-40", eligibility={"section": ["40"]}),
                      contest("employer", "employer", seats=3)], SECTIONS)


def run37(manifest: Any) -> CheckResult:
    ctx = Context(Record(Path("/nonexistent"), json={MANIFEST: manifest}), Options())
    return check_37_manifest_rules(ctx)


def routing_failures(res: CheckResult) -> set[tuple[str, str]]:
    """(combination, contests) of each routing failure ("" for no contest)."""
    return {(f.params["combination"], f.params.get("contests", ""))
            for f in res.failures if f.code in ("rules.no_contest", "rules.several_contests")}


# --- examples -----------------------------------------------------------------------------------

def test_the_sections_example_passes() -> None:
    res = run37(sections())
    assert res.passed, res.failures
    assert {n.params["electorate"]: n.params["contests"] for n in res.notes
            if n.code == "rules.electorate"} == {"insured": "insured-33, insured-39, insured-40",
                                                 "employer": "employer"}


def test_a_section_in_no_contest_is_named() -> None:
    m = sections()
    del m["contests"][1]  # nobody routes section 39
    res = run37(m)
    assert [f.code for f in res.failures] == ["rules.no_contest"]
    (f,) = res.failures
    assert f.item == {"file": MANIFEST, "electorate": "insured"}
    assert f.params == {"combination": "insured section=39"}
    assert "insured section=39 is in no contest" in message(f.code, f.params, "en")
    assert "insured section=39" in message(f.code, f.params, "th")
    problems, _ = routing_problems(parse_manifest(m))
    assert [str(p) for p in problems] == ["contests: insured section=39 is in no contest"]


def test_overlapping_filters_name_the_combination_and_the_contests() -> None:
    m = sections()
    m["contests"].insert(3, contest("insured-all"))  # unfiltered: every section twice
    res = run37(m)
    assert routing_failures(res) == {
        ("insured section=33", "insured-33, insured-all"),
        ("insured section=39", "insured-39, insured-all"),
        ("insured section=40", "insured-40, insured-all")}
    problems, _ = routing_problems(parse_manifest(m))
    assert str(problems[0]) == "contests: insured section=33 is in 2 contests (insured-33, insured-all)"
    f = res.failures[0]
    assert "is in 2 contests (insured-33, insured-all)" in message(f.code, f.params, "en")
    assert "(insured-33, insured-all)" in message(f.code, f.params, "th")


def test_format_1_is_read_as_one_unfiltered_contest_per_electorate() -> None:
    m1 = {"format": "ssbvote-manifest/1", "election": "board-2026", "title": text("Board"),
          "poll_window": {"opens": "2026-12-20T08:00:00+07:00",
                          "closes": "2026-12-27T16:00:00+07:00"},
          "contests": [{k: v for k, v in contest("insured", k=2).items() if k != "seats"},
                       {k: v for k, v in contest("employer", "employer", k=2).items()
                        if k != "seats"}]}
    assert run37(m1).passed
    parsed = parse_manifest(m1)
    assert [c.seats for c in parsed.contests.values()] == [2, 2]  # seats = max_selections
    m1["contests"][1]["electorate"] = "insured"  # two contests for the insured
    res = run37(m1)
    assert routing_failures(res) == {("insured", "insured, employer")}
    assert "seats" not in str(manifest_problems(m1))


def test_an_electorate_without_attributes_needs_one_unfiltered_contest() -> None:
    m = sections()
    m["contests"].append(contest("employer-b", "employer"))
    assert routing_failures(run37(m)) == {("employer", "employer, employer-b")}


def test_two_attributes_name_every_value() -> None:
    m = manifest2([contest("a", eligibility={"section": ["33"], "region": ["n"]}),
                   contest("b", eligibility={"section": ["33"], "region": ["s"]}),
                   contest("c", eligibility={"section": ["39"]}),
                   contest("e", "employer")],
                  {"insured": [("section", ["33", "39", "40"]), ("region", ["n", "s"])]})
    assert routing_failures(run37(m)) == {("insured section=40 region=n", ""),
                                          ("insured section=40 region=s", "")}


# --- the rest of the manifest's rules (§1, §4.1) -------------------------------------------------

def invalid(change: str) -> dict[str, Any]:
    m = sections()
    c0 = m["contests"][0]
    if change == "seats above candidates":
        c0["seats"] = 4
    elif change == "no seats":
        del c0["seats"]
    elif change == "undeclared attribute":
        c0["eligibility"] = {"region": ["n"]}
    elif change == "undeclared value":
        c0["eligibility"] = {"section": ["33", "41"]}
    elif change == "empty filter":
        c0["eligibility"] = {"section": []}
    elif change == "roll column":
        m["roll_attributes"]["insured"][0]["name"] = "date_of_birth"
    elif change == "electorate without contests":
        m["contests"] = [c for c in m["contests"] if c["electorate"] == "insured"]
        m["roll_attributes"]["employer"] = [{"name": "size", "title": text("size"),
                                              "values": ["s"]}]
    elif change == "value twice":
        m["roll_attributes"]["insured"][0]["values"] = ["33", "33", "39", "40"]
    elif change == "bad value":
        m["roll_attributes"]["insured"][0]["values"].append("4 0")
    elif change == "unknown field":
        c0["routes"] = "x"
    elif change == "51 contests":
        m["contests"] += [contest(f"x{i}", eligibility={"section": ["40"]}) for i in range(48)]
    elif change == "bad contest id":
        c0["id"] = "-bad"
    elif change == "unknown team":
        c0["candidates"][0]["team"] = "nobody"
    elif change == "k above candidates":
        c0["max_selections"] = 4
    elif change == "title":
        m["title"] = {"th": "", "en": "x"}
    elif change == "poll window":
        m["poll_window"]["closes"] = "2026-12-19T08:00:00+07:00"
    else:
        raise AssertionError(change)
    return m


CHANGES = {"seats above candidates": "contests[0].seats", "no seats": "contests[0].seats",
           "undeclared attribute": "contests[0].eligibility.region",
           "undeclared value": "contests[0].eligibility.section",
           "empty filter": "contests[0].eligibility.section",
           "roll column": "roll_attributes.insured[0].name",
           "electorate without contests": "roll_attributes.employer",
           "value twice": "roll_attributes.insured[0].values",
           "bad value": "roll_attributes.insured[0].values", "unknown field": "contests[0].routes",
           "51 contests": "contests:", "bad contest id": "contests[0].id",
           "unknown team": "contests[0].candidates[0].team",
           "k above candidates": "contests[0].max_selections", "title": "title.th",
           "poll window": "poll_window"}


def test_every_invalid_manifest_fails_naming_the_field() -> None:
    for change, field in CHANGES.items():
        res = run37(invalid(change))
        errors = [f.params.get("error", "") for f in res.failures if f.code == "rules.invalid"]
        assert any(e.startswith(field) or f"{field}" in e for e in errors), (change, errors)
        assert not res.passed


def test_more_than_10000_combinations_are_refused() -> None:
    m = manifest2([contest("all"), contest("e", "employer")],
                  {"insured": [("a", [f"v{i}" for i in range(30)]),
                               ("b", [f"w{i}" for i in range(30)]),
                               ("c", [f"x{i}" for i in range(12)])]})
    res = run37(m)
    assert [f.code for f in res.failures] == ["rules.invalid"]
    assert "10800 combinations" in res.failures[0].params["error"]


def test_not_a_manifest() -> None:
    for bad in ([], {"format": "ssbvote-manifest/3"}, {"format": "ssbvote-manifest/2"}):
        assert not run37(bad).passed


def test_elected_takes_the_seats_not_k() -> None:
    cands = tuple(Candidate(f"c{i}", i, {}) for i in range(1, 6))
    one_vote_three_seats = Contest("x", 1, cands, "insured", seats=3)
    assert expected_elected(one_vote_three_seats, [5, 9, 9, 1, 4]) == (["c2", "c3", "c1"], False)
    assert expected_elected(one_vote_three_seats, [5, 9, 4, 1, 5]) == (["c2", "c1", "c5"], False)
    assert expected_elected(one_vote_three_seats, [5, 9, 5, 5, 4]) == (["c2", "c1", "c3"], True)
    assert Contest("y", 2, cands).seats == 2  # format 1: seats = max_selections


# --- the property -------------------------------------------------------------------------------

VALUES = ["a", "b", "c", "d"]


@st.composite
def declarations_and_contests(draw: st.DrawFn) -> dict[str, Any]:
    attributes: dict[str, list[tuple[str, list[str]]]] = {}
    contests: list[dict[str, Any]] = []
    for electorate in ("insured", "employer"):
        n_attrs = draw(st.integers(0, 3))
        decls = [(f"attr{i}", VALUES[:draw(st.integers(1, 4))]) for i in range(n_attrs)]
        if decls:
            attributes[electorate] = decls
        for j in range(draw(st.integers(1, 4))):
            filt: dict[str, list[str]] = {}
            for name, values in decls:
                if draw(st.booleans()):
                    filt[name] = draw(st.lists(st.sampled_from(values), min_size=1,
                                               unique=True))
            contests.append(contest(f"{electorate}-{j}", electorate,
                                    filt if filt or draw(st.booleans()) else None))
    return manifest2(contests, attributes)


def own_routing(m: dict[str, Any]) -> tuple[bool, set[tuple[str, str]]]:
    """The rule of docs/manifest.md §4.2 decided here: count, per electorate, how many contests
    cover each combination — a contest covers the product of, per declared attribute, its
    filter's values (or all declared values when it does not filter it)."""
    ok = True
    problems: set[tuple[str, str]] = set()
    for electorate in ("insured", "employer"):
        decls = [(d["name"], d["values"]) for d in m.get("roll_attributes", {}).get(electorate, [])]
        covering: dict[tuple[str, ...], list[str]] = {}
        for c in m["contests"]:
            if c["electorate"] != electorate:
                continue
            filt = c.get("eligibility", {})
            for combo in itertools.product(*(filt.get(name, values) for name, values in decls)):
                covering.setdefault(combo, []).append(c["id"])
        counts = Counter({combo: len(ids) for combo, ids in covering.items()})
        for combo in itertools.product(*(values for _, values in decls)):
            if counts[combo] != 1:
                ok = False
                label = " ".join([electorate] + [f"{n}={v}" for (n, _), v in zip(decls, combo)])
                problems.add((label, ", ".join(covering.get(combo, []))))
    return ok, problems


@settings(max_examples=300, deadline=None)
@given(declarations_and_contests())
def test_routing_passes_iff_every_combination_is_in_exactly_one_contest(m: dict[str, Any]) -> None:
    ok, problems = own_routing(m)
    before = copy.deepcopy(m)
    res = run37(m)
    assert m == before
    assert manifest_problems(m) == []  # only the routing rule is at stake
    assert res.passed == ok, (res.failures, problems)
    assert routing_failures(res) == problems
