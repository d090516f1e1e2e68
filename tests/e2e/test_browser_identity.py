"""Identity proofing in a real browser (issue 22; docs/accounts.md §8–§10), headless Chromium
against the real server and a REAL OpenID Connect provider standing in for ThaiD (panva's
oidc-provider, tests/support/oidc.py; its own login and consent pages):

- a voter registers with ThaiD (provider login + consent), chooses a password, enrols TOTP and
  votes (credential typed, receipt ✓);
- a voter who forgot the password asks for a new activation code (it arrives in the
  development sender's outbox, never on the page) and recovers the account;
- a squatter registers in a voter's name with a stolen letter; two officials release the
  account in their browsers; the real voter registers with the fresh code from the release.

axe-core (WCAG 2.2 AA) finds no violation on any page of ours along the way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from app.config import IdentitySettings
from app.extensions import db
from app.models import VoterAccount
from tests.conftest import build_app
from tests.e2e.conftest import DIST, LiveElection, VoterLogin, live_config, opened_sessions, sign_in_at
from tests.e2e.test_browser_voting import CODE, Session, cast, choose, no_violations, open_ballot, review
from tests.support import election_setup
from tests.support import oidc as provider_support
from tests.support.auth_client import PASSWORD, Clock, issue_code, outbox
from tests.support.live import require, serving
from tools import scenario

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
READY = 2  # ready accounts per electorate (the first roll entries)
THAID_INDEX, SQUAT_INDEX = 10, 11
NEW_PASSWORD = "my new long passphrase"


@dataclass
class Live:
    election: LiveElection
    provider: provider_support.Provider
    ids: list[str]
    credentials: dict[str, str]
    officials: dict[str, str]  # username → TOTP secret


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    require((DIST / "manifest.json").exists(), "front-end bundle not built: run ./scripts/setup.sh")
    provider_support.require_provider()
    tmp = tmp_path_factory.mktemp("identity")
    port = provider_support.free_port()
    url = f"http://127.0.0.1:{port}"
    ids = [line.split(",")[0] for line in
           scenario.DEMO_ROLLS[0].read_text(encoding="utf-8").splitlines()[1:20]]
    provider = provider_support.start(
        {"thaid-voter": {"pid": ids[THAID_INDEX], "birthdate": "1990-01-01", "ial": 2.3}},
        [f"{url}/insured/thaid/callback"], tmp)
    clock = Clock()
    try:
        config = replace(live_config(tmp, clock),
                         identity=IdentitySettings(oidc_issuer=provider.issuer,
                                                   oidc_client_id=provider_support.CLIENT_ID,
                                                   oidc_client_secret=provider_support.CLIENT_SECRET))
        app = build_app(config)
        with app.app_context():
            now = clock()
            manifest = scenario.with_poll_window(scenario.load_manifest(), now - timedelta(hours=1),
                                                 now + timedelta(days=7))
            setup = election_setup.ready_election(
                manifest, scenario.DEMO_ROLLS, tmp / "trustees", now=now, bits=512,
                accounts={"insured": READY}, account_password=PASSWORD)
            voters = {"insured": [VoterLogin.of(a) for a in setup.accounts["insured"]]}
            credentials = dict(setup.credentials)
            officials = {o.username: o.totp_secret for o in setup.officials}
            slug = setup.slug
            db.session.remove()
        with serving(app, "ssbvote-identity", port):
            yield Live(LiveElection(url, app, clock, slug, voters), provider, ids, credentials, officials)
    finally:
        provider.stop()


class OurSession(Session):
    """Console errors of our pages only: the provider's login page asks for web fonts from the
    internet, which this machine cannot reach."""

    def _console(self, msg: Any) -> None:
        page_url = str(msg.location.get("url", "")) or self.page.url
        if page_url.startswith(self.live.url) or not page_url.startswith("http"):
            super()._console(msg)


@pytest.fixture
def sessions(chromium: Any, live: Live) -> Iterator[Any]:
    def make(lang: str) -> Session:
        return OurSession(chromium, live.election, lang, DESKTOP)

    yield from opened_sessions(make)


def flash(s: Session) -> str:
    return " ".join(s.page.locator(".flash").all_inner_texts())


def enrol(s: Session) -> str:
    page = s.page
    page.wait_for_url(re.compile(r".*/insured/enrol$"))
    secret = page.inner_text("#totp-secret").replace(" ", "")  # shown in groups of 4
    page.fill("#code", s.live.totp(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/insured/$"))
    return secret


def choose_password(s: Session, password: str) -> None:
    s.page.fill("#password", password)
    s.page.fill("#confirm", password)
    s.page.click("main button[type=submit]")


def provider_sign_in(s: Session, login: str) -> None:
    """The provider's own login and consent pages (oidc-provider's development interactions)."""
    page = s.page
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_selector("input[name=prompt][value=consent]", state="attached")
    page.click("button[type=submit]")


def sign_out(s: Session) -> None:
    s.page.click("nav button[type=submit], form[action$='/logout'] button")
    s.page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.parametrize("lang", ["th"])
def test_register_with_thaid_and_vote(sessions: Any, live: Live, lang: str) -> None:
    s = sessions(lang)
    s.goto("/insured/register")
    no_violations(s, "register")
    s.page.click("#thaid-register")
    provider_sign_in(s, "thaid-voter")
    s.page.wait_for_url(re.compile(r".*/insured/thaid/password$"))
    no_violations(s, "thaid-password")
    choose_password(s, PASSWORD)
    enrol(s)
    voter_id = live.ids[THAID_INDEX]
    open_ballot(s)
    choose(s, [3, 31, 62])
    assert review(s) == [3, 31, 62]
    code = cast(s, live.credentials[voter_id])
    assert CODE.match(code), code  # the tracker receipt of record format version 3 (issue 16)
    # A second device signs in with ThaiD alone and lands on the voter's home page.
    other = sessions("en")
    other.goto("/insured/login")
    no_violations(other, "login-thaid")
    other.page.click("#thaid-login")
    provider_sign_in(other, "thaid-voter")
    other.page.wait_for_url(re.compile(r".*/insured/$"))


def test_password_recovery_with_a_new_activation_code(sessions: Any, live: Live) -> None:
    voter = live.election.voters["insured"][0]
    s = sessions("en")
    s.goto("/insured/login")
    s.page.click("a[href$='/insured/recover']")
    s.page.wait_for_url(re.compile(r".*/insured/recover$"))
    no_violations(s, "recover")
    s.page.click("a[href$='/insured/activation']")
    no_violations(s, "request-code")
    s.page.fill("#voter_key", voter.login_id)
    s.page.click("main button[type=submit]")
    s.page.wait_for_url(re.compile(r".*/insured/login$"))
    assert "a new activation code is on its way" in flash(s)
    letters = [m for m in outbox(live.election.app)
               if m["kind"] == "activation_code" and m["voter_key"] == voter.login_id]
    assert len(letters) == 1
    code = re.search(r"code: ([0-9A-Z-]+)\.", letters[0]["text_en"])
    assert code and code.group(1) not in s.page.content()
    s.goto("/insured/recover")
    s.page.fill("#voter_key", voter.login_id)
    s.page.fill("#code", code.group(1))
    choose_password(s, NEW_PASSWORD)
    enrol(s)
    assert "recovered" in [m["kind"] for m in outbox(live.election.app)]
    # The old password is gone; the new one signs in.
    again = sessions("en")
    again.goto("/insured/login")
    again.page.fill("#login_id", voter.login_id)
    again.page.fill("#password", voter.password)
    again.page.click("main button[type=submit]")
    assert "not correct" in flash(again)
    again.page.fill("#login_id", voter.login_id)
    again.page.fill("#password", NEW_PASSWORD)
    again.page.click("main button[type=submit]")
    again.page.wait_for_url(re.compile(r".*/login/code$"))


def official_sign_in(s: Session, username: str, secret: str) -> None:
    sign_in_at(s, "/official", username, PASSWORD, secret)


def test_two_officials_release_a_squatted_account_and_the_voter_registers(sessions: Any,
                                                                          live: Live) -> None:
    app = live.election.app
    victim = live.ids[SQUAT_INDEX]
    stolen = issue_code(app, "insured", victim)
    squatter = sessions("th")
    squatter.goto("/insured/register")
    squatter.page.fill("#voter_key", victim)
    squatter.page.fill("#code", stolen)
    choose_password(squatter, "the squatter's password")
    enrol(squatter)

    alice, bob = sessions("en"), sessions("th")
    official_sign_in(alice, "ro-a", live.officials["ro-a"])
    official_sign_in(bob, "ro-b", live.officials["ro-b"])
    alice.goto("/official/voters/release")
    no_violations(alice, "release")
    alice.page.select_option("#electorate", "insured")
    alice.page.fill("#voter_key", victim)
    alice.page.fill("#reason", "Voter came to branch 12 with the ID card; account is not theirs")
    alice.page.click("main button[type=submit]")
    alice.page.wait_for_url(re.compile(r".*/official/$"))
    assert "A second official must approve" in flash(alice)
    bob.goto("/official/")
    no_violations(bob, "dashboard-release")
    bob.page.click("form[action*='/approve'] button")
    bob.page.wait_for_url(re.compile(r".*/official/$"))
    with app.app_context():
        assert db.session.query(VoterAccount).join(VoterAccount.roll_entry).filter_by(
            voter_key=victim).count() == 0
        db.session.remove()
    # The squatter's session is dead.
    squatter.goto("/insured/")
    assert squatter.page.url.endswith("/insured/login")
    # The real voter registers with the fresh code the release sent.
    fresh = [m for m in outbox(app) if m["kind"] == "activation_code" and m["voter_key"] == victim][-1]
    code = re.search(r"code: ([0-9A-Z-]+)\.", fresh["text_en"])
    assert code
    voter = sessions("th")
    voter.goto("/insured/register")
    voter.page.fill("#voter_key", victim)
    voter.page.fill("#code", code.group(1))
    choose_password(voter, PASSWORD)
    enrol(voter)
    assert voter.page.url.endswith("/insured/")
