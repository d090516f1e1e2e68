"""Registration and TOTP enrolment through the HTTP stack (CSRF enabled)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app.extensions import db
from app.models import ThrottleCounter, VoterAccount
from app.services.identity.identifiers import national_id_check_digit
from tests.support.auth_client import (  # noqa: F401
    PASSWORD,
    Browser,
    accounts_app,
    accounts_app_any,
    auth_app,
    browser,
    browser_for,
    roll,
)

_FLASH = re.compile(r'<div class="flash flash-\w+"[^>]*>([^<]*)</div>')


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _flashes(response) -> str:  # type: ignore[no-untyped-def]
    return " | ".join(_FLASH.findall(_text(response)))


def test_insured_registers_enrols_and_lands_on_home(accounts_app_any: Flask) -> None:
    b = browser_for(accounts_app_any)
    entry = roll("insured")
    b.signup("insured", entry.voter_key, entry.attribute)
    home = b.client.get("/insured/")
    assert home.status_code == 200
    account = db.session.query(VoterAccount).one()
    assert account.totp_confirmed and account.password_hash.startswith("$argon2id$")
    assert account.roll_entry_pk == entry.id
    # Raw IDs are not echoed on the voter's home page.
    assert entry.voter_key not in _text(home)


def test_bad_national_id_is_refused(browser: Browser) -> None:
    entry = roll("insured")
    wrong_check = entry.voter_key[:12] + str((int(entry.voter_key[12]) + 1) % 10)
    response = browser.register("insured", wrong_check, entry.attribute)
    assert response.status_code == 200
    assert db.session.query(VoterAccount).count() == 0
    assert "เลขประจำตัวประชาชน 13 หลักไม่ถูกต้อง" in _text(response)


def test_wrong_roll_data_gets_one_answer_for_both_cases(browser: Browser) -> None:
    entry = roll("insured")
    wrong_dob = browser.register("insured", entry.voter_key, "1950-01-01")
    prefix = "123456789012"
    not_on_roll = browser.register("insured", prefix + national_id_check_digit(prefix),
                                   entry.attribute)
    message = "ข้อมูลไม่ตรงกับบัญชีรายชื่อผู้มีสิทธิเลือกตั้ง"
    assert message in _text(wrong_dob) and message in _text(not_on_roll)
    assert db.session.query(VoterAccount).count() == 0


def test_buddhist_era_date_of_birth_is_understood(browser: Browser) -> None:
    entry = roll("insured", 1)
    year, month, day = entry.attribute.split("-")
    response = browser.register("insured", entry.voter_key, f"{day}/{month}/{int(year) + 543}")
    assert response.status_code == 302


def test_already_registered_is_refused(accounts_app: Flask) -> None:
    entry = roll("insured")
    browser_for(accounts_app).signup("insured", entry.voter_key, entry.attribute)
    again = browser_for(accounts_app).register("insured", entry.voter_key, entry.attribute)
    assert again.status_code == 200
    assert "มีบัญชีของผู้มีสิทธิรายนี้แล้ว" in _text(again)
    assert db.session.query(VoterAccount).count() == 1


def test_common_and_short_passwords_are_refused(browser: Browser) -> None:
    entry = roll("insured")
    common = browser.register("insured", entry.voter_key, entry.attribute, "password123")
    assert "รหัสผ่านนี้ใช้กันทั่วไปเกินไป" in _text(common)
    short = browser.register("insured", entry.voter_key, entry.attribute, "abc123")
    assert "อย่างน้อย 10 ตัวอักษร" in _text(short)
    assert db.session.query(VoterAccount).count() == 0


def test_enrolment_needs_a_valid_code(browser: Browser) -> None:
    entry = roll("insured")
    assert browser.register("insured", entry.voter_key, entry.attribute).status_code == 302
    page = _text(browser.client.get("/insured/enrol"))
    assert 'src="data:image/svg+xml;base64,' in page and 'autocomplete="one-time-code"' in page
    secret = browser.enrolment_secret("insured")
    wrong = browser.enrol("insured", secret, "000000" if browser.clock.code(secret) != "000000" else "111111")
    assert wrong.status_code == 200
    assert not db.session.query(VoterAccount).one().totp_confirmed
    assert browser.client.get("/insured/").status_code == 302  # not signed in
    assert browser.enrol("insured", secret).status_code == 302
    assert db.session.query(VoterAccount).one().totp_confirmed


def test_unfinished_enrolment_resumes_at_next_sign_in(accounts_app: Flask) -> None:
    entry = roll("insured")
    first = browser_for(accounts_app)
    first.register("insured", entry.voter_key, entry.attribute)
    secret = first.enrolment_secret("insured")
    later = browser_for(accounts_app)
    response = later.password("insured", entry.voter_key)
    assert response.headers["Location"] == "/insured/enrol"
    assert later.enrolment_secret("insured") == secret
    assert later.enrol("insured", secret).status_code == 302


def test_employer_registers_with_authorised_person(accounts_app: Flask) -> None:
    entry = roll("employer")
    b = browser_for(accounts_app)
    wrong = b.register("employer", entry.voter_key, roll("insured").voter_key)
    assert "ข้อมูลไม่ตรงกับบัญชีรายชื่อผู้มีสิทธิเลือกตั้ง" in _text(wrong)
    b.signup("employer", entry.voter_key, entry.attribute)
    assert b.client.get("/employer/").status_code == 200
    assert db.session.query(VoterAccount).one().electorate == "employer"


def test_forms_are_labelled_and_autocomplete_is_set(browser: Browser) -> None:
    register = _text(browser.client.get("/insured/register"))
    for field in ("voter_key", "attribute", "password", "confirm"):
        assert f'<label for="{field}">' in register
    assert register.count('autocomplete="new-password"') == 2
    login = _text(browser.client.get("/employer/login"))
    assert 'autocomplete="current-password"' in login and '<label for="login_id">' in login
    assert "<script" not in register + login and "style=" not in register + login


# --- guessing the date of birth from many addresses ------------------------------------------
NO_MATCH = "ข้อมูลไม่ตรงกับบัญชีรายชื่อผู้มีสิทธิเลือกตั้ง"


@pytest.fixture
def capped_app(tmp_path: Path) -> Iterator[Flask]:
    """Three checks of the roll data per (identifier, client) a day, six per identifier over
    every client; a generous per-IP limit."""
    yield from auth_app(tmp_path, AUTH_REGISTRATION_MAX_FAILURES=3,
                        AUTH_REGISTRATION_IDENTIFIER_MAX_FAILURES=6,
                        AUTH_IP_RATE_LIMIT="1000 per minute")


def _from_address(app: Flask, address: str) -> Browser:
    b = browser_for(app)
    b.client.environ_base["REMOTE_ADDR"] = address
    return b


def test_one_address_cannot_block_a_voters_registration(capped_app: Flask) -> None:
    """Issue 22: wrong dates of birth from one address blocked the voter for 24 h. Now the cap
    is per (identifier, client): the attacker's address stops being answered, the voter's own
    is not."""
    entry = roll("insured")
    attacker = _from_address(capped_app, "198.51.100.1")
    for dob in ("1950-01-01", "1950-01-02", "1950-01-03"):
        assert NO_MATCH in _text(attacker.register("insured", entry.voter_key, dob))
    # The right date from the attacker's address: the same answer as a wrong one, no account.
    right = attacker.register("insured", entry.voter_key, entry.attribute)
    assert right.status_code == 200 and NO_MATCH in _text(right)
    assert db.session.query(VoterAccount).count() == 0
    # The voter, at home:
    voter = _from_address(capped_app, "203.0.113.9")
    assert voter.register("insured", entry.voter_key, entry.attribute).status_code == 302


def test_roll_entry_stops_answering_after_the_cap_over_many_addresses(capped_app: Flask) -> None:
    """A guesser spread over many addresses still gets a bounded number of checks per roll
    entry (every client together); an official's unlock lifts it."""
    entry = roll("insured")
    for n in range(6):
        wrong = _from_address(capped_app, f"198.51.100.{n}").register(
            "insured", entry.voter_key, f"1950-01-{n + 1:02d}")
        assert NO_MATCH in _text(wrong)
    right = _from_address(capped_app, "203.0.113.9").register("insured", entry.voter_key,
                                                              entry.attribute)
    assert right.status_code == 200 and NO_MATCH in _text(right)
    assert db.session.query(VoterAccount).count() == 0
    # Another roll entry is not affected; after the day the real voter registers.
    other = roll("insured", 1)
    assert browser_for(capped_app).register("insured", other.voter_key,
                                            other.attribute).status_code == 302
    capped_app.config["AUTH_CLOCK"].advance(24 * 3600 + 1)
    again = _from_address(capped_app, "203.0.113.9").register("insured", entry.voter_key,
                                                              entry.attribute)
    assert again.status_code == 302


def test_capped_roll_entry_looks_like_an_id_off_the_roll(capped_app: Flask) -> None:
    """The cap counts IDs that are not on the roll too, so hitting it reveals nothing."""
    entry = roll("employer")
    prefix = "123456789012"
    unknown_authorised = prefix + national_id_check_digit(prefix)
    off_roll = "9999999999"
    answers: dict[str, list[str]] = {}
    for key in (entry.voter_key, off_roll):
        b = browser_for(capped_app)
        answers[key] = [_flashes(b.register("employer", key, unknown_authorised))
                        for _ in range(4)]
    assert answers[entry.voter_key] == answers[off_roll]
    assert all(NO_MATCH in flash for flash in answers[off_roll])
    keys = [row.key for row in db.session.query(ThrottleCounter)]
    assert len(keys) == 4 and entry.voter_key not in "".join(keys)  # this client's, everyone's


def test_employer_cap_holds_for_the_authorised_person_check(capped_app: Flask) -> None:
    entry = roll("employer")
    for n in range(6):
        wrong = roll("insured", n).voter_key
        if wrong == entry.attribute:
            wrong = roll("insured", n + 10).voter_key
        _from_address(capped_app, f"198.51.100.{n}").register("employer", entry.voter_key, wrong)
    right = browser_for(capped_app).register("employer", entry.voter_key, entry.attribute)
    assert NO_MATCH in _text(right)
    assert db.session.query(VoterAccount).count() == 0

