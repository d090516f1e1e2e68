"""Lock-out abuse (issue 22): knowing only a voter's ID, an attacker kept the voter locked out
with one failure per lock, and blocked registration for 24 h with no way for an official to
lift it. Now: a stranger's failures lock the stranger's client; failures from many addresses
lock the identifier but never the voter's remembered device; officials unlock, audited."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app.extensions import db
from app.models import AuditEntry, PendingAction, VoterAccount
from tests.support.official_pages import approve_fields
from tests.support.auth_client import (
    PASSWORD,
    add_official,
    auth_app,
    browser_at,
    browser_for,
    csrf_token,
    issue_code,
    outbox,
    registered_voter,
    roll,
)

LOCKED = "พยายามผิดหลายครั้งเกินไป"
NO_MATCH = "ข้อมูลไม่ตรงกับบัญชีรายชื่อผู้มีสิทธิเลือกตั้ง"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Six password failures per identifier over every client lock it for the hour; six
    activation-code checks per identifier a day; per-client limits as in production."""
    yield from auth_app(tmp_path, AUTH_IDENTIFIER_MAX_FAILURES_PER_HOUR=6,
                        AUTH_IDENTIFIER_FREE_FAILURES=100,
                        AUTH_REGISTRATION_IDENTIFIER_MAX_FAILURES=6,
                        AUTH_IP_RATE_LIMIT="1000 per minute")


def _spread_guesses(app: Flask, login_id: str, count: int = 6) -> None:
    for n in range(count):
        browser_at(app, f"198.51.100.{n}").password("insured", login_id, "wrong password 123")


@pytest.fixture
def default_app(tmp_path: Path) -> Iterator[Flask]:
    yield from auth_app(tmp_path)


def test_one_failure_per_lock_no_longer_keeps_the_voter_out(default_app: Flask) -> None:
    """Default limits: the attacker's address backs off after 5 failures; the voter does not."""
    app = default_app
    login_id, secret = registered_voter(app)
    attacker = browser_at(app, "198.51.100.99")
    for _ in range(6):
        attacker.password("insured", login_id, "wrong password 123")
    assert LOCKED in attacker.password("insured", login_id,
                                       "wrong password 123").get_data(as_text=True)
    voter = browser_at(app, "192.0.2.1")  # a new device of the voter, another network
    assert voter.login("insured", login_id, secret).headers["Location"] == "/insured/"


def test_remembered_device_is_never_held_by_a_distributed_lock(app: Flask) -> None:
    login_id, secret = registered_voter(app)
    phone = browser_at(app, "192.0.2.2")
    phone.login("insured", login_id, secret)  # a complete sign-in remembers this browser
    assert phone.client.get_cookie("ssbvote_device") is not None
    phone.logout("insured")
    _spread_guesses(app, login_id)
    # A browser the account never signed in from is locked, like the attacker's ...
    new_device = browser_at(app, "192.0.2.3").password("insured", login_id)
    assert new_device.status_code == 200 and LOCKED in new_device.get_data(as_text=True)
    # ... the voter's phone is not, even at the attackers' address.
    phone.client.environ_base["REMOTE_ADDR"] = "198.51.100.0"
    phone.clock.tick()
    assert phone.login("insured", login_id, secret).headers["Location"] == "/insured/"


def test_a_device_cookie_of_another_account_or_forged_gives_no_bypass(app: Flask) -> None:
    victim_id, _ = registered_voter(app, index=0)
    other_id, other_secret = registered_voter(app, index=1)
    attacker = browser_at(app, "198.51.100.50")
    attacker.login("insured", other_id, other_secret)  # the attacker's own account
    _spread_guesses(app, victim_id)
    locked = attacker.password("insured", victim_id, PASSWORD)
    assert LOCKED in locked.get_data(as_text=True)
    forged = browser_at(app, "198.51.100.51")
    forged.client.set_cookie("ssbvote_device", "eyJrIjoiaW5zdXJlZCIsInAiOjEsImQiOiJ4In0.forged")
    assert LOCKED in forged.password("insured", victim_id, PASSWORD).get_data(as_text=True)


def test_official_unlock_lifts_sign_in_and_registration_locks_audited(app: Flask) -> None:
    login_id, secret = registered_voter(app, index=0)
    _spread_guesses(app, login_id)
    unregistered = roll("insured", 1)
    letter = issue_code(app, "insured", unregistered.voter_key)
    for n in range(6):  # wrong activation codes from six addresses
        browser_at(app, f"203.0.113.{n}").register("insured", unregistered.voter_key,
                                                    f"0000-0000-0000-{n:04d}")
    new_device = browser_at(app, "192.0.2.4")
    assert LOCKED in new_device.password("insured", login_id).get_data(as_text=True)
    voter_two = browser_at(app, "192.0.2.5")
    # The voter's own letter is refused now, like a wrong code.
    assert NO_MATCH in voter_two.register("insured", unregistered.voter_key,
                                          letter).get_data(as_text=True)

    officer = browser_for(app)
    officer.login("official", "olivia", add_official("olivia"))
    for voter_key in (login_id, unregistered.voter_key):
        done = officer.submit("/official/voters/unlock", {
            "electorate": "insured", "voter_key": voter_key,
            "reason": "locked out by someone else; ID card checked at branch 12"})
        assert done.status_code == 302
    not_on_roll = officer.submit("/official/voters/unlock", {
        "electorate": "insured", "voter_key": "1234567890121", "reason": "typo check"})
    assert not_on_roll.status_code == 200

    new_device.clock.tick()
    assert new_device.login("insured", login_id, secret).headers["Location"] == "/insured/"
    assert voter_two.register("insured", unregistered.voter_key, letter).status_code == 302
    entries = db.session.query(AuditEntry).filter_by(action="voter_unlocked").all()
    assert len(entries) == 2 and {e.actor for e in entries} == {"official:olivia"}
    text = json.dumps([(e.subject, e.details) for e in entries])
    assert login_id not in text and unregistered.voter_key not in text  # pseudonyms only
    assert "branch 12" in text
    # Unlocking changes no password and no authenticator.
    assert db.session.query(VoterAccount).count() == 2


def test_a_voter_cannot_unlock(app: Flask) -> None:
    login_id, secret = registered_voter(app)
    voter = browser_for(app)
    voter.login("insured", login_id, secret)
    assert voter.client.get("/official/voters/unlock").status_code in (302, 403)


# --- identity proofing lifts the locks (issue 22: activation codes, recovery, release) --------
def test_recovery_lifts_the_identifiers_sign_in_locks(app: Flask) -> None:
    """Failures spread over many addresses lock the identifier for every new device; a voter
    who proves identity again with a new activation code is not kept out by them."""
    login_id, _ = registered_voter(app)
    _spread_guesses(app, login_id)
    assert LOCKED in browser_at(app, "192.0.2.6").password("insured", login_id).get_data(
        as_text=True)
    code = issue_code(app, "insured", login_id, "request")
    voter = browser_at(app, "192.0.2.7")
    assert voter.recover("insured", login_id, code, "a brand new passphrase").status_code == 302
    assert voter.enrol("insured", voter.enrolment_secret("insured")).status_code == 302
    voter.logout("insured")
    later = browser_at(app, "192.0.2.8")  # yet another device, never signed in
    later.clock.tick()
    answer = later.password("insured", login_id, "a brand new passphrase")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/code")


def test_a_release_lifts_the_locks_the_squatter_left(app: Flask) -> None:
    """The squatter, expecting a release, caps the identifier's activation-code checks from
    many addresses so that the real voter's fresh code would be refused for a day. The two
    officials' release clears every registration and sign-in counter of the identifier."""
    entry = roll("insured")
    squatter = browser_at(app, "198.51.100.200")
    stolen = issue_code(app, "insured", entry.voter_key)
    assert squatter.register("insured", entry.voter_key, stolen, "squatter keeps it 2569").status_code == 302
    for n in range(6):
        browser_at(app, f"198.51.100.{n}").register("insured", entry.voter_key,
                                                    f"0000-0000-0000-{n:04d}")
        browser_at(app, f"198.51.100.{n}").password("insured", entry.voter_key, "wrong password 123")
    alice, bob = browser_for(app), browser_for(app)
    alice.login("official", "alice", add_official("alice"))
    bob.login("official", "bob", add_official("bob"))
    assert alice.submit("/official/voters/release", {
        "electorate": "insured", "voter_key": entry.voter_key,
        "reason": "voter came to branch 12 with ID card; account not theirs"}).status_code == 302
    pending = db.session.query(PendingAction).filter_by(action="release_account").one()
    page = bob.client.get("/official/").get_data(as_text=True)
    assert bob.client.post(f"/official/actions/{pending.id}/approve",
                           data=approve_fields(page, pending.id)).status_code == 302
    fresh = re.search(r"code: ([0-9A-Z-]+)\.", outbox(app)[-1]["text_en"])
    assert fresh
    voter = browser_at(app, "192.0.2.9")  # a new device of the real voter
    assert voter.register("insured", entry.voter_key, fresh.group(1)).status_code == 302
    assert voter.enrol("insured", voter.enrolment_secret("insured")).status_code == 302
    assert voter.client.get("/insured/").status_code == 200
