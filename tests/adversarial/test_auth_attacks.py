"""Attacks on sign-in and authorization: replay, guessing, CSRF, wrong audience, self-approval,
stolen sessions after a TOTP reset, and ID enumeration."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, Election, Official, PendingAction, VoterAccount
from tests.support.auth_client import (  # noqa: F401
    PASSWORD,
    Browser,
    accounts_app,
    add_official,
    auth_app,
    browser,
    browser_for,
    csrf_token,
    registered_voter,
    roll,
)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)




GENERIC = "เลขประจำตัว รหัสผ่าน หรือรหัสยืนยันไม่ถูกต้อง"
LOCKED = "พยายามผิดหลายครั้งเกินไป"


# --- TOTP replay -----------------------------------------------------------------------------
def test_replayed_totp_code_is_refused(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    victim, attacker = browser_for(accounts_app), browser_for(accounts_app)
    victim.password("insured", login_id)
    victim.clock.tick()
    code = victim.clock.code(secret)
    assert victim.code("insured", code).headers["Location"] == "/insured/"
    # An attacker who watched the code and knows the password, within the same 30 s:
    assert attacker.password("insured", login_id).status_code == 302
    replay = attacker.code("insured", code)
    assert replay.status_code == 200 and GENERIC in _text(replay)
    assert attacker.client.get("/insured/").status_code == 302


def test_code_of_an_earlier_step_is_refused_after_a_later_one(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.clock.tick()
    b.clock.tick()
    earlier = b.clock.code(secret)
    b.clock.tick()
    b.password("insured", login_id)
    assert b.code("insured", b.clock.code(secret)).status_code == 302  # uses the newest step
    again = browser_for(accounts_app)
    again.password("insured", login_id)
    assert again.code("insured", earlier).status_code == 200  # older step: refused


# --- guessing --------------------------------------------------------------------------------
@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[Flask]:
    """Hard limit of 3 failures an hour, no early back-off, to reach the threshold quickly."""
    yield from auth_app(tmp_path, AUTH_MAX_FAILURES_PER_HOUR=3, AUTH_BACKOFF_FREE_FAILURES=100)


def test_account_locks_after_the_threshold_even_for_the_right_password(strict_app: Flask) -> None:
    login_id, secret = registered_voter(strict_app)
    b = browser_for(strict_app)
    for _ in range(3):
        wrong = b.password("insured", login_id, "wrong password 123")
        assert GENERIC in _text(wrong)
    locked = b.password("insured", login_id)
    assert locked.status_code == 200 and LOCKED in _text(locked)
    english = browser_for(strict_app).submit(
        "/insured/login", {"login_id": login_id, "password": PASSWORD}, "/insured/login?lang=en")
    assert "Too many failed attempts" in _text(english)
    account = db.session.query(VoterAccount).one()
    assert account.failed_attempts == 3
    b.clock.advance(3601)
    assert b.login("insured", login_id, secret).headers["Location"] == "/insured/"
    db.session.expire_all()
    assert db.session.query(VoterAccount).one().failed_attempts == 0


def test_wrong_totp_codes_count_towards_the_threshold(strict_app: Flask) -> None:
    login_id, secret = registered_voter(strict_app)
    b = browser_for(strict_app)
    b.password("insured", login_id)
    right = b.clock.code(secret)
    bad = "000000" if right != "000000" else "111111"
    for _ in range(3):
        assert GENERIC in _text(b.code("insured", bad))
    assert LOCKED in _text(b.code("insured", right))


def test_default_threshold_is_100_an_hour_with_backoff(accounts_app: Flask) -> None:
    assert accounts_app.config["AUTH_MAX_FAILURES_PER_HOUR"] == 100
    login_id, _ = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    for _ in range(5):
        assert GENERIC in _text(b.password("insured", login_id, "wrong password 123"))
    assert GENERIC in _text(b.password("insured", login_id, "wrong password 123"))  # 6th: back-off
    assert LOCKED in _text(b.password("insured", login_id))
    b.clock.advance(3)
    assert b.password("insured", login_id).status_code == 302


def test_per_ip_rate_limit(tmp_path: Path) -> None:
    gen = auth_app(tmp_path, AUTH_IP_RATE_LIMIT="5 per minute")
    app = next(gen)
    try:
        b = browser_for(app)
        statuses = [b.password("insured", "1234567890121", "whatever password").status_code
                    for _ in range(5)]
        assert statuses == [200] * 5
        blocked = b.password("insured", "1234567890121", "whatever password")
        assert blocked.status_code == 429
        assert "มีการพยายามจากเครือข่ายของท่านมากเกินไป" in _text(blocked)
        # The limit is shared by every sign-in form, not per page.
        assert b.register("employer", "1234567890", "1234567890121").status_code == 429
    finally:
        next(gen, None)


def test_unknown_id_and_wrong_password_look_the_same(accounts_app: Flask) -> None:
    login_id, _ = registered_voter(accounts_app)
    unknown = browser_for(accounts_app).password("insured", "1234567890121", "wrong password 1")
    wrong = browser_for(accounts_app).password("insured", login_id, "wrong password 1")
    malformed = browser_for(accounts_app).password("insured", "12", "wrong password 1")
    for response in (unknown, wrong, malformed):
        assert response.status_code == 200 and GENERIC in _text(response)


def test_unknown_ids_still_cost_argon2_work(accounts_app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.services import passwords

    calls: list[str] = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: calls.append(h[:9]) or real(h, p))
    browser_for(accounts_app).password("insured", "1234567890121", "wrong password 1")
    assert calls == ["$argon2id"]


# --- CSRF ------------------------------------------------------------------------------------
def test_posts_without_csrf_token_are_refused(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.client.get("/insured/login")
    no_token = b.client.post("/insured/login", data={"login_id": login_id, "password": PASSWORD})
    assert no_token.status_code == 400
    forged = b.client.post("/insured/login", data={"login_id": login_id, "password": PASSWORD,
                                                   "csrf_token": "forged"})
    assert forged.status_code == 400
    b.login("insured", login_id, secret)
    assert b.client.post("/insured/logout").status_code == 400
    assert b.client.get("/insured/").status_code == 200  # still signed in


def test_csrf_token_of_another_session_is_refused(accounts_app: Flask) -> None:
    attacker, victim = browser_for(accounts_app), browser_for(accounts_app)
    token = csrf_token(_text(attacker.client.get("/insured/login")))
    victim.client.get("/insured/login")
    response = victim.client.post("/insured/login", data={"login_id": "1", "password": "x",
                                                          "csrf_token": token})
    assert response.status_code == 400


# --- audiences -------------------------------------------------------------------------------
def test_insured_voter_cannot_reach_employer_or_official_pages(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.login("insured", login_id, secret)
    assert b.client.get("/employer/").status_code == 403
    for url in ("/official/", "/official/audit", "/official/voters/reset-totp"):
        assert b.client.get(url).status_code == 403, url
    token = csrf_token(_text(b.client.get("/insured/")))
    election = db.session.query(Election).one()
    assert b.client.post(f"/official/elections/{election.id}/propose/open_polls",
                         data={"csrf_token": token}).status_code == 403
    assert db.session.query(PendingAction).count() == 0


def test_employer_cannot_reach_insured_pages(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app, "employer")
    b = browser_for(accounts_app)
    b.login("employer", login_id, secret)
    assert b.client.get("/insured/").status_code == 403
    assert b.client.get("/official/").status_code == 403


def test_official_cannot_use_voter_pages(accounts_app: Flask) -> None:
    secret = add_official("alice", "admin")
    b = browser_for(accounts_app)
    b.login("official", "alice", secret)
    assert b.client.get("/insured/").status_code == 403
    assert b.client.get("/employer/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(browser: Browser) -> None:
    for url, login in (("/insured/", "/insured/login"), ("/employer/", "/employer/login"),
                       ("/official/", "/official/login"), ("/official/audit", "/official/login")):
        response = browser.client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == login, url


def test_a_password_step_for_one_audience_does_not_open_another(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.password("insured", login_id)
    assert b.client.get("/employer/login/code").status_code == 302
    assert b.client.get("/official/login/code").status_code == 302


def test_voter_ids_cannot_sign_in_as_officials(accounts_app: Flask) -> None:
    login_id, _ = registered_voter(accounts_app)
    response = browser_for(accounts_app).password("official", login_id)
    assert GENERIC in _text(response)


# --- four eyes -------------------------------------------------------------------------------
def test_same_official_cannot_approve_and_second_can(accounts_app: Flask) -> None:
    alice_secret, bob_secret = add_official("alice", "admin"), add_official("bob")
    alice, bob = browser_for(accounts_app), browser_for(accounts_app)
    alice.login("official", "alice", alice_secret)
    bob.login("official", "bob", bob_secret)
    election = db.session.query(Election).one()

    def post(b: Browser, url: str):  # type: ignore[no-untyped-def]
        return b.client.post(url, data={"csrf_token": csrf_token(_text(b.client.get("/official/")))})

    post(alice, f"/official/elections/{election.id}/propose/open_polls")
    pending = db.session.query(PendingAction).one()
    refused = post(alice, f"/official/actions/{pending.id}/approve")
    assert refused.status_code == 302
    assert "ต้องให้เจ้าหน้าที่คนอื่นเป็นผู้อนุมัติ" in _text(alice.client.get("/official/"))
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"
    post(bob, f"/official/actions/{pending.id}/approve")
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "open"
    pending = db.session.get(PendingAction, pending.id)
    assert pending.state == "approved" and pending.proposer.username == "alice"
    assert pending.decider is not None and pending.decider.username == "bob"
    log = [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert ("official:alice", "propose_open_polls") in log
    assert ("official:alice", "self_approval_refused") in log
    assert ("official:bob", "approve_open_polls") in log


# --- TOTP reset ------------------------------------------------------------------------------
def test_totp_reset_revokes_sessions_and_requires_re_enrolment(accounts_app: Flask) -> None:
    login_id, old_secret = registered_voter(accounts_app)
    voter = browser_for(accounts_app)
    voter.login("insured", login_id, old_secret)
    assert voter.client.get("/insured/").status_code == 200

    officer = browser_for(accounts_app)
    officer.login("official", "olivia", add_official("olivia"))
    reset = officer.submit("/official/voters/reset-totp",
                           {"electorate": "insured", "voter_key": login_id,
                            "reason": "phone lost; ID card checked at branch 12"})
    assert reset.status_code == 302

    assert voter.client.get("/insured/").status_code == 302  # session revoked
    account = db.session.query(VoterAccount).one()
    db.session.refresh(account)
    assert not account.totp_confirmed and account.totp_secret != old_secret
    entry = db.session.query(AuditEntry).filter_by(action="voter_totp_reset").one()
    assert entry.actor == "official:olivia" and entry.subject == account.roll_entry.pseudonym
    assert login_id not in entry.subject + entry.details  # the national ID is not in the log

    # The old authenticator no longer works; sign-in leads to enrolment of a new one.
    again = browser_for(accounts_app)
    assert again.password("insured", login_id).headers["Location"] == "/insured/enrol"
    assert again.client.get("/insured/login/code").status_code == 302
    again.clock.tick()
    assert again.enrol("insured", old_secret).status_code == 200
    new_secret = again.enrolment_secret("insured")
    assert again.enrol("insured", new_secret).headers["Location"] == "/insured/"


def test_totp_reset_of_unknown_voter_is_reported(accounts_app: Flask) -> None:
    officer = browser_for(accounts_app)
    officer.login("official", "olivia", add_official("olivia"))
    response = officer.submit("/official/voters/reset-totp",
                              {"electorate": "insured", "voter_key": roll("insured").voter_key,
                               "reason": "no account yet"})
    assert response.status_code == 200 and "ไม่พบบัญชี" in _text(response)


def test_inactive_official_loses_access(accounts_app: Flask) -> None:
    b = browser_for(accounts_app)
    b.login("official", "alice", add_official("alice", "admin"))
    assert b.client.get("/official/").status_code == 200
    db.session.query(Official).filter_by(username="alice").update({"active": False})
    db.session.commit()
    assert b.client.get("/official/").status_code == 302
