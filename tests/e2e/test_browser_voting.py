"""Voting in a real browser (headless Chromium), end to end against the real server:
sign in with password + TOTP, choose on the ballot, review, encrypt (in the page, in Web
Workers), the tracker, cast, receipt with the tracker's QR code drawn in the page, re-vote with
an audit checked from another "device" (docs/protocol.md §14); then the board on the server
verifies.

For an insured voter and an employer, in Thai and in English; keyboard only; at 360 px; and
axe-core (WCAG 2.2 AA) on every page. Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from app.extensions import db
from app.services.voting import board
from app.services.administration.manifest import get_election
from tests.e2e.conftest import AXE, SCREENSHOTS, LiveElection, VoterLogin, opened_sessions, sign_in_at

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CODE = re.compile(r"^ssbvote-tracker:1:([1-9][0-9]*):([0-9a-f]{64})$")
AUDIT_CODE = re.compile(r"^ssbvote-audit:1:([1-9][0-9]*):([0-9a-f]{64})$")
PREFIX = {"insured": "/insured", "employer": "/employer"}
#: Axe results per page, reported at the end of the module (and asserted page by page).
AXE_RESULTS: dict[str, list[str]] = {}


# --- helpers ----------------------------------------------------------------------------
class Session:
    """One browser context (one device): a page, its console errors, its language."""

    def __init__(self, chromium: Any, live: LiveElection, lang: str, viewport: dict[str, int]):
        self.live, self.lang = live, lang
        self.context = chromium.new_context(viewport=viewport, locale="th-TH" if lang == "th" else "en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.tag = "phone" if viewport["width"] < 600 else "desktop"
        self.goto(f"/?lang={lang}")

    def _console(self, msg: Any) -> None:
        if msg.type == "error" and not str(msg.location.get("url", "")).endswith("/favicon.ico"):
            self.errors.append(msg.text)

    def goto(self, path: str) -> None:
        self.page.goto(self.live.url + path)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.lang}-{self.tag}.png"), full_page=True)
        if name.startswith("ballot"):  # the long ballot: also what the voter sees on screen
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{self.lang}-{self.tag}-screen.png"))

    def axe(self, name: str) -> None:
        """No serious or critical WCAG 2.2 AA violation on the page as it is now."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
            self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
        result = self.page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
            " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))", AXE_TAGS)
        AXE_RESULTS[f"{name}-{self.lang}-{self.tag}"] = [f"{v['id']} ({v['impact']})" for v in result]
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert bad == [], f"axe on {name} ({self.lang}): {bad}"

    def close(self) -> None:
        self.context.close()


def no_violations(s: Session, name: str) -> None:
    """axe: not one violation of any impact on the page as it is now (Session.axe fails on the
    serious and critical ones only)."""
    s.axe(name)
    found = AXE_RESULTS[f"{name}-{s.lang}-{s.tag}"]
    assert found == [], f"axe on {name} ({s.lang}): {found}"


def sign_in(s: Session, voter: VoterLogin, screenshot: bool = False) -> None:
    def shown() -> None:
        if screenshot:
            s.shot(f"login-{voter.electorate}")
            s.axe("login")

    sign_in_at(s, PREFIX[voter.electorate], voter.login_id, voter.password, voter.totp_secret, shown)


def open_ballot(s: Session) -> None:
    s.page.click("#go-vote")
    s.page.wait_for_url(re.compile(r".*/vote$"))
    wait_precomputed(s)


def wait_precomputed(s: Session) -> None:
    s.page.wait_for_selector("body[data-precomputed]", state="attached", timeout=60_000)
    assert s.page.get_attribute("body", "data-precomputed") == "true", s.page.inner_text("#prep-status")
    bar = s.page.get_by_role("progressbar").first
    assert bar.get_attribute("aria-valuenow") == "100"


def tick(page: Any, number: int) -> None:
    """Tick a candidate by ballot number, opening its team first (teams are closed disclosures)."""
    box = page.locator(f"input[name=candidate][data-number='{number}']")
    box.evaluate("el => { el.closest('details').open = true; }")
    box.check()


def choose(s: Session, numbers: list[int]) -> None:
    """Tick candidates by ballot number, half of them found with the search box."""
    page = s.page
    for i, number in enumerate(numbers):
        if i % 2:
            page.fill("#search", str(number))
            box = page.locator(f"input[name=candidate][data-number='{number}']")
            assert page.locator(".candidate:not([hidden])").count() >= 1
            box.check()
            page.fill("#search", "")
        else:
            tick(page, number)


def chosen_numbers(s: Session) -> list[int]:
    return sorted(int(n) for n in s.page.eval_on_selector_all(
        "input[name=candidate]:checked", "els => els.map(e => e.dataset.number)"))


def review(s: Session) -> list[int]:
    s.page.click("#to-review")
    s.page.wait_for_selector("#review-step:not([hidden])")
    return [int(n) for n in s.page.eval_on_selector_all("#review-list li", "els => els.map(e => e.dataset.number)")]


def enter_credential(s: Session, credential: str) -> None:
    """Type the voter's credential on the review step (docs/protocol.md §13.1), unless this tab
    still holds it from an earlier cast; it must check out as the voter's own."""
    page = s.page
    page.wait_for_selector("#credential-entry:not([data-state=checking])", state="attached")
    if page.get_attribute("#credential-entry", "data-state") != "valid":
        page.fill("#credential", "")
        page.locator("#credential").press_sequentially(credential, delay=2)
        page.wait_for_selector("#credential-entry:not([data-state=checking])", state="attached")
    assert page.get_attribute("#credential-entry", "data-state") == "valid", page.inner_text("#credential-entry")


def encrypt(s: Session, credential: str | None = None) -> str:
    """From the review step (typing ``credential`` first if given): encrypt and return the
    tracker the page shows (docs/protocol.md §14.1 step 1); nothing is sent."""
    if credential is not None:
        enter_credential(s, credential)
    s.page.click("#encrypt")
    return shown_tracker(s)


def shown_tracker(s: Session) -> str:
    page = s.page
    page.wait_for_selector("#tracker-step:not([hidden]), #review-error:not([hidden]), #audit-error:not([hidden])",
                           timeout=60_000)
    assert page.is_visible("#tracker-step"), page.inner_text("main")
    full = page.inner_text("#tracker-full").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", full), full
    assert page.inner_text("#tracker-short").strip() == f"{full[:4]} {full[4:8]}"
    return full


def cast(s: Session, credential: str | None = None) -> str:
    """Encrypt (if the page is still on the review step) and cast; returns the tracker text of
    the receipt's QR code, after the page verified the signed receipt (✓)."""
    if not s.page.is_visible("#tracker-step"):
        encrypt(s, credential)
    tracker = s.page.inner_text("#tracker-full").strip()
    s.page.click("#cast")
    s.page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    s.page.wait_for_selector("#qr-canvas[data-drawn=true]")
    code = s.page.input_value("#code-text")
    match = CODE.match(code)
    assert match and match.group(2) == tracker, (code, tracker)
    assert s.page.text_content("#receipt-hash").strip() == tracker
    s.page.wait_for_selector("#receipt-verify:not([data-state=pending])", state="attached")
    assert s.page.get_attribute("#receipt-verify", "data-state") == "ok", s.page.inner_text("#receipt-verify")
    return code


def audit(s: Session) -> str:
    """Audit the encryption on show (§14.1 step 3); returns the audit code the page shows."""
    tracker = s.page.inner_text("#tracker-full").strip()
    s.page.click("#audit")
    s.page.wait_for_selector("#audit-step:not([hidden]), #review-error:not([hidden])", timeout=60_000)
    assert s.page.is_visible("#audit-step"), s.page.inner_text("#review-error")
    s.page.wait_for_selector("#audit-qr[data-drawn=true]")
    code = s.page.input_value("#audit-code")
    match = AUDIT_CODE.match(code)
    assert match and match.group(2) == tracker, (code, tracker)
    assert s.page.inner_text("#audit-position").strip() == match.group(1)
    assert s.page.inner_text("#audit-tracker").strip() == f"{tracker[:4]} {tracker[4:8]}"
    return code


def next_encryption(s: Session) -> str:
    """After an audit: wait for the fresh precomputation and show the new tracker."""
    s.page.wait_for_selector("body[data-precomputed=true]", state="attached", timeout=60_000)
    s.page.click("#audit-next")
    return shown_tracker(s)


def check_audit(s: Session, code: str | None = None, typed: tuple[str, str] | None = None) -> tuple[list[int], str]:
    """On another device: open an audited ballot on /check; returns (ballot numbers, tracker)."""
    s.goto("/check")
    s.page.wait_for_url(re.compile(rf".*/check/{re.escape(s.live.slug)}$"))
    if code is not None:
        s.page.fill("#code", code)
    if typed is not None:
        s.page.fill("#position", typed[0])
        s.page.fill("#short", typed[1])
    s.page.click("#check-button")
    s.page.wait_for_selector("#check-result:not([hidden]), #check-error:not([hidden]), #code-error:not([hidden])",
                             timeout=60_000)
    assert s.page.is_visible("#check-result"), s.page.inner_text("main")
    numbers = [int(n) for n in s.page.eval_on_selector_all("#result-list li", "els => els.map(e => e.dataset.number)")]
    tracker = s.page.inner_text("#result-hash").strip()
    assert s.page.inner_text("#result-tracker").strip() == f"{tracker[:4]} {tracker[4:8]}"
    return numbers, tracker


def board_state(live: LiveElection, pseudonym: str) -> tuple[int, list[str], int | None, int]:
    """(board size, chain problems, seq of the voter's counted ballot, the voter's ballots)."""
    with live.app.app_context():
        db.session.expire_all()
        election = get_election(live.slug)
        current = board.current_entry(election, pseudonym)
        mine = sum(1 for e in board.iter_entries(election) if e.pseudonym == pseudonym)
        out = (board.size(election), board.verify_chain(election), current.seq if current else None, mine)
        db.session.remove()
        return out


@pytest.fixture
def sessions(chromium: Any, live_election: LiveElection) -> Iterator[Any]:
    def make(lang: str, viewport: dict[str, int] = DESKTOP) -> Session:
        return Session(chromium, live_election, lang, viewport)

    yield from opened_sessions(make)


# --- the full flow ----------------------------------------------------------------------
FIRST_CHOICE = {
    # 7 across teams (insured: teams T01..T10 by ballot number ranges; employer: teams and independents)
    "insured": [3, 31, 62, 90, 120, 150, 228],
    "employer": [2, 21, 45, 61, 63, 64, 65],
}


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("electorate", ["insured", "employer"])
def test_vote_receipt_revote_and_check(sessions: Any, live_election: LiveElection, electorate: str,
                                       lang: str) -> None:
    live = live_election
    voter = live.voter(electorate)
    s = sessions(lang)
    sign_in(s, voter, screenshot=True)
    assert s.page.get_attribute("html", "lang") == lang
    open_ballot(s)
    page = s.page

    # Only this electorate's contest is on the page.
    codes = page.eval_on_selector_all("input[name=candidate]", "els => els.map(e => e.value)")
    assert codes and all(c.startswith("I" if electorate == "insured" else "M") for c in codes)
    assert len(codes) == (228 if electorate == "insured" else 65)

    # Choose 7 across teams; the counter says so and an 8th choice is refused out loud.
    choose(s, FIRST_CHOICE[electorate])
    assert chosen_numbers(s) == sorted(FIRST_CHOICE[electorate])
    counter = page.inner_text("#counter")
    assert "7" in counter and ("chosen" in counter if lang == "en" else "เลือก" in counter)
    eighth = next(n for n in range(1, 300) if n not in FIRST_CHOICE[electorate])
    page.locator(f"input[name=candidate][data-number='{eighth}']").evaluate(
        "el => { el.closest('details').open = true; el.click(); }")
    assert str(eighth) in page.inner_text("#limit-note")
    unchecked = page.locator("input[name=candidate]:not(:checked)")
    assert unchecked.count() == len(codes) - 7
    s.shot(f"ballot-{electorate}")
    s.axe("ballot")

    # Review lists exactly the choices; encrypt: the tracker; cast; receipt with the tracker's
    # QR code and the same text.
    assert review(s) == sorted(FIRST_CHOICE[electorate])
    s.shot(f"review-{electorate}")
    s.axe("review")
    encrypt(s, voter.credential)
    s.shot(f"tracker-{electorate}")
    s.axe("tracker")
    first_code = cast(s)
    first_seq = int(CODE.match(first_code).group(1))  # type: ignore[union-attr]
    assert page.inner_text("#receipt-seq") == str(first_seq)
    s.shot(f"receipt-{electorate}")
    s.axe("receipt")
    assert board_state(live, voter.pseudonym)[1:] == ([], first_seq, 1)

    # Re-vote: the page says the last ballot counts; a fresh precomputation; a different choice
    # (the first team, whole, as far as the limit allows).
    page.click("a[href$='/vote']")
    page.wait_for_url(re.compile(r".*/vote$"))
    assert page.is_visible("#revote-note")
    wait_precomputed(s)
    team = sorted(int(n) for n in page.eval_on_selector_all(
        "details.team >> nth=0 >> input[name=candidate]", "els => els.map(e => e.dataset.number)"))
    page.locator("details.team >> nth=0 >> summary").click()
    page.locator(".team-all").first.click()
    second = chosen_numbers(s)
    assert len(team) > 7 and second == team[:7]  # the team's first 7 by ballot number
    assert all(str(n) in page.inner_text("#team-1-note") for n in second)  # it says which
    page.locator(f"input[name=candidate][data-number='{second[-1]}']").uncheck()
    page.locator("details.team >> nth=0 >> summary").click()  # fold the team again
    second = second[:-1]
    assert page.locator("input[name=candidate]:not(:checked):not(:disabled)").count() > 0
    assert review(s) == second
    audited = encrypt(s)  # the credential is remembered by the tab: not typed again

    # Audit that encryption; check it from another device with no session: exactly the
    # second choice and the same tracker.  Then cast a fresh encryption.
    code = audit(s)
    s.shot(f"audit-{electorate}")
    s.axe("audit")
    other = sessions(lang)
    numbers, tracker = check_audit(other, code)
    assert numbers == second and tracker == audited
    other.shot(f"check-{electorate}")
    other.axe("check")
    fresh = next_encryption(s)
    assert fresh != audited
    second_code = cast(s)
    second_seq = int(CODE.match(second_code).group(1))  # type: ignore[union-attr]
    assert CODE.match(second_code).group(2) == fresh  # type: ignore[union-attr]
    audit_seq = int(AUDIT_CODE.match(code).group(1))  # type: ignore[union-attr]
    assert first_seq < audit_seq < second_seq
    size, problems, current, mine = board_state(live, voter.pseudonym)
    assert (problems, current) == ([], second_seq) and mine >= 2

    # The receipt of the first ballot now says it no longer counts; its QR code is its tracker.
    s.goto(f"/receipt/{live.slug}/{first_seq}")
    s.page.wait_for_selector("#qr-canvas[data-drawn=true]")
    assert page.input_value("#code-text") == first_code
    assert "latest" in page.inner_text("main") or "ล่าสุด" in page.inner_text("main")


def test_keyboard_only(sessions: Any, live_election: LiveElection) -> None:
    """Tab/Space to choose, Enter to review and to cast: no mouse anywhere on the ballot."""
    live = live_election
    voter = live.voter("insured")
    s = sessions("en")
    sign_in(s, voter)
    s.goto("/vote")
    wait_precomputed(s)
    page = s.page
    page.focus("#team-1 summary")
    page.keyboard.press("Enter")  # open the first team (a disclosure)
    picked: list[int] = []
    for _ in range(40):  # Tab into the first team: its shortcut button, then its candidates
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.name === 'candidate' ? document.activeElement.dataset.number : null")
        if focused is not None:
            page.keyboard.press("Space")
            picked.append(int(focused))
            if len(picked) == 3:
                break
    assert picked == [1, 2, 3] and chosen_numbers(s) == [1, 2, 3]
    assert "3 of 7" in page.inner_text("#counter")
    # Focus is visible (the outline of :focus-visible).
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    page.focus("#to-review")
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-step:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "review-heading"
    assert [int(n) for n in page.eval_on_selector_all("#review-list li", "els => els.map(e => e.dataset.number)")] == [1, 2, 3]
    page.keyboard.press("Tab")  # the credential field comes first on the review step
    assert page.evaluate("document.activeElement.id") == "credential"
    page.keyboard.type(voter.credential.lower())
    page.wait_for_selector("#credential-entry[data-state=valid]", state="attached")
    for _ in range(6):  # past the QR code's camera button and photo input, "Change my choices"
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "encrypt":
            break
    assert page.evaluate("document.activeElement.id") == "encrypt"
    page.keyboard.press("Enter")
    page.wait_for_selector("#tracker-step:not([hidden])", timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "tracker-heading"
    # "Change my choices", "Check this ballot on another device first", then "Cast my ballot".
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "audit":
            break
    assert page.evaluate("document.activeElement.id") == "audit"
    page.keyboard.press("Enter")
    page.wait_for_selector("#audit-step:not([hidden])", timeout=60_000)
    assert page.evaluate("document.activeElement.id") == "audit-heading"
    code = page.input_value("#audit-code")
    numbers, _ = check_audit(sessions("en"), code)
    assert numbers == [1, 2, 3]
    page.wait_for_selector("body[data-precomputed=true]", state="attached", timeout=60_000)
    page.focus("#audit-next")
    page.keyboard.press("Enter")
    page.wait_for_selector("#tracker-step:not([hidden])", timeout=60_000)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "cast"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    assert CODE.match(page.input_value("#code-text"))


@pytest.mark.parametrize("lang", ["th", "en"])
def test_phone_width_360(sessions: Any, live_election: LiveElection, lang: str) -> None:
    """The employer ballot at 360×740: no sideways scrolling; abstaining (a blank ballot) works."""
    live = live_election
    voter = live.voter("employer")
    s = sessions(lang, PHONE)
    sign_in(s, voter, screenshot=True)
    s.goto("/vote")
    wait_precomputed(s)
    page = s.page

    def no_overflow() -> None:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    no_overflow()
    tick(page, 5)
    s.shot("ballot-employer")
    s.axe("ballot")
    page.locator("input[name=candidate][data-number='5']").uncheck()
    assert review(s) == []  # abstain
    assert page.is_hidden("#review-list")
    no_overflow()
    s.shot("review-employer")
    s.axe("review")
    encrypt(s, voter.credential)
    no_overflow()
    code = audit(s)
    no_overflow()
    s.shot("audit-employer")
    s.axe("audit")
    phone = sessions(lang, PHONE)
    numbers, _ = check_audit(phone, code)
    assert numbers == [] and phone.page.is_visible("#result-summary")
    phone.page.evaluate("() => window.scrollTo(0, 0)")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("check-employer")
    phone.axe("check")
    next_encryption(s)
    no_overflow()
    s.shot("tracker-employer")
    s.axe("tracker")
    cast(s)
    no_overflow()
    s.shot("receipt-employer")
    s.axe("receipt")


def test_receipt_on_another_device(sessions: Any, live_election: LiveElection) -> None:
    """The receipt holds only the tracker, so it looks the same on every device; its ballot hash
    can be compared with what was encrypted only where the ballot was encrypted."""
    live = live_election
    voter = live.voter("insured")
    s = sessions("en")
    sign_in(s, voter)
    s.goto("/vote")
    wait_precomputed(s)
    tick(s.page, 10)
    review(s)
    code = cast(s, voter.credential)
    receipt_url = s.page.url
    other = sessions("en")  # same voter, another browser
    sign_in(other, voter)
    other.page.goto(receipt_url)
    other.page.wait_for_selector("#qr-canvas[data-drawn=true]")
    assert other.page.input_value("#code-text") == code
    other.page.wait_for_selector("#receipt-verify:not([data-state=pending])", state="attached")
    assert other.page.get_attribute("#receipt-verify", "data-state") == "signature-only"


def test_axe_summary() -> None:
    """Print what axe found (minor/moderate issues included) for the report."""
    for name, found in sorted(AXE_RESULTS.items()):
        print(f"axe {name}: {', '.join(found) if found else 'no violations'}")
