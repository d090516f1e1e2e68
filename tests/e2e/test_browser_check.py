"""The check page's refusals in a real browser: not a receipt code, no such ballot (404),
used up after 3 checks (429), expired after 30 minutes (410). Own server: this module moves
the clock forward."""
from __future__ import annotations

import secrets
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import LiveElection
from tests.e2e.test_browser_voting import DESKTOP, Session, cast, review, sign_in, wait_precomputed

pytestmark = pytest.mark.browser


@pytest.fixture
def s(chromium: Any, live_election: LiveElection) -> Iterator[Session]:
    session = Session(chromium, live_election, "en", DESKTOP)
    yield session
    # The refused checks are HTTP errors the console reports; nothing else may go wrong.
    assert [e for e in session.errors if not e.startswith("Failed to load resource")] == [], session.errors
    session.close()


def submit(s: Session, code: str) -> str:
    s.page.fill("#code", code)
    s.page.click("#check-button")
    s.page.wait_for_selector("#check-result:not([hidden]), #check-error:not([hidden]), #code-error:not([hidden])")
    for box in ("#code-error", "#check-error"):
        if s.page.is_visible(box):
            return s.page.inner_text(box)
    return "OK " + s.page.inner_text("#result-checks")


def test_check_refusals(chromium: Any, live_election: LiveElection, s: Session) -> None:
    live = live_election
    voter_page = Session(chromium, live, "en", DESKTOP)
    voter = live.voter("insured")
    sign_in(voter_page, voter)
    voter_page.goto("/vote")
    wait_precomputed(voter_page)
    voter_page.page.locator("input[name=candidate][data-number='7']").check()
    review(voter_page)
    code = cast(voter_page, voter.credential)
    voter_page.close()

    s.goto(f"/check/{live.slug}")
    assert "not an SSB Vote receipt code" in submit(s, "hello")
    assert s.page.get_attribute("#code", "aria-invalid") == "true"
    assert "No ballot of this election matches" in submit(s, f"ssbvote-check:1:1:{secrets.token_hex(32)}")
    for left in (2, 1, 0):
        assert submit(s, code) == f"OK Checks left for this ballot: {left}"
    assert "already been checked 3 times" in submit(s, code)

    # A second ballot, checked 31 minutes later: expired.
    voter_page = Session(chromium, live, "th", DESKTOP)
    employer = live.voter("employer")
    sign_in(voter_page, employer)
    voter_page.goto("/vote")
    wait_precomputed(voter_page)
    review(voter_page)
    late = cast(voter_page, employer.credential)
    voter_page.close()
    live.clock.advance(31 * 60)
    assert "only within 30 minutes" in submit(s, late)


def test_check_index_redirects_to_the_election(live_election: LiveElection, s: Session) -> None:
    s.goto("/check")
    assert s.page.url.endswith(f"/check/{live_election.slug}")
    s.goto("/check/no-such-election")
    assert s.page.locator("h1").count() == 1  # the 404 page, not a crash
