"""The voter's journey on a phone (issue 18), in headless Chromium against the real server.

A first-time insured voter at 360×740 with the CPU slowed 4× (Chrome DevTools
Emulation.setCPUThrottlingRate) goes from the landing page through sign-in to the receipt; the
test counts the taps after sign-in and the seconds waited, prints them
(``voter journey: N taps after sign-in, wait after cast X s``) and saves a screenshot of every
step in test-artifacts/journey/.  Then: a session that ends during voting loses nothing
(the server's clock really passes the idle timeout; cast → "sign in again" → sign in → the same
choices → cast), the (k+1)-th pick is refused out loud, the team shortcut says what it picked.
axe-core (WCAG 2.2 AA) runs on every new page state, in Thai and in English.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import ROOT, LiveElection, VoterLogin
from tests.e2e.test_browser_voting import (
    CODE, PHONE, Session, board_state, chosen_numbers, enter_credential, review, shown_tracker,
)

pytestmark = pytest.mark.browser

JOURNEY = ROOT / "test-artifacts" / "journey"
THROTTLE = 4


class Phone(Session):
    """A phone: 360×740, CPU slowed 4×, touch; counts taps and keeps numbered screenshots."""

    def __init__(self, chromium: Any, live: LiveElection, lang: str, throttle: int = THROTTLE):
        super().__init__(chromium, live, lang, PHONE)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        self.taps = 0
        self.counting = False
        self.step = 0

    def tap(self, selector: str) -> None:
        if self.counting:
            self.taps += 1
        self.page.locator(selector).first.click()

    def snap(self, name: str, axe: bool = True) -> None:
        """A screenshot of what the voter sees, numbered in journey order (and axe on it)."""
        self.step += 1
        JOURNEY.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(JOURNEY / f"{self.lang}-{self.step:02d}-{name}.png"))
        if axe:
            self.axe(f"journey-{name}")


@pytest.fixture
def phones(chromium: Any, live_election: LiveElection) -> Iterator[Any]:
    opened: list[Phone] = []

    def make(lang: str, throttle: int = THROTTLE) -> Phone:
        p = Phone(chromium, live_election, lang, throttle)
        opened.append(p)
        return p

    yield make
    for p in opened:
        assert p.errors == [], p.errors
        p.close()


def sign_in_from_landing(p: Phone, voter: VoterLogin) -> None:
    page = p.page
    p.goto(f"/?lang={p.lang}")
    p.snap("landing")
    page.click("a[href$='/insured/login']")
    page.wait_for_url(re.compile(r".*/insured/login$"))
    page.fill("#login_id", voter.login_id)
    page.fill("#password", voter.password)
    p.snap("login")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/code$"))
    page.fill("#code", p.live.totp(voter.totp_secret))
    page.click("main button[type=submit]")


def label_of(p: Phone, number: int) -> str:
    """The selector of a candidate's label (what a finger taps: the whole row)."""
    code = p.page.get_attribute(f"input[name=candidate][data-number='{number}']", "value")
    return f"label[for='cand-{code}']"


def team_numbers(p: Phone, team: int) -> list[int]:
    return sorted(int(n) for n in p.page.eval_on_selector_all(
        f"#team-{team} input[name=candidate]", "els => els.map(e => e.dataset.number)"))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_first_time_voter_journey_on_a_slow_phone(phones: Any, live_election: LiveElection, lang: str) -> None:
    live = live_election
    voter = live.voter("insured")
    p = phones(lang)
    page = p.page
    sign_in_from_landing(p, voter)
    page.wait_for_url(re.compile(r".*/insured/$"))
    signed_in = time.monotonic()
    p.counting = True
    # Home: no candidate table; the warm-up has started; one button to the ballot.
    assert page.locator("table").count() == 0
    page.wait_for_selector("body[data-warm=started]", state="attached")
    p.snap("home")
    p.tap("#go-vote")
    page.wait_for_url(re.compile(r".*/vote$"))
    opened = time.monotonic()
    p.snap("ballot")
    # The bar at the bottom is one line on the phone: counter, preparation, Review.
    bar = page.locator("#ballot-bar").bounding_box()
    assert bar is not None and bar["height"] <= 64, bar  # under 9 % of the screen
    assert bar["y"] + bar["height"] <= PHONE["height"] + 1
    # Team 2 from the index: 4 picks; team 5 from the index: 3 picks.
    picks: list[int] = []
    for team, count in ((2, 4), (5, 3)):
        p.tap(f".team-index a[data-team='team-{team}']")
        assert page.locator(f"#team-{team}").get_attribute("open") is not None
        for number in team_numbers(p, team)[1:count + 1]:
            p.tap(label_of(p, number))
            picks.append(number)
        p.snap(f"team-{team}")
    assert chosen_numbers(p) == sorted(picks)
    # The focused candidate is never hidden under the bar.
    page.focus(f"input[data-number='{picks[-1]}']")
    focus = page.evaluate("document.activeElement.getBoundingClientRect().bottom")
    assert focus <= page.locator("#ballot-bar").bounding_box()["y"], focus  # type: ignore[index]
    p.tap("#to-review")
    page.wait_for_selector("#review-step:not([hidden])")
    p.snap("review")
    p.tap("#credential")  # the field's tap; typing is not a tap
    page.locator("#credential").press_sequentially(voter.credential, delay=5)
    page.wait_for_selector("#credential-entry[data-state=valid]", state="attached")
    prep_done_before_encrypt = page.get_attribute("body", "data-precomputed") == "true"
    prep_text = page.inner_text("#prep-status")
    encrypt_at = time.monotonic()
    p.tap("#encrypt")
    if not prep_done_before_encrypt:  # the wait shows progress and time left where the voter looks
        page.wait_for_timeout(300)
        if page.is_visible("#encrypt-progress"):
            p.snap("encrypt-wait")
    tracker = shown_tracker(p)
    encrypt_wait = time.monotonic() - encrypt_at
    p.snap("tracker")
    cast_at = time.monotonic()
    p.tap("#cast")
    page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000, wait_until="commit")
    accepted = time.monotonic() - cast_at  # signed, sent, verified and stored: the receipt loads
    page.wait_for_load_state("domcontentloaded")
    cast_wait = time.monotonic() - cast_at  # the receipt (position, tracker, time) is on screen
    page.wait_for_selector("#qr-canvas[data-drawn=true]")
    qr_wait = time.monotonic() - cast_at
    page.wait_for_selector("#receipt-verify:not([data-state=pending])", state="attached")
    assert page.get_attribute("#receipt-verify", "data-state") == "ok"
    assert CODE.match(page.input_value("#code-text")).group(2) == tracker  # type: ignore[union-attr]
    p.snap("receipt")
    # Thai local time on the receipt; the technical details folded.
    when = page.inner_text("#receipt-time")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d " + ("น\\." if lang == "th" else "ICT"), when), when
    assert int(when[6:10]) >= (2568 if lang == "th" else 2025)
    assert page.locator("#technical-details").get_attribute("open") is None
    assert page.is_visible("#print-receipt") and page.locator("form[data-signout] button").count() >= 1
    page.click("#technical-details summary")
    p.snap("receipt-details")
    total = time.monotonic() - signed_in
    print(f"\nvoter journey ({lang}, 360x740, CPU {THROTTLE}x): {p.taps} taps after sign-in, "
          f"wait after cast {cast_wait:.1f} s (accepted {accepted:.1f} s, QR drawn {qr_wait:.1f} s); encrypt wait {encrypt_wait:.1f} s "
          f"(preparation {'done' if prep_done_before_encrypt else 'not done: ' + prep_text} at 'encrypt'); "
          f"ballot open to receipt {time.monotonic() - opened:.1f} s, sign-in to receipt {total:.1f} s")
    assert p.taps <= 15
    # Home again: "you have voted (at …); you may vote again until …".
    p.goto(f"{'/insured'}/")
    status = page.inner_text("#voted-status")
    assert ("ลงคะแนนแล้ว" in status) if lang == "th" else ("You have voted" in status), status
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d " + ("น\\." if lang == "th" else "ICT"), status), status
    p.snap("home-voted")
    assert board_state(live, voter.pseudonym)[1:3] == ([], int(page.get_attribute("#my-receipt", "href").rsplit("/", 1)[1]))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_session_expiry_during_voting_loses_nothing(phones: Any, live_election: LiveElection, lang: str) -> None:
    live = live_election
    voter = live.voter("insured")
    p = phones(lang, throttle=1)
    page = p.page
    sign_in_from_landing(p, voter)
    page.wait_for_url(re.compile(r".*/insured/$"))
    page.click("#go-vote")
    page.wait_for_url(re.compile(r".*/vote$"))
    p.step = 20
    picks = [team_numbers(p, 1)[0], team_numbers(p, 3)[2], team_numbers(p, 7)[4]]
    for number in picks:
        page.fill("#search", str(number))
        page.locator(f"input[name=candidate][data-number='{number}']").check()
    page.fill("#search", "")
    assert chosen_numbers(p) == sorted(picks)
    review(p)
    enter_credential(p, voter.credential)
    page.click("#encrypt")
    shown_tracker(p)
    # The voter leaves the phone: the server's clock passes the idle timeout (a real expiry).
    idle = live.app.config["SSBVOTE"].session_idle_minutes * 60
    live.clock.advance(idle + 5)
    page.click("#cast")
    page.wait_for_selector("#session-ended:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "session-ended"
    text = page.inner_text("#session-ended")
    assert ("เข้าสู่ระบบอีกครั้ง" in text) if lang == "th" else ("sign in again" in text), text
    assert "400" not in page.inner_text("main")
    assert board_state(live, voter.pseudonym)[2:] == (None, 0)
    p.snap("session-ended")
    # Sign in again: back on the ballot, the same choices, then cast.
    page.click("#sign-in-again")
    page.wait_for_url(re.compile(r".*/insured/login$"))
    page.fill("#login_id", voter.login_id)
    page.fill("#password", voter.password)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/code$"))
    page.fill("#code", live.totp(voter.totp_secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/vote$"))
    page.wait_for_selector("#restored-note:not([hidden])")
    assert chosen_numbers(p) == sorted(picks)
    p.snap("choices-restored")
    assert review(p) == sorted(picks)
    enter_credential(p, voter.credential)  # still held by this tab: not typed again
    page.click("#encrypt")
    tracker = shown_tracker(p)
    page.click("#cast")
    page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    seq = int(page.inner_text("#receipt-seq"))
    assert page.text_content("#receipt-hash").strip() == tracker
    assert board_state(live, voter.pseudonym)[1:] == ([], seq, 1)
    # The choices were forgotten after the cast.
    assert page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('ssbvote-choices:'))") == []
    # The browser logs the refused cast (401) as a failed resource: that one was expected.
    p.errors[:] = [e for e in p.errors if "status of 401" not in e]


@pytest.mark.parametrize("lang", ["th", "en"])
def test_the_extra_pick_is_refused_out_loud_and_the_team_shortcut_says_what_it_picked(
        phones: Any, live_election: LiveElection, lang: str) -> None:
    live = live_election
    voter = live.voter("insured")
    p = phones(lang, throttle=1)
    page = p.page
    sign_in_from_landing(p, voter)
    page.wait_for_url(re.compile(r".*/insured/$"))
    p.snap("home")
    page.click("#go-vote")
    page.wait_for_url(re.compile(r".*/vote$"))
    p.step = 40
    # Two picks in team 3, then team 1's shortcut: the team's first 5 by number, named.
    page.click(".team-index a[data-team='team-3']")
    two = team_numbers(p, 3)[:2]
    for number in two:
        page.locator(f"input[data-number='{number}']").check()
    page.click(".team-index a[data-team='team-1']")
    first = team_numbers(p, 1)
    assert len(first) > 7
    page.click("#team-1 .team-all")
    note = page.inner_text("#team-1-note")
    assert all(str(n) in note for n in first[:5]) and str(first[5]) not in note.replace(str(first[4]), ""), note
    assert chosen_numbers(p) == sorted(two + first[:5])
    assert "7" in page.inner_text("#counter")
    p.snap("team-shortcut")
    # The 8th pick: not ticked, and said at once (polite live region in the bar).
    eighth = first[6]
    page.locator(label_of(p, eighth)).click()
    assert page.locator(f"input[data-number='{eighth}']").is_checked() is False
    assert page.locator(f"input[data-number='{eighth}']").is_enabled()
    limit = page.inner_text("#limit-note")
    assert str(eighth) in limit and "7" in limit, limit
    assert page.get_attribute("#limit-note", "aria-live") == "polite"
    p.snap("eighth-pick")
    # Easy to adjust: untick one of the team's, tick the 8th.
    page.locator(f"input[data-number='{first[0]}']").uncheck()
    page.locator(f"input[data-number='{eighth}']").check()
    assert chosen_numbers(p) == sorted(two + first[1:5] + [eighth])
    assert page.inner_text("#limit-note").strip() == ""
    # Search by team name opens that team only.
    name = page.inner_text("#team-4 summary .team-name").strip()
    page.fill("#search", name.lower())
    assert page.locator("details.team:not([hidden])").count() >= 1
    assert page.locator("#team-4").get_attribute("open") is not None
    assert page.locator("#team-4 .candidate:not([hidden])").count() == len(team_numbers(p, 4))
    p.snap("search-team")
    page.fill("#search", "")
    # Keyboard: teams are closed disclosures, so Review is a few Tab presses away.
    page.focus("#search")
    presses = 0
    while page.evaluate("document.activeElement.id") != "to-review" and presses < 40:
        page.keyboard.press("Tab")
        presses += 1
    assert page.evaluate("document.activeElement.id") == "to-review", presses
    print(f"\nTab presses from the search box to Review: {presses}")
    assert presses <= 5
    # The "session ends soon" warning, and "stay signed in" keeps it.
    page.evaluate("document.getElementById('session-warning').hidden = false")
    p.snap("session-warning")
    page.click("#stay-signed-in")
    page.wait_for_selector("#session-warning[hidden]", state="attached")
