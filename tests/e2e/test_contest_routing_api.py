"""Contests routed by roll attributes over the real HTTP stack (docs/manifest.md §4.4): a voter
sees, casts in and audits only the contest of their roll entry's route; another contest id is
refused with ``wrong_contest``; and a database insider who moves a voter's roll entry to another
contest cannot make the server accept a ballot there — the credential the CA issued is of the
voter's own contest (record.md §6.1–§6.2), which the cast API checks as well as the tally."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Contest, RollEntry
from app.services.administration import authority
from app.services.errors import InputFileError
from app.services.voting import board
from tests.conftest import build_app, make_config
from tests.support import election_setup, voting
from tests.support.auth_client import FAST_ARGON2, Clock
from tests.support.factories import employer_csv, national_ids
from tools.scenario import sections_insured_csv, sections_manifest

from tests.e2e.test_casting_api import Voter, board_state


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=clock))
    with app.app_context():
        ids = national_ids(3)
        rows = list(zip(ids, ["33", "39", "40"]))
        setup = election_setup.ready_election(
            sections_manifest(), [sections_insured_csv(rows),
                                  employer_csv([("1000000001", national_ids(1, seed=7)[0])])],
            tmp_path / "trustees", clock())
        yield {"app": app, "clock": clock, "election": setup.election, "ids": ids, "setup": setup,
               "credentials": setup.credentials}
        db.session.remove()
        db.engine.dispose()


def signed_in(env: dict[str, Any], index: int) -> Voter:
    key = env["ids"][index]
    voter = Voter(env["app"].test_client(), env["clock"], "insured", env["credentials"][key])
    voter.browser.signup("insured", key)
    return voter


def test_each_voter_gets_the_contest_of_their_section_and_casts_one_vote(env: dict[str, Any]) -> None:
    for index, section in enumerate(["33", "39", "40"]):
        voter = signed_in(env, index)
        context = voter.context()
        assert context["contest"]["id"] == f"insured-{section}"
        assert (context["contest"]["max_selections"], context["contest"]["seats"]) == (1, 2 if section == "33" else 1)
        assert all(c["id"].startswith(f"S{section}-") for c in context["contest"]["candidates"])
        response, _seed = voter.cast([0, 1, 0, 0])
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["receipt"]["contest"] == f"insured-{section}"
        page = voter.client.get("/insured/?lang=en").get_data(as_text=True)
        assert f"Insured persons, section {section}" in page and "You may choose one candidate." in page
        for other in {"33", "39", "40"} - {section}:
            assert f"Insured persons, section {other}" not in page
    assert board_state(env["election"]) == (3, [])


def another_contest_body(voter: Voter, contest: str, audit: bool = False) -> dict[str, Any]:
    """A well-formed ballot for ``contest`` (same shape: one of four), encrypted and signed by the
    voter's own device and credential for that contest."""
    context = {**voter.context()}
    context["contest"] = {**context["contest"], "id": contest}
    ballot, seed = voting.encrypt(context, [1, 0, 0, 0])
    if audit:
        return voting.audit_body(context, voter.credential, ballot, seed)
    return voting.body(context, voter.credential, ballot, seed)


def test_a_ballot_for_another_contest_is_refused(env: dict[str, Any]) -> None:
    voter = signed_in(env, 1)  # section 39
    for contest in ("insured-33", "insured-40", "employer"):
        response = voter.post(another_contest_body(voter, contest))
        assert (response.status_code, response.get_json()["error"]) == (403, "wrong_contest")
        audit = voter.client.post("/api/elections/test-election/audit",
                                  json=another_contest_body(voter, contest, audit=True), headers=voter.headers())
        assert (audit.status_code, audit.get_json()["error"]) == (403, "wrong_contest")
    assert board_state(env["election"]) == (0, [])


def test_db_insider_moving_a_roll_entry_to_another_contest_cannot_cast_there(env: dict[str, Any]) -> None:
    """The attack: an insider edits ``roll_entry.contest_pk`` of a section-39 voter to the
    section-33 contest (a bigger contest, 2 seats).  The ballot page now offers insured-33, but
    the voter's credential was issued for insured-39 (the CA's mapping, imported and checked):
    the cast API refuses, and nothing reaches the board."""
    election = env["election"]
    voter = signed_in(env, 1)
    target = db.session.scalar(select(Contest.id).where(Contest.election_pk == election.id,
                                                        Contest.code == "insured-33"))
    db.session.execute(update(RollEntry).where(RollEntry.voter_key == env["ids"][1]).values(contest_pk=target))
    db.session.commit()
    context = voter.context()
    assert context["contest"]["id"] == "insured-33"  # the moved route is what the page shows
    response, _seed = voter.cast([1, 0, 0, 0])
    assert (response.status_code, response.get_json()["error"]) == (403, "wrong_contest")
    assert "credential is not of this contest" in response.get_json()["message"]
    audit = voter.client.post("/api/elections/test-election/audit",
                              json=another_contest_body(voter, "insured-33", audit=True), headers=voter.headers())
    assert (audit.status_code, audit.get_json()["error"]) == (403, "wrong_contest")
    assert board.size(election) == 0


def test_credentials_import_refuses_a_mapping_with_another_route(env: dict[str, Any]) -> None:
    """``ssbvote credentials import``: a mapping whose route for a voter differs from the
    server's own roll import (docs/record.md §6.1 (b)) is refused whole."""
    election = env["election"]
    folder: Path = env["setup"].authority.ca_dir
    mapping = json.loads((folder / "mapping-insured.json").read_bytes())
    assert mapping["contests"] == {env["ids"][0]: "insured-33", env["ids"][1]: "insured-39",
                                   env["ids"][2]: "insured-40"}
    mapping["contests"][env["ids"][1]] = "insured-33"
    with pytest.raises(InputFileError) as info:
        authority.import_mapping(election, json.dumps(mapping).encode())
    assert (f"voter {env['ids'][1]}: the CA routes the voter to contest insured-33, the roll import "
            "to insured-39") in str(info.value)
