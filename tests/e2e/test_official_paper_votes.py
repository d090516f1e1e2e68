"""The officials' paper-vote upload page: one official uploads the CSV (header voter_id), a
second approves on the dashboard, and the signed list holds the voters' pseudonyms (docs/record.md §2.4)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterator

import pyotp
import pytest

from app.extensions import db
from app.models import PendingAction
from app.services.voting import paper_votes
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Browser, Clock, csrf_token
from tests.support.factories import insured_csv, national_ids, small_manifest

PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=clock))
    with app.app_context():
        ids = national_ids(3)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees", clock())
        election = setup.election
        a, b = setup.officials
        secrets_ = {}
        for official in (a, b):
            official.totp_secret = pyotp.random_base32()
            secrets_[official.username] = official.totp_secret
        db.session.commit()
        yield {"app": app, "clock": clock, "election": election, "ids": ids, "secrets": secrets_}
        db.session.remove()
        db.engine.dispose()


def official(env: dict[str, Any], username: str) -> Browser:
    browser = Browser(env["app"].test_client(), env["clock"])
    browser.client.get("/?lang=en")
    done = browser.login("official", username, env["secrets"][username], PASSWORD)
    assert done.status_code == 302, done.get_data(as_text=True)
    return browser


def upload(browser: Browser, election_id: int, text: str) -> Any:
    url = f"/official/elections/{election_id}/paper-votes"
    page = browser.client.get(url)
    assert page.status_code == 200
    return browser.client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                          "paper_list": (io.BytesIO(text.encode()), "paper.csv")},
                               content_type="multipart/form-data")


def test_upload_propose_and_approve(env: dict[str, Any]) -> None:
    election = env["election"]
    a = official(env, "ro-a")
    # Before close: refused, nothing proposed.
    early = upload(a, election.id, "voter_id\n" + env["ids"][0] + "\n")
    assert early.status_code == 200 and "Nothing was recorded" in early.get_data(as_text=True)
    election_setup.close_polls(election, env["clock"]())

    bad = upload(a, election.id, "national_id\n123\n")
    assert bad.status_code == 200 and "header must be exactly: voter_id" in bad.get_data(as_text=True)
    unknown = upload(a, election.id, "voter_id\n1234567890123\n")
    assert "is not on this election" in unknown.get_data(as_text=True)

    ok = upload(a, election.id, f"voter_id\n{env['ids'][1]}\n")
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/official/")
    dashboard = a.client.get("/official/").get_data(as_text=True)
    assert "Record paper votes proposed by" in dashboard

    b = official(env, "ro-b")
    page = b.client.get("/official/").get_data(as_text=True)
    pending = db.session.query(PendingAction).filter_by(action="record_paper_votes").one()
    approved = b.client.post(f"/official/actions/{pending.id}/approve", data={"csrf_token": csrf_token(page)})
    assert approved.status_code == 302
    db.session.expire_all()
    signed = paper_votes.signed_list(election)
    assert signed is not None and len(signed["pseudonyms"]) == 1  # type: ignore[arg-type]

    # The list is final: the dashboard no longer offers it and a second upload is refused.
    assert "Record paper votes" not in b.client.get("/official/?lang=en").get_data(as_text=True)
    again = upload(a, election.id, f"voter_id\n{env['ids'][2]}\n")
    assert again.status_code == 200 and "already signed" in again.get_data(as_text=True)
    assert db.session.query(PendingAction).filter_by(action="record_paper_votes",
                                                     state="pending").count() == 0


def test_voter_cannot_reach_the_upload_page(env: dict[str, Any]) -> None:
    browser = Browser(env["app"].test_client(), env["clock"])
    browser.signup("insured", env["ids"][0], "1980-01-01")
    assert browser.client.get(f"/official/elections/{env['election'].id}/paper-votes").status_code == 403
