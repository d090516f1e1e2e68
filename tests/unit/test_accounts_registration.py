"""Registration (with an activation code, docs/accounts.md §9) and TOTP enrolment through the
HTTP stack (CSRF enabled)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask

from app.extensions import db
from app.models import ActivationCode, ThrottleCounter, VoterAccount
from app.services.identity.identifiers import national_id_check_digit
from tests.support.auth_client import (  # noqa: F401
    PASSWORD,
    Browser,
    accounts_app,
    accounts_app_any,
    auth_app,
    browser,
    browser_for,
    issue_code,
    outbox,
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
    b.signup("insured", entry.voter_key)
    home = b.client.get("/insured/")
    assert home.status_code == 200
    account = db.session.query(VoterAccount).one()
    assert account.totp_confirmed and account.password_hash.startswith("$argon2id$")
    assert account.roll_entry_pk == entry.id
    # Raw IDs are not echoed on the voter's home page.
    assert entry.voter_key not in _text(home)
    # The code is spent, stored only as a hash; the voter was told by the sender.
    codes = db.session.query(ActivationCode).all()
    assert len(codes) == 1 and codes[0].used_at is not None and len(codes[0].code_hash) == 64
    kinds = [m["kind"] for m in outbox(accounts_app_any)]
    assert kinds == ["activation_code", "registered"]


def test_bad_national_id_is_refused(browser: Browser) -> None:
    entry = roll("insured")
    code = issue_code(browser.client.application, "insured", entry.voter_key)
    wrong_check = entry.voter_key[:12] + str((int(entry.voter_key[12]) + 1) % 10)
    response = browser.register("insured", wrong_check, code)
    assert response.status_code == 200
    assert db.session.query(VoterAccount).count() == 0
    assert "เลขประจำตัวประชาชน 13 หลักไม่ถูกต้อง" in _text(response)


NO_MATCH = "ข้อมูลไม่ตรงกับบัญชีรายชื่อผู้มีสิทธิเลือกตั้ง"


def test_squatting_with_id_and_date_of_birth_alone_is_impossible(browser: Browser) -> None:
    """Issue 22's squatting attack: the national ID and date of birth (printed on every ID-card
    copy) no longer register anyone, in any form the old page took."""
    entry = roll("insured")
    for attempt in ({"voter_key": entry.voter_key, "attribute": entry.attribute,
                     "password": PASSWORD, "confirm": PASSWORD},
                    {"voter_key": entry.voter_key, "code": entry.attribute,
                     "password": PASSWORD, "confirm": PASSWORD},
                    {"voter_key": entry.voter_key, "code": entry.attribute.replace("-", "") * 2,
                     "password": PASSWORD, "confirm": PASSWORD}):
        response = browser.submit("/insured/register", attempt)
        assert response.status_code == 200
    assert db.session.query(VoterAccount).count() == 0


def test_wrong_code_and_off_roll_get_one_answer(browser: Browser) -> None:
    entry = roll("insured")
    app = browser.client.application
    real = issue_code(app, "insured", entry.voter_key)
    other = issue_code(app, "insured", roll("insured", 1).voter_key)
    wrong = browser.register("insured", entry.voter_key, other)  # someone else's code
    prefix = "123456789012"
    not_on_roll = browser.register("insured", prefix + national_id_check_digit(prefix), real)
    assert NO_MATCH in _text(wrong) and NO_MATCH in _text(not_on_roll)
    assert _flashes(wrong) == _flashes(not_on_roll)
    assert db.session.query(VoterAccount).count() == 0


def test_code_is_single_use(accounts_app: Flask) -> None:
    entry = roll("insured")
    code = issue_code(accounts_app, "insured", entry.voter_key)
    assert browser_for(accounts_app).register("insured", entry.voter_key, code).status_code == 302
    db.session.query(VoterAccount).delete()  # even with the account gone, the code stays spent
    db.session.commit()
    again = browser_for(accounts_app).register("insured", entry.voter_key, code)
    assert again.status_code == 200 and NO_MATCH in _text(again)
    assert db.session.query(VoterAccount).count() == 0


def test_expired_code_is_refused(accounts_app: Flask) -> None:
    entry = roll("insured")
    code = issue_code(accounts_app, "insured", entry.voter_key)
    accounts_app.config["AUTH_CLOCK"].advance(30 * 24 * 3600 + 1)
    late = browser_for(accounts_app).register("insured", entry.voter_key, code)
    assert late.status_code == 200 and NO_MATCH in _text(late)
    assert db.session.query(VoterAccount).count() == 0


def test_code_typing_is_forgiving(browser: Browser) -> None:
    entry = roll("insured", 1)
    code = issue_code(browser.client.application, "insured", entry.voter_key)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert browser.register("insured", entry.voter_key, typed).status_code == 302


def test_malformed_code_is_explained(browser: Browser) -> None:
    entry = roll("insured")
    response = browser.register("insured", entry.voter_key, "1234")
    assert "รหัสเปิดใช้งานมีตัวอักษรและตัวเลข 16 ตัว" in _text(response)
    assert db.session.query(ThrottleCounter).count() == 0  # no roll lookup, nothing counted


def test_already_registered_is_refused(accounts_app: Flask) -> None:
    entry = roll("insured")
    browser_for(accounts_app).signup("insured", entry.voter_key)
    code = issue_code(accounts_app, "insured", entry.voter_key)
    again = browser_for(accounts_app).register("insured", entry.voter_key, code)
    assert again.status_code == 200
    assert "มีบัญชีของผู้มีสิทธิรายนี้แล้ว" in _text(again)
    assert db.session.query(VoterAccount).count() == 1
    # The code was not spent by the refusal: it still recovers the account.
    assert browser_for(accounts_app).recover("insured", entry.voter_key, code).status_code == 302


def test_common_and_short_passwords_are_refused_without_spending_the_code(browser: Browser) -> None:
    entry = roll("insured")
    code = issue_code(browser.client.application, "insured", entry.voter_key)
    common = browser.register("insured", entry.voter_key, code, "password123")
    assert "รหัสผ่านนี้ใช้กันทั่วไปเกินไป" in _text(common)
    short = browser.register("insured", entry.voter_key, code, "abc123")
    assert "อย่างน้อย 10 ตัวอักษร" in _text(short)
    birthday = browser.register("insured", entry.voter_key, code,
                                f"born {entry.attribute} x")
    assert "ห้ามมีเลขประจำตัว" in _text(birthday) or birthday.status_code == 200
    assert db.session.query(VoterAccount).count() == 0
    assert browser.register("insured", entry.voter_key, code).status_code == 302


def test_enrolment_needs_a_valid_code(browser: Browser) -> None:
    entry = roll("insured")
    code = issue_code(browser.client.application, "insured", entry.voter_key)
    assert browser.register("insured", entry.voter_key, code).status_code == 302
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
    first.register("insured", entry.voter_key, issue_code(accounts_app, "insured", entry.voter_key))
    secret = first.enrolment_secret("insured")
    later = browser_for(accounts_app)
    response = later.password("insured", entry.voter_key)
    assert response.headers["Location"] == "/insured/enrol"
    assert later.enrolment_secret("insured") == secret
    assert later.enrol("insured", secret).status_code == 302


def test_employer_registers_with_an_activation_code(accounts_app: Flask) -> None:
    entry = roll("employer")
    b = browser_for(accounts_app)
    wrong = b.register("employer", entry.voter_key, entry.attribute)  # the authorised person's ID
    assert wrong.status_code == 200
    b.signup("employer", entry.voter_key)
    assert b.client.get("/employer/").status_code == 200
    assert db.session.query(VoterAccount).one().electorate == "employer"


def test_forms_are_labelled_and_autocomplete_is_set(browser: Browser) -> None:
    register = _text(browser.client.get("/insured/register"))
    for field in ("voter_key", "code", "password", "confirm"):
        assert f'<label for="{field}">' in register
    assert 'name="attribute"' not in register
    assert register.count('autocomplete="new-password"') == 2
    login = _text(browser.client.get("/employer/login"))
    assert 'autocomplete="current-password"' in login and '<label for="login_id">' in login
    assert "<script" not in register + login and "style=" not in register + login


# --- asking for a code -----------------------------------------------------------------------
def test_asking_for_a_code_sends_it_out_of_band_only(accounts_app: Flask) -> None:
    entry = roll("insured", 2)
    b = browser_for(accounts_app)
    prefix = "123456789012"
    answers = []
    for key in (entry.voter_key, prefix + national_id_check_digit(prefix)):
        response = b.submit("/insured/activation", {"voter_key": key})
        assert response.status_code == 302
        answers.append(_flashes(b.client.get(response.headers["Location"])))
    assert answers[0] == answers[1]  # the same answer on the roll or not
    sent = [m for m in outbox(accounts_app) if m["kind"] == "activation_code"]
    assert len(sent) == 1 and sent[0]["pseudonym"] == entry.pseudonym
    # The code is in the letter only; it registers the voter.
    code = sent[0]["text_en"].split("code: ")[1].split(".")[0]
    assert code not in "".join(answers)
    assert browser_for(accounts_app).register("insured", entry.voter_key, code).status_code == 302


def test_requests_cannot_flood_or_void_letters(accounts_app: Flask) -> None:
    entry = roll("insured")
    letter = issue_code(accounts_app, "insured", entry.voter_key)
    b = browser_for(accounts_app)
    for _ in range(6):
        b.submit("/insured/activation", {"voter_key": entry.voter_key})
    assert db.session.query(ActivationCode).filter_by(roll_entry_pk=entry.id).count() == 3
    # The letter already on its way still works.
    assert browser_for(accounts_app).register("insured", entry.voter_key, letter).status_code == 302
    # ... and using it voided the others.
    assert all(c.used_at is not None for c in db.session.query(ActivationCode))


# --- guessing codes from many addresses -------------------------------------------------------
@pytest.fixture
def capped_app(tmp_path: Path) -> Iterator[Flask]:
    """Three code checks per (identifier, client) a day, six per identifier over every
    client; a generous per-IP limit."""
    yield from auth_app(tmp_path, AUTH_REGISTRATION_MAX_FAILURES=3,
                        AUTH_REGISTRATION_IDENTIFIER_MAX_FAILURES=6,
                        AUTH_IP_RATE_LIMIT="1000 per minute")


def _from_address(app: Flask, address: str) -> Browser:
    b = browser_for(app)
    b.client.environ_base["REMOTE_ADDR"] = address
    return b


def _guess(n: int) -> str:
    """A well-formed activation code that is not the voter's (16 symbols, no 8s)."""
    return "0000-0000-0000-" + f"{n:04d}"


def test_one_address_cannot_block_a_voters_registration(capped_app: Flask) -> None:
    """Issue 22: wrong guesses from one address blocked the voter for 24 h. The cap is per
    (identifier, client): the attacker's address stops being answered, the voter's own is not."""
    entry = roll("insured")
    code = issue_code(capped_app, "insured", entry.voter_key)
    attacker = _from_address(capped_app, "198.51.100.1")
    for n in range(3):
        assert NO_MATCH in _text(attacker.register("insured", entry.voter_key, _guess(n)))
    # The right code from the attacker's address: the same answer as a wrong one, no account.
    right = attacker.register("insured", entry.voter_key, code)
    assert right.status_code == 200 and NO_MATCH in _text(right)
    assert db.session.query(VoterAccount).count() == 0
    # The voter, at home:
    voter = _from_address(capped_app, "203.0.113.9")
    assert voter.register("insured", entry.voter_key, code).status_code == 302


def test_code_guessing_is_bounded_per_identifier_over_many_addresses(capped_app: Flask) -> None:
    """A guesser spread over many addresses still gets a bounded number of code checks per
    roll entry (every client together)."""
    entry = roll("insured")
    code = issue_code(capped_app, "insured", entry.voter_key)
    for n in range(6):
        wrong = _from_address(capped_app, f"198.51.100.{n}").register(
            "insured", entry.voter_key, _guess(n))
        assert NO_MATCH in _text(wrong)
    # The right code, from yet another address: the same answer as a wrong one, no account.
    right = _from_address(capped_app, "203.0.113.9").register("insured", entry.voter_key, code)
    assert right.status_code == 200 and NO_MATCH in _text(right)
    assert db.session.query(VoterAccount).count() == 0
    # Another roll entry is not affected; after the day the real voter registers.
    other = roll("insured", 1)
    assert browser_for(capped_app).register(
        "insured", other.voter_key, issue_code(capped_app, "insured", other.voter_key)).status_code == 302
    capped_app.config["AUTH_CLOCK"].advance(24 * 3600 + 1)
    again = _from_address(capped_app, "203.0.113.9").register("insured", entry.voter_key, code)
    assert again.status_code == 302


def test_capped_roll_entry_looks_like_an_id_off_the_roll(capped_app: Flask) -> None:
    """The cap counts IDs that are not on the roll too, so hitting it reveals nothing."""
    entry = roll("employer")
    off_roll = "9999999999"
    answers: dict[str, list[str]] = {}
    for key in (entry.voter_key, off_roll):
        b = browser_for(capped_app)
        answers[key] = [_flashes(b.register("employer", key, "ABCD-EFGH-JKMN-PQRS"))
                        for _ in range(4)]
    assert answers[entry.voter_key] == answers[off_roll]
    assert all(NO_MATCH in flash for flash in answers[off_roll])
    keys = [row.key for row in db.session.query(ThrottleCounter)]
    assert len(keys) == 4 and entry.voter_key not in "".join(keys)  # this client's, everyone's
