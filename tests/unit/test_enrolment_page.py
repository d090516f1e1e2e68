"""Enrolment on one phone (issue 18): the "add to authenticator" otpauth:// link with the
issuer in the page's language and the voter's name as label, the secret in groups of 4, the QR
code for another device; numeric keyboards; specific messages at the code step."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask

from app.extensions import db
from app.models import VoterAccount
from app.services.identity import totp
from tests.support.auth_client import (  # noqa: F401
    Browser,
    accounts_app,
    browser,
    csrf_token,
    issue_code,
    roll,
)

OTPAUTH = re.compile(r'id="otpauth-link" href="(otpauth://[^"]+)"')
GROUPED = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def registered(b: Browser, index: int = 0, lang: str = "th") -> tuple[str, str]:
    """Registers roll entry ``index`` (not yet enrolled); returns (enrolment page, voter name)."""
    entry = roll("insured", index)
    b.client.get(f"/?lang={lang}")
    assert b.register("insured", entry.voter_key, issue_code(b.client.application, "insured",
                                                             entry.voter_key)).status_code == 302
    return b.client.get("/insured/enrol").get_data(as_text=True), entry.display_name


def test_add_to_authenticator_link_and_grouped_secret(browser: Browser) -> None:  # noqa: F811
    page, name = registered(browser)
    account = db.session.query(VoterAccount).one()
    link = OTPAUTH.search(page)
    assert link, "no otpauth:// link on the enrolment page"
    uri = urlsplit(link.group(1).replace("&amp;", "&"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    issuer, label = unquote(uri.path.lstrip("/")).split(":", 1)
    query = {k: v[0] for k, v in parse_qs(uri.query).items()}
    assert issuer == query["issuer"] == "ระบบเลือกตั้ง สปส."
    assert label == name and name and "insured" not in label  # a human name, not insured:011ff576
    assert query["secret"] == account.totp_secret
    assert account.roll_entry.voter_key not in link.group(1)  # never the national ID
    grouped = GROUPED.search(page)
    assert grouped and re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped.group(1))
    assert grouped.group(1).replace(" ", "") == account.totp_secret
    assert 'class="qr"' in page  # still there for a second device
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page


def test_english_page_names_the_issuer_in_english(accounts_app: Flask) -> None:  # noqa: F811
    b = Browser(accounts_app.test_client(), accounts_app.config["AUTH_CLOCK"])
    page, _ = registered(b, 1, "en")
    uri = OTPAUTH.search(page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    assert unquote(urlsplit(uri).path).startswith("/SSB Vote:")
    assert parse_qs(urlsplit(uri).query)["issuer"] == ["SSB Vote"]
    assert "Add to authenticator app" in page and "On another device" in page


def test_provisioning_uri_never_carries_a_colon_in_issuer_or_label() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "A: B", "X:Y")
    path = unquote(urlsplit(uri).path)
    assert path == "/X Y:A  B"
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"


def test_code_step_messages_are_specific(browser: Browser) -> None:  # noqa: F811
    registered(browser, 2, "en")
    account = db.session.query(VoterAccount).one()
    # Not 6 digits: said at once and not counted as a failed attempt.
    short = browser.submit("/insured/enrol", {"code": "12345"}).get_data(as_text=True)
    assert "The code has 6 digits." in short and 'aria-invalid="true"' in short
    db.session.refresh(account)
    assert account.failed_attempts == 0
    right = browser.clock.code(account.totp_secret)
    wrong = "000000" if right != "000000" else "111111"
    page = browser.submit("/insured/enrol", {"code": wrong}).get_data(as_text=True)
    assert "Make sure the app shows the account you added from this page" in page
    assert "date and time are set automatically" in page
    db.session.refresh(account)
    assert account.failed_attempts == 1
    done = browser.submit("/insured/enrol", {"code": " ".join([right[:3], right[3:]])})
    assert done.status_code == 302 and done.headers["Location"] == "/insured/"
    # Signing in later: a wrong code names the phone's clock and the next code.
    browser.logout("insured")
    assert browser.password("insured", account.roll_entry.voter_key).status_code == 302
    browser.clock.tick()
    page = browser.code("insured", wrong if browser.clock.code(account.totp_secret) != wrong else "222222").get_data(as_text=True)
    assert "This code is not correct, or was already used." in page and "wait for the next code" in page


def test_voter_ids_get_a_numeric_keyboard(accounts_app: Flask) -> None:  # noqa: F811
    client = accounts_app.test_client()
    for path in ("/insured/login", "/insured/register", "/insured/activation", "/employer/login",
                 "/employer/register"):
        html = client.get(path).get_data(as_text=True)
        field = re.search(r'<input[^>]*(?:id="login_id"|id="voter_key")[^>]*>', html)
        assert field, path
        assert 'inputmode="numeric"' in field.group(0) and 'pattern="[0-9 \\-]*"' in field.group(0), path
