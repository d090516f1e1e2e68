"""The public observer page in Chromium (issue 23, docs/record.md §3.2–§3.4): no sign-in, Thai
and English, phone width; the latest checkpoint's signature is checked in the browser with the
board key the CA-signed opening pins — a checkpoint the server forged in its database shows as
NOT VALID; axe-core finds no violation."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Checkpoint
from app.services.administration.manifest import get_election
from tests.e2e.conftest import AXE, SCREENSHOTS, LiveElection

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
VIEWPORTS = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}
STATUS = {"en": ("Valid: signed by the board key", "NOT VALID"),
          "th": ("ถูกต้อง: ลงนามด้วยกุญแจของกระดาน", "ไม่ถูกต้อง")}


@pytest.fixture
def page_for(chromium: Any, live_election: LiveElection) -> Iterator[Any]:
    opened: list[tuple[Any, list[str]]] = []

    def make(lang: str, viewport: str) -> Any:
        context = chromium.new_context(viewport=VIEWPORTS[viewport],
                                       locale="th-TH" if lang == "th" else "en-GB")
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and not str(msg.location.get("url", "")).endswith("/favicon.ico") else None)
        page.goto(f"{live_election.url}/language/{lang}?next=/")
        opened.append((context, errors))
        return page

    yield make
    for context, errors in opened:
        assert errors == [], errors
        context.close()


def _axe(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result: list[dict[str, Any]] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact,"
        " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))", AXE_TAGS)
    return result


@pytest.mark.parametrize("lang", ["th", "en"])
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_observer_page_checks_the_checkpoint_in_the_browser(page_for: Any, live_election: LiveElection,
                                                          lang: str, viewport: str) -> None:
    page = page_for(lang, viewport)
    # linked from the landing page, no sign-in
    page.click(f"a[href='/observe/{live_election.slug}']")
    page.wait_for_url(f"**/observe/{live_election.slug}")
    assert page.locator("html").get_attribute("lang") == lang
    page.wait_for_function("document.getElementById('checkpoint').dataset.state !== 'checking'")
    assert page.locator("#checkpoint").get_attribute("data-state") == "ok"
    assert STATUS[lang][0] in page.locator("#signature-status").inner_text()
    assert page.locator("#turnout tbody tr").count() == 2  # per contest: ballots, voters
    assert page.locator("#actions li").count() >= 3  # officials' actions, in words
    text = page.locator("#actions").inner_text()
    assert ("polls opened" in text) if lang == "en" else ("เปิดหีบแล้ว" in text)
    # no horizontal scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"observer-{lang}-{viewport}.png"), full_page=True)
    assert _axe(page) == []
    # the checkpoint list and the pins download as the API serves them
    cps = page.evaluate(f"fetch('/api/elections/{live_election.slug}/checkpoints').then(r => r.text())")
    assert json.loads(cps.splitlines()[-1])["signature"] == page.locator("#checkpoint-head").evaluate(
        "() => JSON.parse(JSON.parse(document.getElementById('observer-data').textContent).data)"
        ".checkpoint.signature")


@pytest.mark.parametrize("lang", ["th", "en"])
def test_a_forged_checkpoint_shows_as_not_valid(page_for: Any, live_election: LiveElection,
                                                lang: str) -> None:
    """The server rewrites the head of its latest checkpoint in the database (keeping the old
    signature): the browser's own check says NOT VALID."""
    with live_election.app.app_context():
        election = get_election(live_election.slug)
        row = db.session.scalars(select(Checkpoint).where(Checkpoint.election_pk == election.id)
                                 .order_by(Checkpoint.id.desc())).first()
        assert row is not None
        original = row.body
        body = json.loads(original)
        body["head"] = "f" * 64
        row.body = json.dumps(body, sort_keys=True, separators=(",", ":"))
        db.session.commit()
        try:
            page = page_for(lang, "desktop")
            page.goto(f"{live_election.url}/observe/{live_election.slug}")
            page.wait_for_function("document.getElementById('checkpoint').dataset.state !== 'checking'")
            assert page.locator("#checkpoint").get_attribute("data-state") == "failed"
            assert STATUS[lang][1] in page.locator("#signature-status").inner_text()
            assert _axe(page) == []
        finally:
            row.body = original
            db.session.commit()
            db.session.remove()
