"""The check page's refusals in a real browser (docs/protocol.md §14.4): not an audit code, no
audited ballot at the position (nothing there, or a cast ballot: 404), a typed or coded tracker
that is not the ballot's — and a lying server: a ballot that does not hash to its entry, an entry
that is not an audit, a seed swapped in the entry (the voter's audit signature covers it).
The choices are shown only when every check passes.  The code field of the check and track
pages reads the code from a picture of its QR code."""
from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any, Callable, Iterator

import pytest

from tests.e2e.conftest import LiveElection
from tests.e2e.test_browser_voting import (
    AUDIT_CODE, CODE, DESKTOP, Session, audit, cast, encrypt, next_encryption, review, sign_in, tick,
    wait_precomputed,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def s(chromium: Any, live_election: LiveElection) -> Iterator[Session]:
    session = Session(chromium, live_election, "en", DESKTOP)
    yield session
    # The refused look-ups are HTTP errors the console reports; nothing else may go wrong.
    assert [e for e in session.errors if not e.startswith("Failed to load resource")] == [], session.errors
    session.close()


def submit(s: Session, code: str = "", typed: tuple[str, str] = ("", "")) -> str:
    s.page.fill("#code", code)
    s.page.fill("#position", typed[0])
    s.page.fill("#short", typed[1])
    s.page.click("#check-button")
    s.page.wait_for_selector("#check-result:not([hidden]), #check-error:not([hidden]), #code-error:not([hidden])",
                             timeout=60_000)
    for box in ("#code-error", "#check-error"):
        if s.page.is_visible(box):
            return s.page.inner_text(box)
    return "OK " + s.page.inner_text("#result-summary")


@pytest.fixture(scope="module")
def audited(chromium: Any, live_election: LiveElection) -> dict[str, str]:
    """One voter audits a ballot with candidate 7, then casts."""
    voter_page = Session(chromium, live_election, "en", DESKTOP)
    voter = live_election.voter("insured")
    sign_in(voter_page, voter)
    voter_page.goto("/vote")
    wait_precomputed(voter_page)
    tick(voter_page.page, 7)
    review(voter_page)
    encrypt(voter_page, voter.credential)
    code = audit(voter_page)
    next_encryption(voter_page)
    receipt = cast(voter_page)
    voter_page.close()
    return {"code": code, "receipt": receipt}


def test_check_refusals(live_election: LiveElection, s: Session, audited: dict[str, str]) -> None:
    code = audited["code"]
    seq, tracker = AUDIT_CODE.match(code).groups()  # type: ignore[union-attr]
    cast_seq = CODE.match(audited["receipt"]).group(1)  # type: ignore[union-attr]
    s.goto(f"/check/{live_election.slug}")
    assert "not an audit code" in submit(s, "hello")
    assert s.page.get_attribute("#code", "aria-invalid") == "true"
    assert "not an audit code" in submit(s, audited["receipt"])  # a tracker is not an audit code
    assert "not an audit code" in submit(s, typed=(seq, tracker[:7]))
    assert "no checked ballot at this position" in submit(s, f"ssbvote-audit:1:9999:{secrets.token_hex(32)}")
    assert "no checked ballot at this position" in submit(s, typed=(cast_seq, "0000 0000"))  # a cast ballot
    other = "0" * 8 if not tracker.startswith("0" * 8) else "1" * 8
    assert "does not have this tracker" in submit(s, typed=(seq, other))
    assert "does not have this tracker" in submit(s, f"ssbvote-audit:1:{seq}:{secrets.token_hex(32)}")
    assert submit(s, code).startswith("OK ")
    assert [int(n) for n in s.page.eval_on_selector_all("#result-list li", "els => els.map(e => e.dataset.number)")] == [7]
    # Typed like a person: capitals and the space of the short form.
    assert submit(s, typed=(seq, f"{tracker[:4]} {tracker[4:8]}".upper())).startswith("OK ")


LIES: dict[str, Callable[[dict[str, Any]], None]] = {
    "ballot does not hash to its entry": lambda b: b["ballot"]["ciphertexts"].reverse(),
    "not an audit entry": lambda b: b["entry"].update(kind="ballot"),
    "seed swapped": lambda b: b["entry"].update(seed=secrets.token_hex(32)),
}


@pytest.mark.parametrize("lie", sorted(LIES))
def test_a_lying_server_is_caught(live_election: LiveElection, s: Session, audited: dict[str, str], lie: str) -> None:
    code = audited["code"]
    seq = AUDIT_CODE.match(code).group(1)  # type: ignore[union-attr]

    def tamper(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        LIES[lie](body)
        route.fulfill(response=response, body=json.dumps(body))

    s.page.route(re.compile(rf".*/api/elections/[^/]+/audits/{seq}$"), tamper)
    s.goto(f"/check/{live_election.slug}")
    answer = submit(s, code)
    expected = {
        "ballot does not hash to its entry": "does not match its board entry",
        "not an audit entry": "not a checked ballot",
        "seed swapped": "not signed by its voter's credential",
    }[lie]
    assert expected in answer, answer
    assert s.page.is_hidden("#check-result")
    assert s.page.get_attribute("body", "data-check") == "failed"


def test_check_and_track_index_redirect_to_the_election(live_election: LiveElection, s: Session) -> None:
    s.goto("/check")
    assert s.page.url.endswith(f"/check/{live_election.slug}")
    s.goto("/track")
    assert s.page.url.endswith(f"/track/{live_election.slug}")
    s.goto("/check/no-such-election")
    assert s.page.locator("h1").count() == 1  # the 404 page, not a crash
    # The landing page links the tracker lookup and the check page.
    s.goto("/")
    assert s.page.get_attribute("#track-link", "href") == "/track"
    assert s.page.get_attribute("#check-link", "href") == "/check"


#: A PNG of the QR code for `text`, drawn by the page's own qr.js (window.SSBQR).
DRAW_QR_PNG = """async (text) => {
  const canvas = document.createElement('canvas');
  await window.SSBQR.drawQr(canvas, text);
  return canvas.toDataURL('image/png').split(',')[1];
}"""
#: A PNG with no QR code in it.
BLANK_PNG = """() => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 64;
  return canvas.toDataURL('image/png').split(',')[1];
}"""


def read_picture(s: Session, script: str, text: str | None = None) -> str:
    """Choose a picture (made by ``script`` in the page) in the code field's file input;
    returns the status line once the page has read it."""
    png = base64.b64decode(s.page.evaluate(script, text))
    s.page.set_input_files("#qr-file", {"name": "code.png", "mimeType": "image/png", "buffer": png})
    # The status is blank or "Reading the picture" until the picture has been read.
    s.page.wait_for_function("() => /^(The code was read|No QR code)/"
                             ".test(document.getElementById('qr-status').textContent)")
    return s.page.inner_text("#qr-status")


@pytest.mark.parametrize(("path", "field", "text"), [
    ("check", "#code", f"ssbvote-audit:1:12:{'ab' * 32}"),
    ("track", "#tracker", f"ssbvote-tracker:1:12:{'cd' * 32}"),
])
def test_code_read_from_a_picture(live_election: LiveElection, s: Session, path: str, field: str, text: str) -> None:
    """Both pages' code field (templates/_code_entry.html, static/js/code-entry.js) takes the
    code from a picture of its QR code, and says so when a picture holds none."""
    s.goto(f"/{path}/{live_election.slug}")
    s.page.wait_for_function("() => window.SSBQR !== undefined")
    assert read_picture(s, BLANK_PNG).startswith("No QR code was found")
    assert s.page.input_value(field) == ""
    assert read_picture(s, DRAW_QR_PNG, text) == "The code was read from the picture."
    assert s.page.input_value(field) == text
