"""Sign-in end to end through the HTTP stack: password, TOTP, session rotation, logout,
idle timeout, officials' two-person poll actions, Thai and English pages."""
from __future__ import annotations

from flask import Flask

from app.extensions import db
from app.models import AuditEntry, Election, PendingAction, VoterAccount
from tests.support import election_setup
from tests.support.official_pages import approve_fields
from tests.support.auth_client import (  # noqa: F401
    Browser,
    accounts_app,
    accounts_app_any,
    add_official,
    browser,
    browser_for,
    csrf_token,
    registered_voter,
    roll,
)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)




def test_login_success(accounts_app_any: Flask) -> None:
    login_id, secret = registered_voter(accounts_app_any)
    b = browser_for(accounts_app_any)
    first = b.password("insured", login_id)
    assert first.status_code == 302 and first.headers["Location"] == "/insured/login/code"
    assert b.client.get("/insured/").status_code == 302  # password alone is not enough
    b.clock.tick()
    done = b.code("insured", b.clock.code(secret))
    assert done.status_code == 302 and done.headers["Location"] == "/insured/"
    home = b.client.get("/insured/")
    assert home.status_code == 200 and "ผู้แทนฝ่ายผู้ประกันตน" in _text(home)


def test_login_id_may_be_typed_with_dashes(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    dashed = f"{login_id[0]}-{login_id[1:5]}-{login_id[5:10]}-{login_id[10:12]}-{login_id[12]}"
    b = browser_for(accounts_app)
    assert b.login("insured", dashed, secret).headers["Location"] == "/insured/"


def test_session_is_rotated_at_login(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.client.get("/insured/login")
    before_cookie = b.session_cookie()
    b.login("insured", login_id, secret)
    after_cookie = b.session_cookie()
    with b.client.session_transaction() as sess:
        first = dict(sess["auth"])
    assert before_cookie != after_cookie
    # A second sign-in gets a new session id and a new server-side epoch...
    b.login("insured", login_id, secret)
    with b.client.session_transaction() as sess:
        second = dict(sess["auth"])
    assert second["sid"] != first["sid"] and second["epoch"] == first["epoch"] + 1
    assert db.session.query(VoterAccount).one().session_epoch == second["epoch"]


def test_old_session_cookie_dies_at_next_login_and_logout(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    phone = browser_for(accounts_app)
    phone.login("insured", login_id, secret)
    stolen = phone.session_cookie()
    assert phone.client.get("/insured/").status_code == 200
    phone.logout("insured")
    assert phone.client.get("/insured/").status_code == 302
    attacker = browser_for(accounts_app)
    attacker.client.set_cookie("ssbvote_session", stolen or "")
    assert attacker.client.get("/insured/").status_code == 302


def test_idle_timeout_ends_the_session(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.login("insured", login_id, secret)
    idle = accounts_app.config["SSBVOTE"].session_idle_minutes * 60
    b.clock.advance(idle - 5)
    assert b.client.get("/insured/").status_code == 200  # activity keeps it alive
    b.clock.advance(idle - 5)
    assert b.client.get("/insured/").status_code == 200
    b.clock.advance(idle + 1)
    expired = b.client.get("/insured/")
    assert expired.status_code == 302 and expired.headers["Location"] == "/insured/login"
    assert "หมดเวลาการใช้งานแล้ว" in _text(b.client.get("/insured/login"))


def test_second_step_expires(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.password("insured", login_id)
    b.clock.advance(301)
    page = b.client.get("/insured/login/code")
    assert page.status_code == 302 and page.headers["Location"] == "/insured/login"


def test_employer_login_and_home(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app, "employer")
    b = browser_for(accounts_app)
    assert b.login("employer", login_id, secret).headers["Location"] == "/employer/"
    home = _text(b.client.get("/employer/?lang=en"))
    assert "You vote as an employer." in home and "Sign out" in home


def test_official_login_dashboard_and_two_person_open(accounts_app_any: Flask) -> None:
    alice_secret = add_official("alice", "admin")
    bob_secret = add_official("bob")
    alice, bob = browser_for(accounts_app_any), browser_for(accounts_app_any)
    assert alice.login("official", "alice", alice_secret).headers["Location"] == "/official/"
    bob.login("official", "bob", bob_secret)
    election = db.session.query(Election).one()
    dash = alice.client.get("/official/")
    token = csrf_token(_text(dash))
    assert "เสนอ: เปิดการลงคะแนน" in _text(dash)
    # Without the credential authority's opening the polls do not open (docs/record.md §2.0).
    first = alice.client.post(f"/official/elections/{election.id}/propose/open_polls", data={"csrf_token": token})
    assert first.status_code == 302
    early = db.session.query(PendingAction).one()
    bob.client.post(f"/official/actions/{early.id}/approve",
                    data={"csrf_token": csrf_token(_text(bob.client.get("/official/")))})
    assert "valid opening object signed by the credential authority" in _text(bob.client.get("/official/?lang=en"))
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"
    alice.client.post(f"/official/actions/{early.id}/cancel",
                      data={"csrf_token": csrf_token(_text(alice.client.get("/official/")))})
    election_setup.authorize(election)  # the CA pins alice's and bob's keys
    proposed = alice.client.post(f"/official/elections/{election.id}/propose/open_polls",
                                 data={"csrf_token": csrf_token(_text(alice.client.get("/official/")))})
    assert proposed.status_code == 302
    pending = db.session.query(PendingAction).filter_by(state="pending").one()
    # Alice's dashboard does not even offer her an approve button.
    assert f"/official/actions/{pending.id}/approve" not in _text(alice.client.get("/official/"))
    approved = bob.client.post(f"/official/actions/{pending.id}/approve",
                               data=approve_fields(_text(bob.client.get("/official/")), pending.id))
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "open"
    audit_page = _text(alice.client.get("/official/audit?lang=en"))
    assert "approve_open_polls" in audit_page and "official:bob" in audit_page  # the raw entry, folded
    assert "Official bob approved and carried out: Open polls (" in audit_page  # ... under its sentence
    assert "The audit log hash chain is intact." in audit_page
    actions = [e.action for e in db.session.query(AuditEntry)]
    assert actions.count("official_login") == 2


def test_pages_render_in_thai_by_default_and_english_on_request(browser: Browser) -> None:
    for url in ("/insured/login", "/insured/register", "/employer/login", "/employer/register",
                "/official/login"):
        thai = _text(browser.client.get(url))
        assert '<html lang="th">' in thai and "รหัสผ่าน" in thai, url
    for url in ("/insured/login?lang=en", "/employer/register?lang=en", "/official/login?lang=en"):
        english = _text(browser.client.get(url))
        assert '<html lang="en">' in english and "password" in english.lower(), url
    # The language switch is on every page.
    assert 'href="/language/th?next=' in _text(browser.client.get("/official/login"))



def test_approving_open_polls_without_a_key_is_refused_cleanly(accounts_app: Flask,
                                                                browser: Browser) -> None:
    """An action whose own check fails (no election key) is reported, not a server error."""
    from app.models import Official
    from app.services.administration import approvals

    election = db.session.query(Election).one()
    election.election_key = None
    db.session.commit()
    add_official("keyless-a")
    secret_b = add_official("keyless-b")
    proposer = db.session.query(Official).filter_by(username="keyless-a").one()
    pending = approvals.propose(election, "open_polls", proposer, browser.clock())
    assert browser.login("official", "keyless-b", secret_b).status_code == 302
    page = browser.client.get("/official/?lang=en")  # flashes are written in the session's language
    response = browser.client.post(f"/official/actions/{pending.id}/approve",
                                   data={"csrf_token": csrf_token(_text(page))})
    assert response.status_code == 302
    followed = _text(browser.client.get("/official/"))
    assert "Nothing was changed" in followed and "key ceremony" in followed
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"  # type: ignore[union-attr]
    assert db.session.get(PendingAction, pending.id).state == "pending"  # type: ignore[union-attr]


def test_expired_proposal_is_refused_and_shown_as_expired(accounts_app: Flask) -> None:
    alice_secret, bob_secret = add_official("alice", "admin"), add_official("bob")
    alice = browser_for(accounts_app)
    alice.login("official", "alice", alice_secret)
    election = db.session.query(Election).one()
    dash = alice.client.get("/official/")
    alice.client.post(f"/official/elections/{election.id}/propose/open_polls",
                      data={"csrf_token": csrf_token(_text(dash))})
    pending = db.session.query(PendingAction).one()
    waiting = _text(alice.client.get("/official/?lang=en"))
    assert "Valid until" in waiting and "expires if it is not approved within 24 hours" in waiting

    alice.clock.advance(24 * 3600 + 60)  # a day later, a second official comes by
    bob = browser_for(accounts_app)
    bob.login("official", "bob", bob_secret)
    token = csrf_token(_text(bob.client.get("/official/audit?lang=en")))
    refused = bob.client.post(f"/official/actions/{pending.id}/approve",
                              data={"csrf_token": token})
    assert refused.status_code == 302
    page = _text(bob.client.get("/official/"))
    assert "This proposal has expired" in page
    assert "Expired" in page and "was not approved before" in page
    assert f"/official/actions/{pending.id}/approve" not in page
    assert "Propose: Open polls" in page  # it can be proposed again
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"
    assert db.session.get(PendingAction, pending.id).state == "expired"
    assert "expire_open_polls" in _text(bob.client.get("/official/audit"))

    thai = _text(bob.client.get("/official/?lang=th"))
    assert "หมดอายุ" in thai and "ไม่ได้รับการอนุมัติก่อน" in thai
    bob.client.post(f"/official/actions/{pending.id}/approve", data={"csrf_token": csrf_token(thai)})
    assert "ข้อเสนอนี้หมดอายุแล้ว" in _text(bob.client.get("/official/"))
