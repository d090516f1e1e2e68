"""The officials' paper-vote page (docs/record.md §2.4, record format version 2): one official
uploads the CSV (header voter_id), sees the unsigned list — count, identities, digest — and signs
it with their own official credential; a second official sees the same list and signs it too,
which approves it.  The stored list carries both signatures, made with the keys pinned in the
opening.  (The signing itself happens in the browser, app/static/js/paper-votes-page.js; here
the test signs as the page does: Ed25519 by the official key over the list without
``signatures``.)"""
from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any, Iterator

import pyotp
import pytest

from app.extensions import db
from app.models import PaperListDraft, PendingAction
from app.services.administration import authority
from app.services.voting import paper_votes
from crypto.credential import official_key
from crypto.encoding import canonical_json
from election.board import paper_list_digest, paper_signature_problems
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Browser, Clock, csrf_token
from tests.support.factories import insured_csv, national_ids, small_manifest

PASSWORD = "correct horse battery"
_DATA = re.compile(r'<script type="application/json" id="paper-sign-data">(.*?)</script>', re.S)
_ACTION = re.compile(r'<form method="post" action="([^"]+)" id="paper-sign-form"')


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
        yield {"app": app, "clock": clock, "election": election, "ids": ids, "secrets": secrets_,
               "credentials": setup.official_credentials}
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


def signing_page(page: str) -> tuple[dict[str, Any], str]:
    """The page's list data (body, digest, count, officialKey) and the signing form's action."""
    data, action = _DATA.search(page), _ACTION.search(page)
    assert data and action, "no signing form on the page"
    return json.loads(data.group(1)), html.unescape(action.group(1))


def sign(browser: Browser, page: str, credential: str, **changes: str) -> Any:
    """Sign the list shown on ``page`` with ``credential`` as the page's script does, and post."""
    data, action = signing_page(page)
    form = {"csrf_token": csrf_token(page), "digest": data["digest"],
            "official_signature": official_key(credential).sign(canonical_json(data["body"])).hex(), **changes}
    return browser.client.post(action, data=form)


def test_upload_sign_propose_and_sign_approve(env: dict[str, Any]) -> None:
    election = env["election"]
    credentials = env["credentials"]
    a = official(env, "ro-a")
    # Before close: refused, nothing proposed.
    early = upload(a, election.id, "voter_id\n" + env["ids"][0] + "\n")
    assert early.status_code == 200 and "Nothing was recorded" in early.get_data(as_text=True)
    election_setup.close_polls(election, env["clock"]())

    bad = upload(a, election.id, "national_id\n123\n")
    assert bad.status_code == 200 and "header must be exactly: voter_id" in bad.get_data(as_text=True)
    unknown = upload(a, election.id, "voter_id\n1234567890123\n")
    assert "is not on this election" in unknown.get_data(as_text=True)

    # The upload shows the unsigned list for signing: count, identities, digest.
    shown = upload(a, election.id, f"voter_id\n{env['ids'][1]}\n")
    assert shown.status_code == 200
    page = shown.get_data(as_text=True)
    data, action = signing_page(page)
    body = data["body"]
    assert set(body) == {"type", "election_id", "opening", "pseudonyms", "at"}
    assert body["opening"] == election.opening_hash and len(body["pseudonyms"]) == 1
    assert data["digest"] == paper_list_digest(body) and data["count"] == 1
    assert data["officialKey"] == authority.pinned_officials(election)["ro-a"]
    assert env["ids"][1] in page and "Voter 1" in page  # the identity from the roll, with its name
    assert action.endswith(f"/official/elections/{election.id}/paper-votes/propose")
    assert db.session.query(PendingAction).filter_by(action="record_paper_votes").count() == 0

    # Refused: another official's credential, a digest not of the list shown.
    wrong = sign(a, page, credentials["ro-b"])
    assert wrong.status_code == 200 and "does not verify with your pinned official key" in wrong.get_data(as_text=True)
    stale = sign(a, page, credentials["ro-a"], digest="0" * 64)
    assert "not the digest of the list shown" in stale.get_data(as_text=True)
    assert db.session.query(PendingAction).filter_by(action="record_paper_votes").count() == 0

    proposed = sign(a, page, credentials["ro-a"])
    assert proposed.status_code == 302 and proposed.headers["Location"].endswith("/official/")
    dashboard = a.client.get("/official/").get_data(as_text=True)
    assert "Record paper votes proposed by" in dashboard
    assert db.session.query(PaperListDraft).count() == 0
    # The proposer sees the upload form, not the list to approve.
    assert "paper-sign-data" not in a.client.get(f"/official/elections/{election.id}/paper-votes").get_data(as_text=True)

    b = official(env, "ro-b")
    review = b.client.get(f"/official/elections/{election.id}/paper-votes").get_data(as_text=True)
    seen, approve_url = signing_page(review)
    assert seen["body"] == body and seen["digest"] == data["digest"]  # the very bytes ro-a signed
    assert "Officer A" in review and env["ids"][1] in review
    pending = db.session.query(PendingAction).filter_by(action="record_paper_votes").one()
    assert approve_url.endswith(f"/official/actions/{pending.id}/paper-votes/approve")
    # The dashboard's bare approve button cannot record the list without ro-b's signature.
    bare = b.client.post(f"/official/actions/{pending.id}/approve",
                         data={"csrf_token": csrf_token(b.client.get("/official/").get_data(as_text=True))})
    assert bare.status_code == 302
    db.session.expire_all()
    assert paper_votes.signed_list(election) is None
    assert sign(b, review, credentials["ro-a"]).status_code == 302  # ro-a's credential: refused
    db.session.expire_all()
    assert paper_votes.signed_list(election) is None
    approved = sign(b, review, credentials["ro-b"])
    assert approved.status_code == 302
    db.session.expire_all()
    signed = paper_votes.signed_list(election)
    assert signed is not None and signed["pseudonyms"] == body["pseudonyms"]
    assert [s["official"] for s in signed["signatures"]] == ["ro-a", "ro-b"]  # type: ignore[union-attr]
    assert paper_signature_problems(signed, authority.pinned_officials(election)) == []

    # The list is final: the dashboard no longer offers it and a second upload is refused.
    assert "Record paper votes" not in b.client.get("/official/?lang=en").get_data(as_text=True)
    again = upload(a, election.id, f"voter_id\n{env['ids'][2]}\n")
    assert again.status_code == 200 and "already signed" in again.get_data(as_text=True)
    assert db.session.query(PendingAction).filter_by(action="record_paper_votes",
                                                     state="pending").count() == 0


def test_the_proposer_cannot_approve_their_own_list(env: dict[str, Any]) -> None:
    election = env["election"]
    election_setup.close_polls(election, env["clock"]())
    a = official(env, "ro-a")
    page = upload(a, election.id, "voter_id\n").get_data(as_text=True)  # nobody voted on paper
    assert signing_page(page)[0]["count"] == 0
    assert sign(a, page, env["credentials"]["ro-a"]).status_code == 302
    pending = db.session.query(PendingAction).filter_by(action="record_paper_votes").one()
    payload = json.loads(pending.payload or "{}")
    own = a.client.post(f"/official/actions/{pending.id}/paper-votes/approve", data={
        "csrf_token": csrf_token(a.client.get("/official/").get_data(as_text=True)),
        "digest": paper_list_digest(payload),
        "official_signature": payload["signatures"][0]["signature"]})
    assert own.status_code == 302
    assert "A different official must approve this action." in a.client.get("/official/?lang=en").get_data(as_text=True)
    db.session.expire_all()
    assert paper_votes.signed_list(election) is None


def test_voter_cannot_reach_the_upload_page(env: dict[str, Any]) -> None:
    browser = Browser(env["app"].test_client(), env["clock"])
    browser.signup("insured", env["ids"][0])
    assert browser.client.get(f"/official/elections/{env['election'].id}/paper-votes").status_code == 403
