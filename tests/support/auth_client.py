"""Helpers for the account tests: an app with fast argon2, a movable clock, and a browser-like
client that fetches each form, reads its CSRF token and posts it (CSRF stays enabled)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.extensions import db
from app.models import Election, RollEntry
from app.services.administration import officials
from crypto.encoding import canonical_json
from tests.conftest import build_app, make_config
from tools import scenario

PASSWORD = "correct horse battery"
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')  # shown in groups of 4


@dataclass
class Clock:
    """Injected as AUTH_CLOCK; ``tick`` moves to the next 30-second TOTP step."""

    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def tick(self) -> None:
        self.advance(30)

    def code(self, secret: str) -> str:
        return pyotp.TOTP(secret).at(int(self.now.timestamp()))


def auth_app(tmp_path: Path, database_url: str | None = None, **extra: Any) -> Iterator[Flask]:
    clock = Clock()
    config = make_config(tmp_path, database_url, **FAST_ARGON2, AUTH_CLOCK=clock, **extra)
    application = build_app(config)
    with application.app_context():
        seed_election()
        yield application
        db.session.remove()
        db.engine.dispose()


def seed_election() -> Election:
    """The demo election in draft, without officials or credentials: the tests add their own
    officials and, to open the polls, the credential authority's opening
    (tests/support/election_setup.authorize)."""
    # Polls open only with an election key: use the committed 512-bit test key (no ceremony).
    vectors = Path(__file__).resolve().parents[1] / "vectors" / "test_key.json"
    key = canonical_json(json.loads(vectors.read_text())["election_key"]).decode()
    return scenario.set_up(scenario.Scenario(manifest=scenario.load_manifest(), rolls=scenario.DEMO_ROLLS,
                                             officials=(), public_key=key, open_polls=False,
                                             credentials=False, actor="test")).election


def roll(electorate: str, index: int = 0) -> RollEntry:
    entries = db.session.query(RollEntry).filter_by(electorate=electorate).order_by(RollEntry.id)
    return entries.offset(index).first()  # type: ignore[return-value]


def add_official(username: str, role: str = "returning-officer") -> str:
    """Create an official; returns the TOTP secret."""
    return officials.add(username, f"Official {username}", role, PASSWORD, actor="test").totp_secret


def issue_code(app: Flask, electorate: str, key: str, reason: str = "letter") -> str:
    """An activation code for the voter, as the letter would carry it (written to the outbox
    too, like every message of the development sender)."""
    from flask import current_app, has_app_context

    from app.services.identity import activation, principals

    def issue() -> str:
        entry = principals.roll_entry_for(electorate, key, registering=True)
        assert entry is not None, (electorate, key)
        code = activation.issue(entry, reason, app.config["AUTH_CLOCK"](), "test")
        assert code is not None, "too many open activation codes"
        db.session.commit()
        return code

    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        return issue()
    with app.app_context():
        return issue()


def outbox(app: Flask) -> list[dict[str, str]]:
    """The messages the development sender wrote (oldest first)."""
    from app.services.identity import notify

    return notify.read_outbox(Path(app.config["NOTIFY_OUTBOX"]))


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


BLUEPRINT = {"insured": "/insured", "employer": "/employer", "official": "/official"}


class Browser:
    """A test client used as a browser would: GET the form, then POST it with its token."""

    def __init__(self, client: FlaskClient, clock: Clock):
        self.client = client
        self.clock = clock

    def submit(self, url: str, data: dict[str, str], form_url: str | None = None) -> TestResponse:
        page = self.client.get(form_url or url)
        assert page.status_code == 200, (page.status_code, form_url or url)
        return self.client.post(url, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})

    def register(self, kind: str, key: str, code: str, password: str = PASSWORD) -> TestResponse:
        """Register with an activation code (docs/accounts.md §9)."""
        return self.submit(f"{BLUEPRINT[kind]}/register",
                           {"voter_key": key, "code": code, "password": password,
                            "confirm": password})

    def recover(self, kind: str, key: str, code: str, password: str = PASSWORD) -> TestResponse:
        return self.submit(f"{BLUEPRINT[kind]}/recover",
                           {"voter_key": key, "code": code, "password": password,
                            "confirm": password})

    def enrolment_secret(self, kind: str) -> str:
        html = self.client.get(f"{BLUEPRINT[kind]}/enrol").get_data(as_text=True)
        match = _SECRET.search(html)
        assert match, "no TOTP secret on the enrolment page"
        return match.group(1).replace(" ", "")

    def enrol(self, kind: str, secret: str, code: str | None = None) -> TestResponse:
        return self.submit(f"{BLUEPRINT[kind]}/enrol", {"code": code or self.clock.code(secret)})

    def password(self, kind: str, login_id: str, password: str = PASSWORD) -> TestResponse:
        return self.submit(f"{BLUEPRINT[kind]}/login", {"login_id": login_id, "password": password})

    def code(self, kind: str, code: str) -> TestResponse:
        return self.submit(f"{BLUEPRINT[kind]}/login/code", {"code": code})

    def login(self, kind: str, login_id: str, secret: str, password: str = PASSWORD) -> TestResponse:
        """Full sign-in at a fresh TOTP step."""
        first = self.password(kind, login_id, password)
        assert first.status_code == 302 and first.headers["Location"].endswith("/login/code"), first
        self.clock.tick()
        return self.code(kind, self.clock.code(secret))

    def signup(self, kind: str, key: str, code: str | None = None) -> str:
        """Register (with ``code``, or a fresh activation code issued for the voter) and
        enrol; returns the TOTP secret. Leaves the voter signed in."""
        if code is None:
            code = issue_code(self.client.application, kind, key)
        response = self.register(kind, key, code)
        assert response.status_code == 302, response.get_data(as_text=True)
        secret = self.enrolment_secret(kind)
        done = self.enrol(kind, secret)
        assert done.status_code == 302 and done.headers["Location"] == f"{BLUEPRINT[kind]}/", done
        return secret

    def logout(self, kind: str) -> TestResponse:
        page = self.client.get(f"{BLUEPRINT[kind]}/" if kind != "official" else "/official/")
        return self.client.post(f"{BLUEPRINT[kind]}/logout",
                                data={"csrf_token": csrf_token(page.get_data(as_text=True))})

    def session_cookie(self) -> str | None:
        cookie = self.client.get_cookie("ssbvote_session")
        return cookie.value if cookie else None


# --- fixtures (import them into a test module to use them) -----------------------------------
import pytest  # noqa: E402


@pytest.fixture
def accounts_app(tmp_path: Path) -> Iterator[Flask]:
    yield from auth_app(tmp_path)


@pytest.fixture
def accounts_app_any(any_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The same, once on SQLite and once on real PostgreSQL."""
    yield from auth_app(tmp_path, any_db_url)


@pytest.fixture
def browser(accounts_app: Flask) -> Browser:
    return Browser(accounts_app.test_client(), accounts_app.config["AUTH_CLOCK"])


def browser_for(app: Flask) -> Browser:
    """Another browser (another device) on the same app and clock."""
    return Browser(app.test_client(), app.config["AUTH_CLOCK"])


def browser_at(app: Flask, address: str) -> Browser:
    """Another browser at another client address (another network)."""
    b = browser_for(app)
    b.client.environ_base["REMOTE_ADDR"] = address
    return b


def registered_voter(app: Flask, electorate: str = "insured", index: int = 0) -> tuple[str, str]:
    """A registered, enrolled voter who then signed out; returns (login id, TOTP secret)."""
    entry = roll(electorate, index)
    b = browser_for(app)
    secret = b.signup(electorate, entry.voter_key)
    assert b.logout(electorate).status_code == 302
    return entry.voter_key, secret
