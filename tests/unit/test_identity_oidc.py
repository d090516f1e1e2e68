"""Registration, sign-in and recovery with ThaiD over OpenID Connect (docs/accounts.md §8),
against a REAL provider (panva's oidc-provider, tests/support/oidc.py), through Flask's test
client with CSRF on.  Each attack of issue 22 on this path is a test that fails for the attacker:
low or missing ``ial``, a ``pid`` off the roll, a tampered ``state``, a replayed ``nonce``, an
injected authorization code (PKCE)."""
from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask

from app.config import IdentitySettings
from app.extensions import db
from app.models import AuditEntry, VoterAccount
from app.services.identity import oidc
from tests.conftest import build_app, make_config
from tests.support import oidc as provider_support
from tests.support.auth_client import FAST_ARGON2, PASSWORD, Browser, Clock, browser_for, outbox, seed_election
from tools import scenario

pytestmark = pytest.mark.slow
CALLBACK = "http://localhost/insured/thaid/callback"
REFUSED = "ไม่สามารถยืนยันตัวตนของท่านด้วย ThaiD ได้"
_FLASH = re.compile(r'<div class="flash flash-\w+"[^>]*>([^<]*)</div>')


def roll_ids(count: int) -> list[str]:
    with scenario.DEMO_ROLLS[0].open(encoding="utf-8") as handle:
        return [row["national_id"] for _, row in zip(range(count), csv.DictReader(handle))]


IDS = roll_ids(4)
#: The provider's test people: login → ThaiD claims.
ACCOUNTS = {
    "somchai": {"pid": IDS[0], "birthdate": "1987-04-27", "ial": 2.3},
    "sirip": {"pid": IDS[1], "birthdate": "1973-05-21", "ial": "3"},
    "weak": {"pid": IDS[2], "birthdate": "1967-03-07", "ial": 1.1},
    "noial": {"pid": IDS[3], "birthdate": "1993-08-09"},
    "stranger": {"pid": "1101700230705", "birthdate": "1980-01-01", "ial": 3},
    "badpid": {"pid": "1234567890123", "birthdate": "1980-01-01", "ial": 3},
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[provider_support.Provider]:
    yield from provider_support.running(ACCOUNTS, [CALLBACK], tmp_path_factory.mktemp("oidc"))


def identity(issuer: str) -> IdentitySettings:
    return IdentitySettings(oidc_issuer=issuer, oidc_client_id=provider_support.CLIENT_ID,
                            oidc_client_secret=provider_support.CLIENT_SECRET, oidc_min_ial="2.3")


@pytest.fixture
def app(provider: provider_support.Provider, tmp_path: Path) -> Iterator[Flask]:
    config = replace(make_config(tmp_path, **FAST_ARGON2, AUTH_CLOCK=Clock()),
                     identity=identity(provider.issuer))
    application = build_app(config)
    with application.app_context():
        seed_election()
        yield application
        db.session.remove()
        db.engine.dispose()


def _flashes(html: str) -> str:
    return " | ".join(_FLASH.findall(html))


def thaid(b: Browser, purpose: str, login: str) -> str:
    """Press "with ThaiD", sign in at the provider, come back; returns the callback URL."""
    start = b.client.get(f"/insured/thaid/start/{purpose}")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    # Authlib sends state, nonce and a PKCE S256 challenge.
    assert query["state"] and query["nonce"] and query["code_challenge_method"] == ["S256"]
    return provider_support.drive(start.headers["Location"], login)


def come_back(b: Browser, callback: str) -> tuple[str, str]:
    """GET the callback; returns (redirect location, flashes of the page it leads to)."""
    parts = urlsplit(callback)
    response = b.client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    page = b.client.get(location).get_data(as_text=True)
    return location, _flashes(page)


def finish_registration(b: Browser, password: str = PASSWORD) -> str:
    done = b.submit("/insured/thaid/password", {"password": password, "confirm": password})
    assert done.status_code == 302 and done.headers["Location"] == "/insured/enrol", done
    secret = b.enrolment_secret("insured")
    assert b.enrol("insured", secret).status_code == 302
    return secret


def test_register_with_thaid_then_sign_in_with_thaid(app: Flask) -> None:
    b = browser_for(app)
    location, _ = come_back(b, thaid(b, "register", "somchai"))
    assert location == "/insured/thaid/password"
    finish_registration(b)
    assert b.client.get("/insured/").status_code == 200
    account = db.session.query(VoterAccount).one()
    assert account.roll_entry.voter_key == IDS[0] and account.totp_confirmed
    assert [m["kind"] for m in outbox(app)] == ["registered"]
    # Later, on another device: ThaiD alone signs the voter in (ThaiD is multi-factor).
    other = browser_for(app)
    location, _ = come_back(other, thaid(other, "login", "somchai"))
    assert location == "/insured/"
    assert other.client.get("/insured/").status_code == 200
    # ... and, as with every sign-in, the first device's session ended.
    assert b.client.get("/insured/").status_code == 302


def test_ial_given_as_a_string_is_understood(app: Flask) -> None:
    b = browser_for(app)
    location, _ = come_back(b, thaid(b, "register", "sirip"))
    assert location == "/insured/thaid/password"


@pytest.mark.parametrize("login", ["weak", "noial", "stranger", "badpid"])
def test_low_ial_missing_ial_and_pid_off_the_roll_are_refused(app: Flask, login: str) -> None:
    b = browser_for(app)
    location, flashes = come_back(b, thaid(b, "register", login))
    assert location == "/insured/login" and REFUSED in flashes
    # No proof was left to choose a password with.
    assert b.client.get("/insured/thaid/password").headers["Location"] == "/insured/login"
    assert db.session.query(VoterAccount).count() == 0


def test_tampered_state_is_refused(app: Flask) -> None:
    b = browser_for(app)
    callback = thaid(b, "register", "somchai")
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    query["state"] = ["forged-" + query["state"][0][7:]]
    forged = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    location, flashes = come_back(b, forged)
    assert location == "/insured/login" and REFUSED in flashes
    assert db.session.query(VoterAccount).count() == 0


def test_callback_without_a_flow_of_this_session_is_refused(app: Flask) -> None:
    """Login CSRF: a callback URL made in the attacker's browser, opened in the victim's."""
    attacker, victim = browser_for(app), browser_for(app)
    callback = thaid(attacker, "register", "somchai")
    location, flashes = come_back(victim, callback)
    assert location == "/insured/login" and REFUSED in flashes
    assert db.session.query(VoterAccount).count() == 0


def test_id_token_with_another_nonce_is_refused(app: Flask) -> None:
    """The ID token must carry the nonce this session sent (no replay of another flow's token)."""
    b = browser_for(app)
    callback = thaid(b, "register", "somchai")
    with b.client.session_transaction() as session:
        keys = [k for k in session if k.startswith("_state_thaid_")]
        assert len(keys) == 1
        state = session[keys[0]]
        state["data"]["nonce"] = "another-flows-nonce"
        session[keys[0]] = state
    location, flashes = come_back(b, callback)
    assert location == "/insured/login" and REFUSED in flashes
    assert db.session.query(VoterAccount).count() == 0


def test_injected_authorization_code_fails_pkce(app: Flask) -> None:
    """A code obtained in the attacker's flow, pasted into the victim's own flow (valid state):
    the code is bound to the attacker's PKCE challenge, so the token request fails."""
    attacker, victim = browser_for(app), browser_for(app)
    stolen = parse_qs(urlsplit(thaid(attacker, "register", "somchai")).query)["code"][0]
    own = parse_qs(urlsplit(victim.client.get("/insured/thaid/start/register")
                            .headers["Location"]).query)["state"][0]
    location, flashes = come_back(victim, f"{CALLBACK}?{urlencode({'code': stolen, 'state': own})}")
    assert location == "/insured/login" and REFUSED in flashes
    assert db.session.query(VoterAccount).count() == 0


def test_recovery_by_thaid_replaces_password_and_authenticator(app: Flask) -> None:
    b = browser_for(app)
    come_back(b, thaid(b, "register", "somchai"))
    old_secret = finish_registration(b)
    b.logout("insured")
    r = browser_for(app)
    location, _ = come_back(r, thaid(r, "recover", "somchai"))
    assert location == "/insured/thaid/password"
    new_password = "a brand new passphrase"
    new_secret = finish_registration(r, new_password)
    assert new_secret != old_secret
    assert browser_for(app).password("insured", IDS[0]).status_code == 200  # old password: no
    fresh = browser_for(app)
    fresh.clock.tick()
    assert fresh.password("insured", IDS[0], new_password).status_code == 302
    assert [m["kind"] for m in outbox(app)] == ["registered", "recovered"]
    assert db.session.query(AuditEntry).filter_by(action="voter_recovered").count() == 1


def test_thaid_pages_are_absent_without_an_issuer(tmp_path: Path) -> None:
    application = build_app(make_config(tmp_path))
    client = application.test_client()
    assert client.get("/insured/thaid/start/login").status_code == 404
    assert "ThaiD" not in client.get("/insured/login").get_data(as_text=True)


@pytest.mark.parametrize("claims, ok", [
    ({"ial": 2.3}, True), ({"ial": "2.3"}, True), ({"ial": 3}, True), ({"ial": 2.2}, False),
    ({"ial": True}, False), ({"ial": "NaN"}, False), ({"ial": "abc"}, False), ({}, False),
    ({"ial": None}, False), ({"ial": [3]}, False),
])
def test_ial_rule(app: Flask, claims: dict[str, object], ok: bool) -> None:
    with app.test_request_context():
        try:
            oidc.check_claims({"pid": IDS[0], **claims})
        except oidc.ProofRefused as exc:
            assert not ok and exc.reason == "low_ial"
        else:
            assert ok
