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

import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import IN_CI, build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, PASSWORD, Clock
from tools import scenario

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
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


def require(condition: bool, reason: str) -> None:
    """Missing tool: skip on a developer machine, fail in CI (as tests/js/support.py)."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools are failures, not skips)")
    pytest.skip(reason)


def _setup_election(tmp: Path, clock: Clock) -> tuple[str, dict[str, list[VoterLogin]], scenario.ElectionSetup]:
    now = clock()
    manifest = scenario.with_poll_window(scenario.load_manifest(), now - timedelta(hours=1),
                                         now + timedelta(days=7))
    setup = election_setup.ready_election(
        manifest, scenario.DEMO_ROLLS, tmp / "trustees", now=clock(), bits=512,
        accounts={"insured": VOTERS_PER_ELECTORATE, "employer": VOTERS_PER_ELECTORATE},
        account_password=PASSWORD)
    voters = {electorate: [VoterLogin(electorate, a.voter_key, a.totp_secret, a.pseudonym, credential=a.credential)
                           for a in accounts]
              for electorate, accounts in setup.accounts.items()}
    return setup.slug, voters, setup


@pytest.fixture(scope="module")
def live_election(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveElection]:
    """The app serving the demo election over real HTTP, one per test module."""
    require((DIST / "manifest.json").exists(), "front-end bundle not built: run ./scripts/setup.sh")
    tmp = tmp_path_factory.mktemp("live")
    clock = Clock()
    app = build_app(make_config(
        tmp, **FAST_ARGON2, AUTH_CLOCK=clock,
        # Every browser signs in from 127.0.0.1: the per-IP sign-in limit is for the open internet.
        AUTH_IP_RATE_LIMIT="1000 per minute",
    ))
    with app.app_context():
        slug, voters, setup = _setup_election(tmp, clock)
        assert setup.authority is not None
        ca_key, opening_hash = setup.authority.ca_public_key, setup.authority.opening_hash or ""
        official_credentials = dict(setup.official_credentials)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="ssbvote-live", daemon=True)
    thread.start()
    try:
        yield LiveElection(f"http://127.0.0.1:{server.server_port}", app, clock, slug, voters, ca_key=ca_key,
                           opening_hash=opening_hash, official_credentials=official_credentials)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        require(False, "playwright is not installed (pip install -e .[test])")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
