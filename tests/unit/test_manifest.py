"""Election manifests: the demo loads; bad manifests are refused and change nothing."""
from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Candidate, Contest, Election
from app.services.administration import manifest as manifests
from app.services.errors import InputFileError, ServiceError
from crypto.encoding import canonical_json
from tests.support.factories import DELETE, demo_manifest, mutated, small_manifest


def counts() -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Election, Contest, Candidate, AuditEntry)
    )


def test_demo_manifest_has_realistic_contests(any_app: Flask) -> None:
    election = manifests.create_election(demo_manifest())
    insured = election.contest_by_code("insured")
    employer = election.contest_by_code("employer")
    assert insured is not None and employer is not None
    assert (len(insured.candidates), insured.max_selections, len(insured.teams)) == (228, 7, 10)
    assert (len(employer.candidates), employer.max_selections) == (65, 7)
    # Thai names survive the round trip through the database.
    assert insured.candidates[0].name_th.startswith("นาย")
    assert election.election_id == manifests.election_id_of(demo_manifest())
    assert json.loads(election.manifest) == demo_manifest()


def test_election_id_is_hash_of_canonical_manifest() -> None:
    m = small_manifest()
    reordered = json.loads(json.dumps(m, sort_keys=True))
    assert manifests.election_id_of(m) == manifests.election_id_of(reordered)
    assert len(manifests.election_id_of(m)) == 64
    assert manifests.election_id_of(m) != manifests.election_id_of(mutated(m, "title.en", "Other"))
    assert canonical_json({"b": 1, "a": "ก"}) == '{"a":"ก","b":1}'.encode()


BAD = [
    ("contests.0.max_selections", 0, "contests[0].max_selections"),
    ("contests.0.max_selections", 999, "more than the"),
    ("contests.0.electorate", "pensioners", "contests[0].electorate"),
    ("contests.1.electorate", "insured", "a second contest"),
    ("contests.0.candidates.1.number", 1, "duplicate ballot number 1"),
    ("contests.0.candidates.1.id", "I1", "duplicate candidate id"),
    ("contests.0.candidates.0.team", "Z", "unknown team"),
    ("contests.0.candidates.0.name.th", "", "contests[0].candidates[0].name.th"),
    ("contests.0.candidates.0.colour", "red", "unknown field"),
    ("poll_window.closes", "2025-01-01T00:00:00+07:00", "closes must be after opens"),
    ("poll_window.opens", "2026-01-01T08:00:00", "no time zone"),
    ("format", "v2", "format"),
    ("title", DELETE, "missing field"),
    ("contests", [], "non-empty list"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_bad_manifest_is_refused_and_nothing_stored(
    any_app: Flask, path: str, value: object, message: str
) -> None:
    before = counts()
    with pytest.raises(InputFileError) as excinfo:
        manifests.create_election(mutated(small_manifest(), path, value))
    assert message in str(excinfo.value)
    assert "nothing was imported" in str(excinfo.value)
    assert counts() == before


def test_invalid_json_reports_line_number() -> None:
    with pytest.raises(InputFileError, match="line 3, column"):
        manifests.parse_manifest_text('{\n"format": "x",\n oops}\n', "m.json")


def test_duplicate_election_refused(app: Flask) -> None:
    manifests.create_election(small_manifest())
    before = counts()
    with pytest.raises(ServiceError, match="already exists"):
        manifests.create_election(small_manifest())
    assert counts() == before


def test_creation_is_audited(app: Flask) -> None:
    election = manifests.create_election(small_manifest(), actor="official:alice")
    entry = db.session.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.subject) == ("official:alice", "election.create", election.slug)
