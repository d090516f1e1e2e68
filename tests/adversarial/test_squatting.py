"""Issue 22's squatting attack, performed for real, and the two-official release that ends it
(docs/accounts.md §10).

The attack: registration proved identity by national ID + date of birth, printed on every ID-card
copy; an attacker registered first, and an official's TOTP reset kept the attacker's password, so
the attacker enrolled again and kept the account.  Now: ID + date of birth register nobody; the
single-official TOTP reset is gone; two officials release the account, which wipes password,
TOTP and sessions, voids the codes and sends the real voter a fresh one.
"""
from __future__ import annotations

import json
import re

from flask import Flask

from app.extensions import db
from app.models import ActivationCode, AuditEntry, PendingAction, VoterAccount
from tests.support.official_pages import approve_fields
from tests.support.auth_client import (  # noqa: F401
    PASSWORD,
    Browser,
    accounts_app,
    add_official,
    browser_for,
    csrf_token,
    issue_code,
    outbox,
    roll,
)

ATTACKER_PASSWORD = "attacker owns this account"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _officials(app: Flask) -> tuple[Browser, Browser]:
    alice, bob = browser_for(app), browser_for(app)
    alice.login("official", "alice", add_official("alice", "admin"))
    bob.login("official", "bob", add_official("bob"))
    return alice, bob


def _squat(app: Flask) -> tuple[str, Browser, str]:
    """The attacker registers in the voter's name with a stolen activation letter."""
    entry = roll("insured")
    attacker = browser_for(app)
    stolen = issue_code(app, "insured", entry.voter_key)
    assert attacker.register("insured", entry.voter_key, stolen, ATTACKER_PASSWORD).status_code == 302
    secret = attacker.enrolment_secret("insured")
    assert attacker.enrol("insured", secret).status_code == 302
    return entry.voter_key, attacker, secret


def _propose(official: Browser, login_id: str, reason: str = "voter came to branch 12 with ID card; "
             "account not theirs"):  # type: ignore[no-untyped-def]
    return official.submit("/official/voters/release",
                           {"electorate": "insured", "voter_key": login_id, "reason": reason})


def _approve(official: Browser, pending_id: int):  # type: ignore[no-untyped-def]
    page = _text(official.client.get("/official/"))
    # The approve button posts the approval card's digest; the proposer has no button (refused).
    data = (approve_fields(page, pending_id) if f"/official/actions/{pending_id}/approve" in page
            else {"csrf_token": csrf_token(page)})
    return official.client.post(f"/official/actions/{pending_id}/approve", data=data)


def test_id_and_date_of_birth_no_longer_register(accounts_app: Flask) -> None:
    entry = roll("insured")
    attacker = browser_for(accounts_app)
    for form in ({"voter_key": entry.voter_key, "attribute": entry.attribute},
                 {"voter_key": entry.voter_key, "code": entry.attribute}):
        attacker.submit("/insured/register", {**form, "password": ATTACKER_PASSWORD,
                                              "confirm": ATTACKER_PASSWORD})
    # Nor does ThaiD's absence help: the recovery page wants a code just the same.
    attacker.submit("/insured/recover", {"voter_key": entry.voter_key, "code": entry.attribute,
                                         "password": ATTACKER_PASSWORD, "confirm": ATTACKER_PASSWORD})
    assert db.session.query(VoterAccount).count() == 0


def test_the_real_voter_is_told_of_a_registration_in_their_name(accounts_app: Flask) -> None:
    _squat(accounts_app)
    notices = [m for m in outbox(accounts_app) if m["kind"] == "registered"]
    assert len(notices) == 1 and notices[0]["voter_key"] == roll("insured").voter_key
    assert "ลงทะเบียนบัญชีในนามของท่าน" in notices[0]["text_th"]


def test_the_single_official_totp_reset_that_kept_the_password_is_gone(accounts_app: Flask) -> None:
    login_id, attacker, _ = _squat(accounts_app)
    alice, _ = _officials(accounts_app)
    response = alice.client.post("/official/voters/reset-totp",
                                 data={"electorate": "insured", "voter_key": login_id,
                                       "reason": "phone lost"})
    assert response.status_code in (400, 404)  # no such page (CSRF or routing refuses first)
    assert alice.client.get("/official/voters/reset-totp").status_code == 404
    # One official's proposal changes nothing: the attacker still has the account ...
    assert _propose(alice, login_id).status_code == 302
    assert attacker.client.get("/insured/").status_code == 200
    # ... and the proposer cannot approve it.
    pending = db.session.query(PendingAction).filter_by(action="release_account").one()
    _approve(alice, pending.id)
    db.session.expire_all()
    assert db.session.get(PendingAction, pending.id).state == "pending"
    assert db.session.query(VoterAccount).count() == 1


def test_two_officials_release_the_squatted_account_and_the_voter_registers(accounts_app: Flask) -> None:
    login_id, attacker, attacker_secret = _squat(accounts_app)
    alice, bob = _officials(accounts_app)
    spare = issue_code(accounts_app, "insured", login_id, "request")  # another code the attacker holds
    assert _propose(alice, login_id).status_code == 302
    # A second proposal for the same voter is refused while the first waits.
    assert _propose(bob, login_id).status_code == 200
    assert db.session.query(PendingAction).count() == 1
    pending = db.session.query(PendingAction).filter_by(action="release_account").one()
    assert "account not theirs" in _text(bob.client.get("/official/"))
    assert _approve(bob, pending.id).status_code == 302

    # Everything of the attacker's is gone: account, password, TOTP, session, codes.
    assert db.session.query(VoterAccount).count() == 0
    assert attacker.client.get("/insured/").status_code == 302
    again = browser_for(accounts_app)
    again.clock.tick()
    assert again.password("insured", login_id, ATTACKER_PASSWORD).status_code == 200
    assert browser_for(accounts_app).register("insured", login_id, spare).status_code == 200
    assert db.session.query(VoterAccount).count() == 0

    # Audited, with the pseudonym only; the voter is told and gets a fresh code by letter.
    entry = roll("insured")
    audit = {e.action: e for e in db.session.query(AuditEntry)}
    for action in ("propose_release_account", "approve_release_account", "release_account"):
        assert action in audit, action
    release = audit["release_account"]
    assert release.subject == entry.pseudonym and login_id not in release.details
    assert json.loads(release.details)["had_account"] is True
    messages = outbox(accounts_app)
    assert [m["kind"] for m in messages][-2:] == ["released", "activation_code"]
    fresh = re.search(r"code: ([0-9A-Z-]+)\.", messages[-1]["text_en"])
    assert fresh
    assert db.session.query(ActivationCode).filter(ActivationCode.used_at.is_(None)).count() == 1

    # The real voter registers with the fresh code and signs in.
    voter = browser_for(accounts_app)
    assert voter.register("insured", login_id, fresh.group(1)).status_code == 302
    secret = voter.enrolment_secret("insured")
    assert secret != attacker_secret
    assert voter.enrol("insured", secret).status_code == 302
    assert voter.client.get("/insured/").status_code == 200


def test_release_of_a_voter_without_account_is_reported(accounts_app: Flask) -> None:
    alice, _ = _officials(accounts_app)
    response = _propose(alice, roll("insured").voter_key)
    assert response.status_code == 200 and "ไม่พบบัญชี" in _text(response)
    assert db.session.query(PendingAction).count() == 0


def test_a_release_proposal_expires(accounts_app: Flask) -> None:
    login_id, attacker, _ = _squat(accounts_app)
    alice, bob = _officials(accounts_app)
    _propose(alice, login_id)
    pending = db.session.query(PendingAction).one()
    accounts_app.config["AUTH_CLOCK"].advance(25 * 3600)
    late = browser_for(accounts_app)
    late.login("official", "carol", add_official("carol"))
    _approve(late, pending.id)
    db.session.expire_all()
    assert db.session.get(PendingAction, pending.id).state == "expired"
    assert db.session.query(VoterAccount).count() == 1
    assert attacker.client.get("/insured/login").status_code == 200
