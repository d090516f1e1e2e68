"""Attacks on sign-in and authorization: replay, guessing, CSRF, wrong audience, self-approval
and ID enumeration (squatting and account release: test_squatting.py)."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, Election, Official, PendingAction, ThrottleCounter, VoterAccount
from tests.conftest import build_app, make_config
from tests.support.official_pages import approve_fields
from tests.support import election_setup
from tests.support.auth_client import (  # noqa: F401
    FAST_ARGON2,
    PASSWORD,
    Browser,
    accounts_app,
    add_official,
    auth_app,
    browser,
    browser_at,
    browser_for,
    csrf_token,
    issue_code,
    registered_voter,
    roll,
)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)




GENERIC = "เลขประจำตัว รหัสผ่าน หรือรหัสยืนยันไม่ถูกต้อง"
#: The code step, reached only with the right password, says what to check (issue 18).
WRONG_CODE = "รหัสไม่ถูกต้องหรือถูกใช้ไปแล้ว"
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
    assert replay.status_code == 200 and WRONG_CODE in _text(replay)
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
    # Password failures lock this client on this identifier, not the account's TOTP step, and
    # not the voter at another address (issue 22: lock-out abuse).
    assert db.session.query(VoterAccount).one().failed_attempts == 0
    assert browser_at(strict_app, "198.51.100.20").password("insured", login_id).status_code == 302
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
        assert WRONG_CODE in _text(b.code("insured", bad))
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
    from app.services.identity import passwords

    calls: list[str] = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: calls.append(h[:9]) or real(h, p))
    browser_for(accounts_app).password("insured", "1234567890121", "wrong password 1")
    assert calls == ["$argon2id"]


# --- enumeration through lock-out ------------------------------------------------------------
_FLASH = re.compile(r'<div class="flash flash-(\w+)"[^>]*>([^<]*)</div>')
UNKNOWN_INSURED = "1234567890121"  # valid check digit, not on the roll


def _seen(response) -> tuple[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """What a guesser observes: the status code and the messages shown."""
    return response.status_code, _FLASH.findall(_text(response))


def _guesses(app: Flask, kind: str, login_id: str, count: int) -> list[tuple[int, list]]:
    b = browser_for(app)
    return [_seen(b.password(kind, login_id, "wrong password 123")) for _ in range(count)]


@pytest.mark.parametrize("kind", ["insured", "official"])
def test_lock_out_looks_the_same_for_unknown_and_existing_ids(accounts_app: Flask,
                                                              kind: str) -> None:
    """Back-off from the 6th failure: an unknown ID is locked exactly like a real one."""
    if kind == "insured":
        known, _ = registered_voter(accounts_app)
        unknown = UNKNOWN_INSURED
    else:
        add_official("alice")
        known, unknown = "alice", "mallory"
    clock = accounts_app.config["AUTH_CLOCK"]
    start = clock.now
    known_seen = _guesses(accounts_app, kind, known, 8)
    clock.now = start  # the same moments for the unknown ID
    unknown_seen = _guesses(accounts_app, kind, unknown, 8)
    assert known_seen == unknown_seen
    assert [status for status, _ in known_seen] == [200] * 8
    assert any(LOCKED in text for _, flashes in known_seen for _, text in flashes)
    # ... and with the right password of the real account, during the lock:
    assert _seen(browser_for(accounts_app).password(kind, known))[1] == \
        _seen(browser_for(accounts_app).password(kind, unknown))[1]


def test_hard_limit_locks_unknown_ids_for_the_rest_of_the_hour(strict_app: Flask) -> None:
    login_id, _ = registered_voter(strict_app)
    clock = strict_app.config["AUTH_CLOCK"]
    start = clock.now
    known_seen = _guesses(strict_app, "insured", login_id, 5)
    clock.now = start
    unknown_seen = _guesses(strict_app, "insured", UNKNOWN_INSURED, 5)
    assert known_seen == unknown_seen
    # Locked, and the message does not say until when (a stranger must not learn when to
    # strike again, issue 22).
    assert LOCKED in known_seen[3][1][0][1] and not re.search(r"\d", known_seen[3][1][0][1])


def test_malformed_and_dashed_ids_count_like_the_id_they_normalise_to(strict_app: Flask) -> None:
    dashed = f"{UNKNOWN_INSURED[0]}-{UNKNOWN_INSURED[1:5]}-{UNKNOWN_INSURED[5:]}"
    b = browser_for(strict_app)
    for typed in (UNKNOWN_INSURED, dashed, f" {UNKNOWN_INSURED} "):
        assert GENERIC in _text(b.password("insured", typed, "wrong password 123"))
    assert LOCKED in _text(b.password("insured", UNKNOWN_INSURED, "wrong password 123"))
    # Another identifier, even a malformed one, has its own counter.
    assert GENERIC in _text(b.password("insured", "12", "wrong password 123"))


def test_wrong_codes_lock_the_totp_step_not_the_password_step(strict_app: Flask) -> None:
    """TOTP failures count on the account and lock its TOTP step; the password step still
    answers like an unknown ID's (no enumeration), and password guesses by a stranger never
    lock the owner's TOTP step (issue 22: "the TOTP step shares the lock")."""
    login_id, secret = registered_voter(strict_app)
    b = browser_for(strict_app)
    b.password("insured", login_id)
    bad = "000000" if b.clock.code(secret) != "000000" else "111111"
    for _ in range(3):
        b.code("insured", bad)
    assert LOCKED in _text(b.code("insured", b.clock.code(secret)))
    stranger = browser_at(strict_app, "198.51.100.30")
    assert GENERIC in _text(stranger.password("insured", login_id, "wrong password 123"))
    assert _seen(browser_at(strict_app, "198.51.100.31").password(
        "insured", UNKNOWN_INSURED, "wrong password 123")) == _seen(
        browser_at(strict_app, "198.51.100.32").password("insured", login_id,
                                                         "wrong password 123"))


def test_stranger_password_guesses_do_not_lock_the_owners_totp_step(strict_app: Flask) -> None:
    login_id, secret = registered_voter(strict_app)
    owner = browser_at(strict_app, "192.0.2.10")
    assert owner.password("insured", login_id).status_code == 302
    for _ in range(5):
        browser_at(strict_app, "198.51.100.40").password("insured", login_id, "wrong password 1")
    owner.clock.tick()
    assert owner.code("insured", owner.clock.code(secret)).headers["Location"] == "/insured/"


def test_a_successful_sign_in_does_not_reset_what_a_guesser_sees(accounts_app: Flask) -> None:
    """The identifier's counter (every client) outlives the owner's sign-in elsewhere, as an
    unknown ID's does: the guesser's next answer is the same for both."""
    login_id, secret = registered_voter(accounts_app)
    clock = accounts_app.config["AUTH_CLOCK"]
    start = clock.now
    guesser = "198.51.100.50"
    known = browser_at(accounts_app, guesser)
    for _ in range(5):
        known.password("insured", login_id, "wrong password 123")
    browser_at(accounts_app, "192.0.2.11").login("insured", login_id, secret)
    after_known = _seen(known.password("insured", login_id, "wrong password 123"))
    clock.now = start
    unknown = browser_at(accounts_app, guesser)
    for _ in range(5):
        unknown.password("insured", UNKNOWN_INSURED, "wrong password 123")
    clock.tick()
    after_unknown = _seen(unknown.password("insured", UNKNOWN_INSURED, "wrong password 123"))
    assert after_known == after_unknown


def test_locked_ids_cost_no_argon2_work_known_or_not(strict_app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.services.identity import passwords

    login_id, _ = registered_voter(strict_app)
    _guesses(strict_app, "insured", login_id, 3)
    _guesses(strict_app, "insured", UNKNOWN_INSURED, 3)
    calls: list[str] = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    for login in (login_id, UNKNOWN_INSURED):
        assert LOCKED in _text(browser_for(strict_app).password("insured", login))
    assert calls == []


def test_failure_counters_hold_no_raw_identifier(strict_app: Flask) -> None:
    login_id, _ = registered_voter(strict_app)
    _guesses(strict_app, "insured", login_id, 2)
    _guesses(strict_app, "insured", UNKNOWN_INSURED, 2)
    keys = [row.key for row in db.session.query(ThrottleCounter)]
    # Per identifier: this client's counter and every client's; and the every-client
    # registration counter of the voter's own sign-up (given back, it runs out with its window).
    assert len(keys) == 5
    for key in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        assert login_id not in key and UNKNOWN_INSURED not in key


def test_recovery_with_a_new_activation_code_unlocks_the_identifier(strict_app: Flask) -> None:
    login_id, _ = registered_voter(strict_app)
    _guesses(strict_app, "insured", login_id, 3)
    assert LOCKED in _text(browser_for(strict_app).password("insured", login_id))
    code = issue_code(strict_app, "insured", login_id, "request")
    assert browser_for(strict_app).recover("insured", login_id, code).status_code == 302
    assert browser_for(strict_app).password("insured", login_id).headers["Location"] == \
        "/insured/enrol"


# --- per-IP limits behind a reverse proxy ----------------------------------------------------
def _proxied_app(tmp_path: Path, hops: int) -> Iterator[Flask]:
    config = replace(make_config(tmp_path, **FAST_ARGON2, AUTH_IP_RATE_LIMIT="2 per minute"),
                     proxy_hops=hops)
    application = build_app(config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _from(app: Flask, forwarded_for: str) -> Browser:
    """A browser whose requests reach the app through a proxy at 127.0.0.1."""
    b = browser_for(app)
    b.client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    return b


def _attempts(b: Browser, count: int) -> list[int]:
    return [b.password("insured", UNKNOWN_INSURED, "whatever password").status_code
            for _ in range(count)]


def test_behind_one_proxy_the_limit_keys_on_x_forwarded_for(tmp_path: Path) -> None:
    gen = _proxied_app(tmp_path, hops=1)
    app = next(gen)
    try:
        assert _attempts(_from(app, "203.0.113.7"), 3) == [200, 200, 429]
        assert _attempts(_from(app, "203.0.113.8"), 1) == [200]  # another client, own bucket
        # A client cannot escape by making up earlier hops: the proxy's entry is the last.
        assert _attempts(_from(app, "198.51.100.1, 203.0.113.7"), 1) == [429]
    finally:
        next(gen, None)


def test_without_a_proxy_x_forwarded_for_is_ignored(tmp_path: Path) -> None:
    gen = _proxied_app(tmp_path, hops=0)
    app = next(gen)
    try:
        assert _attempts(_from(app, "203.0.113.7"), 2) == [200, 200]
        # A made-up header does not buy a new bucket: the peer address is the client.
        assert _attempts(_from(app, "203.0.113.8"), 1) == [429]
    finally:
        next(gen, None)


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


def test_forms_work_over_https_with_our_referrer_policy(accounts_app: Flask) -> None:
    """Behind TLS Flask-WTF demands a same-origin Referer; the policy must let browsers send
    it (no-referrer made every sign-in a 400), and a foreign one is still refused."""
    login_id, _ = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    page = b.client.get("/insured/login", base_url="https://vote.example")
    assert page.headers["Referrer-Policy"] in {"same-origin", "strict-origin",
                                               "strict-origin-when-cross-origin", "origin"}
    data = {"login_id": login_id, "password": PASSWORD,
            "csrf_token": csrf_token(_text(page))}
    ok = b.client.post("/insured/login", base_url="https://vote.example", data=data,
                       headers={"Referer": "https://vote.example/insured/login"})
    assert ok.status_code == 302
    foreign = b.client.post("/insured/login", base_url="https://vote.example", data=data,
                            headers={"Referer": "https://evil.example/"})
    assert foreign.status_code == 400


# --- audiences -------------------------------------------------------------------------------
def test_insured_voter_cannot_reach_employer_or_official_pages(accounts_app: Flask) -> None:
    login_id, secret = registered_voter(accounts_app)
    b = browser_for(accounts_app)
    b.login("insured", login_id, secret)
    assert b.client.get("/employer/").status_code == 403
    for url in ("/official/", "/official/audit", "/official/voters/release"):
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
    election_setup.authorize(election)  # the CA's opening, pinning alice's and bob's keys

    def post(b: Browser, url: str):  # type: ignore[no-untyped-def]
        return b.client.post(url, data={"csrf_token": csrf_token(_text(b.client.get("/official/")))})

    post(alice, f"/official/elections/{election.id}/propose/open_polls")
    pending = db.session.query(PendingAction).one()
    refused = post(alice, f"/official/actions/{pending.id}/approve")
    assert refused.status_code == 302
    assert "ต้องให้เจ้าหน้าที่คนอื่นเป็นผู้อนุมัติ" in _text(alice.client.get("/official/"))
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "draft"
    # Bob approves what his dashboard's approval card shows (its digest: the opening's hash).
    bob.client.post(f"/official/actions/{pending.id}/approve",
                    data=approve_fields(_text(bob.client.get("/official/")), pending.id))
    db.session.expire_all()
    assert db.session.get(Election, election.id).status == "open"
    pending = db.session.get(PendingAction, pending.id)
    assert pending.state == "approved" and pending.proposer.username == "alice"
    assert pending.decider is not None and pending.decider.username == "bob"
    log = [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert ("official:alice", "propose_open_polls") in log
    assert ("official:alice", "self_approval_refused") in log
    assert ("official:bob", "approve_open_polls") in log


def test_inactive_official_loses_access(accounts_app: Flask) -> None:
    b = browser_for(accounts_app)
    b.login("official", "alice", add_official("alice", "admin"))
    assert b.client.get("/official/").status_code == 200
    db.session.query(Official).filter_by(username="alice").update({"active": False})
    db.session.commit()
    assert b.client.get("/official/").status_code == 302
