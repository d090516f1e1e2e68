"""Enrolment on one phone and the published results in a real browser (issue 18), headless
Chromium against the real server, Thai and English, at 360×740 and 1280×900:

- a voter registers with an activation code and finds the "add to authenticator" otpauth://
  link, the key in groups of 4 and the QR code for another device; a wrong code says what to
  check; the right one finishes;
- the landing page links the results only once they are published; the results page (tie at
  the last seat, sorted by ballot number, second page of the list) fits a 360 px phone without
  horizontal scrolling.

axe-core (WCAG 2.2 AA) finds no violation of any impact on any of these page states.
Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import unquote

import pytest

from app.extensions import db
from app.models import Election
from tests.e2e.conftest import LiveElection, live_app, opened_sessions
from tests.support.live import serving
from tests.e2e.test_browser_voting import DESKTOP, PHONE, Session
from tests.e2e.test_browser_voting import no_violations as voting_no_violations
from tests.support import published
from tests.support.auth_client import PASSWORD, Clock, issue_code, roll, seed_election
from tests.unit.test_results_page import tied_votes

pytestmark = pytest.mark.browser


def serve(tmp: Path, prepare: Callable[[], None] = lambda: None) -> Iterator[LiveElection]:
    clock = Clock()
    app = live_app(tmp, clock)
    with app.app_context():
        slug = seed_election().slug
        prepare()
        db.session.remove()
    with serving(app, "ssbvote-results") as url:
        yield LiveElection(url, app, clock, slug)


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveElection]:
    """The demo election before the polls open: voters register and enrol."""
    yield from serve(tmp_path_factory.mktemp("enrol"))


def _publish() -> None:
    election = db.session.query(Election).one()
    published.publish(election, tied_votes, counted=10, paper_voters=[roll("insured", 0)])


@pytest.fixture(scope="module")
def tallied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveElection]:
    """The demo election with its results published (a tie at the last insured seat)."""
    yield from serve(tmp_path_factory.mktemp("results"), _publish)


@pytest.fixture
def sessions(chromium: Any) -> Iterator[Callable[..., Session]]:
    def make(live: LiveElection, lang: str, viewport: dict[str, int] = PHONE) -> Session:
        return Session(chromium, live, lang, viewport)

    yield from opened_sessions(make)


def no_violations(s: Session, name: str) -> None:
    """axe: not one violation of any impact on this page state, and it fits the screen."""
    voting_no_violations(s, name)
    width = s.page.evaluate("document.documentElement.scrollWidth")
    assert width <= s.page.viewport_size["width"], f"{name}: {width} px wide, horizontal scroll"
    s.shot(name)


def page_height(s: Session) -> int:
    return int(s.page.evaluate("document.documentElement.scrollHeight"))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_enrol_on_one_phone(sessions: Callable[..., Session], draft: LiveElection, lang: str) -> None:
    s = sessions(draft, lang)
    page = s.page
    entry_index = 0 if lang == "th" else 1
    with draft.app.app_context():
        entry = roll("insured", entry_index)
        key, name = entry.voter_key, entry.display_name
    s.goto("/insured/register")
    page.fill("#voter_key", key)
    page.fill("#code", issue_code(draft.app, "insured", key))
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/insured/enrol$"))
    no_violations(s, "enrol")
    link = page.get_attribute("#otpauth-link", "href") or ""
    issuer = "ระบบเลือกตั้ง สปส." if lang == "th" else "SSB Vote"
    assert link.startswith("otpauth://totp/")
    assert unquote(link).startswith(f"otpauth://totp/{issuer}:{name}?secret=")
    grouped = page.inner_text("#totp-secret")
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", grouped), grouped
    # The link is the first thing a phone user can act on: above the fold at 360×740.
    box = page.locator("#otpauth-link").bounding_box()
    assert box is not None and box["y"] + box["height"] < PHONE["height"], box
    assert page.locator("img.qr").is_visible()
    secret = grouped.replace(" ", "")
    right = draft.totp(secret)
    page.fill("#code", "000000" if right != "000000" else "111111")
    page.click("main button[type=submit]")
    page.wait_for_selector("#code-errors")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    no_violations(s, "enrol-wrong-code")
    page.fill("#code", right)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/insured/$"))
    # The code step later: a wrong code names the phone's clock.
    page.click("form[action$='/logout'] button")
    page.wait_for_url(re.compile(r".*/$"))
    s.goto("/insured/login")
    assert page.get_attribute("#login_id", "inputmode") == "numeric"
    page.fill("#login_id", key)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/code$"))
    assert page.get_attribute("#code", "autocomplete") == "one-time-code"
    page.fill("#code", "12345")
    page.click("main button[type=submit]")
    page.wait_for_selector("#code-errors")
    no_violations(s, "totp-wrong-code")


def test_results_not_linked_before_publication(sessions: Callable[..., Session], draft: LiveElection) -> None:
    s = sessions(draft, "th")
    assert s.page.locator("a.results-link").count() == 0
    response = s.page.goto(f"{draft.url}/results/{draft.slug}")
    assert response is not None and response.status == 404
    assert s.page.locator("#turnout-insured").count() == 0
    s.errors.remove("Failed to load resource: the server responded with a status of 404 (NOT FOUND)")


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_results_from_the_landing_page(sessions: Callable[..., Session], tallied: LiveElection,
                                       lang: str, viewport: dict[str, int]) -> None:
    s = sessions(tallied, lang, viewport)
    page = s.page
    no_violations(s, "landing-published")
    page.click(f"#results-{tallied.slug}")
    page.wait_for_url(re.compile(rf".*/results/{tallied.slug}$"))
    no_violations(s, "results")
    heights = {"results": page_height(s)}
    tie = page.locator("#tie-insured")
    assert tie.is_visible() and tie.locator("li").count() == 4
    assert page.locator("#contest-insured ~ .elected-list li, .contest-result .elected-list li").count() >= 5
    # By ballot number: the list unfolds at the contest, 25 rows; then its second page.
    page.locator("#all-insured summary").click()
    page.click("#all-insured nav.sort a:not([aria-current])")
    page.wait_for_url(re.compile(r".*sort=number.*"))
    numbers = [int(t) for t in page.locator("#all-insured tbody tr td:first-child").all_inner_texts()]
    assert numbers == list(range(1, 26))
    no_violations(s, "results-by-number")
    heights["results-by-number"] = page_height(s)
    page.click("#all-insured a[rel=next]")
    page.wait_for_url(re.compile(r".*page=2.*"))
    numbers = [int(t) for t in page.locator("#all-insured tbody tr td:first-child").all_inner_texts()]
    assert numbers == list(range(26, 51))
    no_violations(s, "results-page-2")
    heights["results-page-2"] = page_height(s)
    print(f"results page heights ({lang}, {viewport['width']} px): {heights}")
    if viewport == PHONE:  # was 23,900 px with every candidate in team tables
        assert max(heights.values()) < 6000, heights
