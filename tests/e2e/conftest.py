"""A real SSB Vote server for the browser tests: the app under werkzeug's threaded HTTP server
on a free port of 127.0.0.1 (a secure context, so WebCrypto works), on SQLite in a temporary
folder, with the demo election (228 + 65 candidates, 7 choices each) ready to vote in:
a 512-bit test key from a key ceremony, the credential authority's step (every voter's
credential, the signed list and the opening, with a CA key in the instance folder that the
server is configured with), polls opened by two officials, and signed-up voters (password + TOTP,
and their credential) in both electorates.

The server shares the test's process, so the tests' movable clock (tests/support/auth_client.Clock)
is the server's clock: ``clock.tick()`` before each sign-in gives a fresh TOTP step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, TypeVar

import pytest
from flask import Flask

from app.config import Config
from app.extensions import db
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, PASSWORD, Clock
from tests.support.live import require, serving
from tests.support.live import chromium as launch_chromium
from tools import scenario

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
DIST = ROOT / "app" / "static" / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VOTERS_PER_ELECTORATE = 6


@dataclass(frozen=True)
class VoterLogin:
    electorate: str
    login_id: str
    totp_secret: str
    pseudonym: str
    password: str = PASSWORD
    #: The voter's credential text from the CA's letter (docs/protocol.md §13.1).
    credential: str = ""

    @classmethod
    def of(cls, account: scenario.ReadyAccount) -> VoterLogin:
        """The sign-in of an account the scenario made ready (password: the tests' PASSWORD)."""
        return cls(account.electorate, account.voter_key, account.totp_secret, account.pseudonym,
                   credential=account.credential)


@dataclass
class LiveElection:
    url: str
    app: Flask
    clock: Clock
    slug: str
    voters: dict[str, list[VoterLogin]] = field(default_factory=dict)
    #: The CA's public key (64 hex) the server is configured with, and the opening hash.
    ca_key: str = ""
    opening_hash: str = ""
    #: username → official credential of the two officials (ro-a, ro-b), for paper lists.
    official_credentials: dict[str, str] = field(default_factory=dict)
    #: username → TOTP secret of the two officials, for their sign-in.
    official_secrets: dict[str, str] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=dict)

    def voter(self, electorate: str) -> VoterLogin:
        """A voter of ``electorate`` not handed out before (each test votes as someone new)."""
        index = self._next.get(electorate, 0)
        self._next[electorate] = index + 1
        return self.voters[electorate][index]

    def totp(self, secret: str) -> str:
        """A code for a fresh 30-second step (codes are single-use per step)."""
        self.clock.tick()
        return self.clock.code(secret)


def live_config(tmp: Path, clock: Clock, **extra: object) -> Config:
    """The configuration the browser tests serve: fast argon2, the tests' movable clock, and no
    per-IP sign-in limit (every browser signs in from 127.0.0.1; the limit is for the open internet)."""
    return make_config(tmp, **FAST_ARGON2, AUTH_CLOCK=clock, AUTH_IP_RATE_LIMIT="1000 per minute", **extra)


def live_app(tmp: Path, clock: Clock, **extra: object) -> Flask:
    """The app of live_config, its database in ``tmp``; the front-end bundle must be built."""
    require((DIST / "manifest.json").exists(), "front-end bundle not built: run ./scripts/setup.sh")
    return build_app(live_config(tmp, clock, **extra))


class BrowserSession(Protocol):
    """One browser context of a test (tests/e2e/test_browser_voting.Session and the like)."""

    errors: list[str]

    def close(self) -> None: ...


S = TypeVar("S", bound=BrowserSession)


def opened_sessions(open_session: Callable[..., S],
                    ignored: Callable[[str], bool] = lambda error: False) -> Iterator[Callable[..., S]]:
    """The body of a ``sessions`` fixture: yields a function that opens a session with
    ``open_session`` (its arguments); after the test, no session opened may have logged an error
    (but the ``ignored`` ones), and each is closed."""
    opened: list[S] = []

    def make(*args: Any, **kwargs: Any) -> S:
        session = open_session(*args, **kwargs)
        opened.append(session)
        return session

    yield make
    for session in opened:
        assert [e for e in session.errors if not ignored(e)] == [], session.errors
        session.close()


def sign_in_at(s: Any, prefix: str, login_id: str, password: str, secret: str,
               shown: Callable[[], None] = lambda: None) -> None:
    """In the browser session ``s`` (``s.page``, ``s.goto``, ``s.live.totp``): sign in on
    ``prefix``/login (``shown`` is called once the form is shown) with the password, then a fresh
    TOTP code of ``secret``, and land on ``prefix``/."""
    s.goto(f"{prefix}/login")
    shown()
    s.page.fill("#login_id", login_id)
    s.page.fill("#password", password)
    s.page.click("main button[type=submit]")
    s.page.wait_for_url(re.compile(r".*/login/code$"))
    s.page.fill("#code", s.live.totp(secret))
    s.page.click("main button[type=submit]")
    s.page.wait_for_url(re.compile(rf".*{prefix}/$"))


def _setup_election(tmp: Path, clock: Clock) -> tuple[str, dict[str, list[VoterLogin]], scenario.ElectionSetup]:
    now = clock()
    manifest = scenario.with_poll_window(scenario.load_manifest(), now - timedelta(hours=1),
                                         now + timedelta(days=7))
    setup = election_setup.ready_election(
        manifest, scenario.DEMO_ROLLS, tmp / "trustees", now=clock(), bits=512,
        accounts={"insured": VOTERS_PER_ELECTORATE, "employer": VOTERS_PER_ELECTORATE},
        account_password=PASSWORD)
    voters = {electorate: [VoterLogin.of(a) for a in accounts] for electorate, accounts in setup.accounts.items()}
    return setup.slug, voters, setup


@pytest.fixture(scope="module")
def live_election(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveElection]:
    """The app serving the demo election over real HTTP, one per test module."""
    tmp = tmp_path_factory.mktemp("live")
    clock = Clock()
    app = live_app(tmp, clock)
    with app.app_context():
        slug, voters, setup = _setup_election(tmp, clock)
        assert setup.authority is not None
        ca_key, opening_hash = setup.authority.ca_public_key, setup.authority.opening_hash or ""
        official_credentials = dict(setup.official_credentials)
        official_secrets = {o.username: o.totp_secret for o in setup.officials}
        db.session.remove()
    with serving(app, "ssbvote-live") as url:
        yield LiveElection(url, app, clock, slug, voters, ca_key=ca_key, opening_hash=opening_hash,
                           official_credentials=official_credentials, official_secrets=official_secrets)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    with launch_chromium(CHROMIUM_ARGS) as browser:
        yield browser
