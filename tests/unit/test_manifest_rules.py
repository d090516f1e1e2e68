"""Manifest format 2 (docs/manifest.md §4): roll attributes, eligibility filters, seats, the
static routing rule, and rolls with attribute columns (§4.3)."""
from __future__ import annotations

import copy
import io
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election.errors import ManifestInvalid
from election.manifest import Manifest, validate
from election.roll import RollInvalid, parse_roll
from tools.scenario import EXAMPLES, national_ids


def sections() -> dict[str, Any]:
    return json.loads((EXAMPLES / "sections-manifest.json").read_text(encoding="utf-8"))


def small_v1() -> dict[str, Any]:
    return json.loads((EXAMPLES / "small-manifest.json").read_text(encoding="utf-8"))


def test_sections_example_is_valid_and_routes_each_section() -> None:
    m = Manifest.from_dict(sections())
    assert m.format == 2
    assert [c.id for c in m.contests_of("insured")] == ["insured-33", "insured-39", "insured-40"]
    for section in ("33", "39", "40"):
        assert m.route("insured", {"section": section}).id == f"insured-{section}"
    assert m.route("employer", {}).id == "employer"
    assert (m.contest("insured-33").seats, m.contest("insured-33").max_selections) == (5, 1)
    assert m.contest("employer").seats == 7
    assert m.contest_for("insured") is None  # routed by attribute, not by electorate
    with pytest.raises(ValueError, match="no insured contest for section=41"):
        m.route("insured", {"section": "41"})


def test_format_1_reads_as_format_2() -> None:
    m = Manifest.from_dict(small_v1())
    assert m.format == 1 and m.roll_attributes == {}
    for c in m.contests:
        assert c.seats == c.max_selections and c.eligibility == ()
        assert m.route(c.electorate, {}) is c


def problems_of(manifest: dict[str, Any]) -> list[str]:
    return validate(manifest)


def with_(manifest: dict[str, Any], change: Any) -> dict[str, Any]:
    result = copy.deepcopy(manifest)
    change(result)
    return result


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["contests"][1]["eligibility"].update(section=["33"]),
     "contests: insured section=33 is in 2 contests (insured-33, insured-39)"),
    (lambda m: m["contests"][1].pop("eligibility"),
     "contests: insured section=33 is in 2 contests (insured-33, insured-39)"),
    (lambda m: m["contests"].pop(1), "contests: insured section=39 is in no contest"),
    (lambda m: m["contests"][0]["eligibility"].update(section=["41"]),
     "contests[0].eligibility.section[0]: '41' is not one of 33, 39, 40"),
    (lambda m: m["contests"][0]["eligibility"].update(region=["x"]),
     "contests[0].eligibility.region: not an attribute declared for the insured electorate"),
    (lambda m: m["contests"][0]["eligibility"].update(section=[]),
     "contests[0].eligibility.section: must be a non-empty list"),
    (lambda m: m["contests"][0]["eligibility"].update(section=["33", "33"]),
     "contests[0].eligibility.section[1]: duplicate value '33'"),
    (lambda m: m["contests"][0].update(seats=0), "contests[0].seats: must be a whole number"),
    (lambda m: m["contests"][0].update(seats=99), "contests[0].seats: 99 is more than the 16"),
    (lambda m: m["contests"][0].pop("seats"), "contests[0].seats: missing field"),
    (lambda m: m["contests"][0].update(max_selections=0), "contests[0].max_selections"),
    (lambda m: m["roll_attributes"]["insured"][0].update(name="national_id"),
     "roll_attributes.insured[0].name: 'national_id' is a column of the roll itself"),
    (lambda m: m["roll_attributes"]["insured"][0].update(name="Section"),
     "roll_attributes.insured[0].name: must match"),
    (lambda m: m["roll_attributes"]["insured"][0].update(values=["33", "33"]),
     "roll_attributes.insured[0].values[1]: duplicate value '33'"),
    (lambda m: m["roll_attributes"]["insured"][0].update(values=[]),
     "roll_attributes.insured[0].values: must be a non-empty list"),
    (lambda m: m["roll_attributes"]["insured"][0].update(values=[" 33"]),
     "roll_attributes.insured[0].values[0]: must match"),
    (lambda m: m["roll_attributes"]["insured"].append(dict(m["roll_attributes"]["insured"][0])),
     "roll_attributes.insured[1].name: duplicate attribute 'section'"),
    (lambda m: m["roll_attributes"].update(pensioner=[]), "roll_attributes.pensioner: unknown electorate"),
    (lambda m: m["roll_attributes"].update(employer=[{"name": "size", "title": {"th": "ก", "en": "S"},
                                                      "values": ["s"]}]) or m["contests"].pop(),
     "roll_attributes.employer: declared, but there is no employer contest"),
    (lambda m: m["roll_attributes"]["insured"].extend(
        [{"name": f"a{i}", "title": {"th": "ก", "en": "A"}, "values": [str(v) for v in range(10)]}
         for i in range(4)]),
     "roll_attributes.insured: 30000 combinations of values (at most 10000)"),
    (lambda m: m["contests"].extend(copy.deepcopy(m["contests"][-1]) for _ in range(50)),
     "contests: at most 50 contests"),
    (lambda m: m["contests"].append(dict(m["contests"][-1], id="employer-2")),
     "contests: employer every voter is in 2 contests (employer, employer-2)"),
    (lambda m: m["contests"][0].update(colour="red"), "contests[0].colour: unknown field"),
])
def test_bad_format_2_is_refused_with_field_path(change: Any, message: str) -> None:
    problems = problems_of(with_(sections(), change))
    assert any(message in p for p in problems), problems
    with pytest.raises(ManifestInvalid):
        Manifest.from_dict(with_(sections(), change))


@pytest.mark.parametrize("field", ["roll_attributes", "seats", "eligibility"])
def test_format_1_refuses_format_2_fields(field: str) -> None:
    m = small_v1()
    if field == "roll_attributes":
        m["roll_attributes"] = {}
    else:
        m["contests"][0][field] = 1 if field == "seats" else {}
    assert any("unknown field" in p for p in validate(m))


def test_format_1_still_allows_one_contest_per_electorate_only() -> None:
    m = small_v1()
    m["contests"].append(dict(m["contests"][0], id="other"))
    assert any("a second contest for the insured electorate" in p for p in validate(m))
    m["format"] = "ssbvote-manifest/2"
    for c in m["contests"]:
        c["seats"] = c["max_selections"]
    assert validate(m) == ["contests: insured every voter is in 2 contests (insured, other)"]


# --- property: validate() accepts iff every combination routes to exactly one contest -------

_values = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)


@st.composite
def declarations_and_contests(draw: st.DrawFn) -> tuple[dict[str, list[str]], list[dict[str, list[str]]]]:
    names = draw(st.lists(st.sampled_from(["x", "y", "z"]), max_size=3, unique=True))
    declared = {n: draw(_values) for n in names}
    contests = []
    for _ in range(draw(st.integers(1, 4))):
        keys = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        contests.append({k: draw(st.lists(st.sampled_from(declared[k]), min_size=1, unique=True))
                         for k in keys})
    return declared, contests


def manifest_of(declared: dict[str, list[str]], filters: list[dict[str, list[str]]]) -> dict[str, Any]:
    m = small_v1()
    m["format"] = "ssbvote-manifest/2"
    template = m["contests"][0]
    template["seats"] = 1
    if declared:
        m["roll_attributes"] = {"insured": [{"name": n, "title": {"th": "ก", "en": "A"}, "values": v}
                                            for n, v in declared.items()]}
    m["contests"] = [dict(copy.deepcopy(template), id=f"c{i}", **({"eligibility": f} if f else {}))
                     for i, f in enumerate(filters)]
    return m


@settings(max_examples=300, deadline=None)
@given(declarations_and_contests())
def test_validate_accepts_iff_every_combination_routes_to_one(
        case: tuple[dict[str, list[str]], list[dict[str, list[str]]]]) -> None:
    declared, filters = case
    names = list(declared)
    exactly_one = all(
        sum(all(dict(zip(names, combo))[k] in allowed for k, allowed in f.items()) for f in filters) == 1
        for combo in itertools.product(*(declared[n] for n in names)))
    manifest = manifest_of(declared, filters)
    problems = validate(manifest)
    assert (problems == []) == exactly_one, problems
    if exactly_one:
        m = Manifest.from_dict(manifest)
        for combo in itertools.product(*(declared[n] for n in names)):
            values = dict(zip(names, combo))
            routed = m.route("insured", values)
            assert all(values[k] in allowed for k, allowed in dict(routed.eligibility).items())


# --- rolls with attribute columns (§4.3) -------------------------------------------------------


def roll_text(rows: list[tuple[str, str]], header: str = "national_id,date_of_birth,name,section") -> str:
    ids = national_ids(len(rows), seed=5)
    cols = header.split(",")
    lines = [header]
    for nid, (section, name) in zip(ids, rows):
        values = {"national_id": nid, "date_of_birth": "1980-01-02", "name": name, "section": section}
        lines.append(",".join(values[c] for c in cols))
    return "\n".join(lines) + "\n"


def test_roll_with_sections_routes_each_entry() -> None:
    m = Manifest.from_dict(sections())
    roll = parse_roll(io.StringIO(roll_text([("33", "a"), ("40", "b"), ("39", "c")])), manifest=m)
    assert roll.attribute_names == ("section",)
    assert roll.attributes(1) == {"section": "40"}
    assert roll.routes(m) == ["insured-33", "insured-40", "insured-39"]


def test_roll_value_not_declared_is_refused_with_line_number() -> None:
    m = Manifest.from_dict(sections())
    text = roll_text([("33", "a"), ("41", "b"), (" 39", "c"), ("", "d")])
    with pytest.raises(RollInvalid) as excinfo:
        parse_roll(io.StringIO(text), manifest=m)
    assert excinfo.value.problems == [
        'line 3: section: \'41\' is not one of 33, 39, 40',
        "line 4: section: ' 39' is not one of 33, 39, 40",
        "line 5: section: '' is not one of 33, 39, 40",
    ]


def test_roll_without_the_declared_column_is_refused() -> None:
    m = Manifest.from_dict(sections())
    text = roll_text([("33", "a")], header="national_id,date_of_birth,name")
    with pytest.raises(RollInvalid, match="missing column.s. section"):
        parse_roll(io.StringIO(text), manifest=m)


def test_attribute_column_without_a_declaration_is_refused() -> None:
    text = roll_text([("33", "a")])
    with pytest.raises(RollInvalid, match="unknown column.s. section"):
        parse_roll(io.StringIO(text), manifest=Manifest.from_dict(small_v1()))
    with pytest.raises(RollInvalid, match="unknown column.s. section"):
        parse_roll(io.StringIO(text))


def test_employer_roll_of_sections_election_has_no_attribute() -> None:
    m = Manifest.from_dict(sections())
    with open(EXAMPLES / "sections-employers.csv", encoding="utf-8") as handle:
        roll = parse_roll(handle, manifest=m)
    assert set(roll.routes(m)) == {"employer"}
    with open(EXAMPLES / "sections-insured.csv", encoding="utf-8") as handle:
        insured = parse_roll(handle, manifest=m)
    routes = insured.routes(m)
    assert {r: routes.count(r) for r in set(routes)} == {"insured-33": 12, "insured-39": 12,
                                                         "insured-40": 12}
