"""Two officials in Chromium over real HTTP (issue 18), Thai and English, axe-core 0 violations
on every officials' page state this issue changed:

- closing the polls: the dashboard's button leads to a confirmation naming the election and the
  time (no JS alert), for the proposer and again for the approver;
- the paper-vote list: a malformed CSV gives Thai errors with line numbers; the proposer signs
  the list; the approver's dashboard card shows the count, the voters (IDs, names) and the
  SHA-256 digest of docs/record.md §2.4 — the very digest both officials sign — BEFORE the
  approver opens the signing page and approves;
- the live turnout table and the audit log as sentences.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest

from app.extensions import db
from app.models import PendingAction
from app.services.administration.manifest import get_election
from app.services.voting import paper_votes
from election.board import paper_list_body, paper_list_digest
from tests.e2e.conftest import LiveElection, live_app, opened_sessions, sign_in_at
from tests.support.live import serving
from tests.e2e.test_browser_voting import Session, no_violations
from tests.support import election_setup
from tests.support.auth_client import PASSWORD, Clock
from tests.support.factories import insured_csv, national_ids, small_manifest

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


class Live:
    def __init__(self, election: LiveElection, officials: dict[str, str], credentials: dict[str, str],
                 ids: list[str]):
        self.election, self.officials, self.credentials, self.ids = election, officials, credentials, ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("officials")
    clock = Clock()
    app = live_app(tmp, clock)
    with app.app_context():
        ids = national_ids(14)
        now = clock()
        manifest = small_manifest()
        setup = election_setup.ready_election(manifest, [insured_csv(ids)], tmp / "trustees", now)
        officials = {o.username: o.totp_secret for o in setup.officials}
        credentials = dict(setup.official_credentials)
        slug = setup.slug
        db.session.remove()
    with serving(app, "ssbvote-officials") as url:
        yield Live(LiveElection(url, app, clock, slug), officials, credentials, ids)


@pytest.fixture
def sessions(chromium: Any, live: Live) -> Iterator[Any]:
    def make(lang: str, viewport: dict[str, int] = DESKTOP) -> Session:
        return Session(chromium, live.election, lang, viewport)

    yield from opened_sessions(make)


def sign_in(s: Session, live: Live, username: str) -> None:
    sign_in_at(s, "/official", username, PASSWORD, live.officials[username])


def flash(s: Session) -> str:
    return " ".join(s.page.locator(".flash").all_inner_texts())


def type_credential(s: Session, credential: str) -> None:
    page = s.page
    page.fill("#credential", "")
    page.locator("#credential").press_sequentially(credential, delay=2)
    page.wait_for_selector("#credential-entry:not([data-state=checking])", state="attached")
    assert page.get_attribute("#credential-entry", "data-state") == "valid", page.inner_text("#credential-entry")


def upload(s: Session, election_id: int, text: str, tmp: Path) -> None:
    path = tmp / "paper.csv"
    path.write_text(text, encoding="utf-8")
    s.goto(f"/official/elections/{election_id}/paper-votes")
    s.page.set_input_files("#paper_list", str(path))
    s.page.click("main form[enctype] button[type=submit]")
    s.page.wait_for_load_state()


def test_two_officials_close_the_polls_and_approve_the_paper_list_they_see(
        sessions: Any, live: Live, tmp_path: Path) -> None:
    app = live.election.app
    with app.app_context():
        election_id = get_election(live.election.slug).id
        db.session.remove()
    alice, bob = sessions("en"), sessions("th")
    sign_in(alice, live, "ro-a")
    sign_in(bob, live, "ro-b")

    # The dashboard: live turnout table, local times.
    alice.goto("/official/")
    assert alice.page.locator(f"#turnout-{election_id} tr[data-contest]").count() >= 1
    assert "ICT" in alice.page.inner_text("main") and "UTC" not in alice.page.inner_text("main")
    no_violations(alice, "official-dashboard")
    alice.shot("official-dashboard")
    # Closing the polls: the button leads to the confirmation page, not an alert.
    alice.page.click("form[action$='/propose/close_polls'] button")
    alice.page.wait_for_selector("#confirm-button")
    text = alice.page.inner_text("main")
    assert "Confirm: Close polls" in text and live.election.slug in text
    assert re.search(r"\d\d/\d\d/20\d\d \d\d:\d\d ICT", alice.page.inner_text("#confirm-time"))
    no_violations(alice, "official-confirm-close")
    alice.shot("official-confirm-close")
    alice.page.click("#confirm-button")
    alice.page.wait_for_url(re.compile(r".*/official/$"))

    bob.goto("/official/")
    assert "บัตรบนกระดานประกาศขณะนี้" in bob.page.inner_text(".approval-card")
    no_violations(bob, "official-dashboard-close-pending")
    bob.page.click("form[action$='/approve'] button")
    bob.page.wait_for_selector("#confirm-button")
    assert re.search(r"\d\d/\d\d/25\d\d \d\d:\d\d น\.", bob.page.inner_text("#confirm-time"))
    assert "ยืนยัน: ปิดการลงคะแนน" in bob.page.inner_text("main h1")
    no_violations(bob, "official-confirm-close-approve")
    bob.shot("official-confirm-close-approve")
    bob.page.click("#confirm-button")
    bob.page.wait_for_url(re.compile(r".*/official/$"))
    assert bob.page.locator(".status-closed").count() == 1

    # A malformed paper CSV: Thai errors, each with its line number.
    ids = live.ids
    upload(bob, election_id, f"voter_id\n{ids[0]}\n{ids[1]},x\n{ids[0]}\n", tmp_path)
    errors = bob.page.inner_text("#paper-errors")
    assert "บรรทัดที่ 3: ต้องมี 1 ช่อง แต่พบ 2 ช่อง" in errors
    assert "บรรทัดที่ 4:" in errors and "ซ้ำ (ปรากฏครั้งแรกที่บรรทัดที่ 2)" in errors
    no_violations(bob, "official-paper-errors")
    bob.shot("official-paper-errors")

    # Alice proposes the list of 12 paper voters (long: folded on the card), signing it.
    listed = ids[:12]
    upload(alice, election_id, "voter_id\n" + "\n".join(listed) + "\n", tmp_path)
    alice.page.wait_for_selector("body[data-digest=ok]", state="attached")
    type_credential(alice, live.credentials["ro-a"])
    alice.page.click("#sign-button")
    alice.page.wait_for_url(re.compile(r".*/official/$"))

    with app.app_context():
        pending = db.session.query(PendingAction).filter_by(action="record_paper_votes", state="pending").one()
        pending_id = pending.id
        body = paper_list_body(json.loads(pending.payload or "{}"))
        digest = paper_list_digest(body)  # record.md §2.4: what both officials sign
        db.session.remove()

    # Bob's dashboard shows the list before anything is approved: count, IDs and names, digest.
    bob.goto("/official/")
    card = bob.page.locator(f"#card-{pending_id}")
    assert card.locator(f"#card-{pending_id}-count").inner_text() == "12"
    assert card.locator(f"#card-{pending_id}-digest").inner_text() == digest
    assert card.locator("details").count() == 1  # 12 > 10: folded
    assert not card.locator(f"#card-{pending_id}-items").is_visible()
    card.locator("details > summary").click()
    rows = card.locator(f"#card-{pending_id}-items tbody tr")
    assert rows.count() == 12
    shown = rows.all_inner_texts()
    assert all(any(voter_id in row for row in shown) for voter_id in listed)
    assert all("Voter" in row for row in shown)  # names from the roll
    no_violations(bob, "official-dashboard-paper-card")
    bob.shot("official-dashboard-paper-card")
    with app.app_context():
        assert paper_votes.signed_list(get_election(live.election.slug)) is None  # nothing approved yet
        db.session.remove()

    # Bob checks and signs on the list's page: the same digest, then the list is recorded.
    bob.page.click(f"#review-paper-{pending_id}")
    bob.page.wait_for_selector("body[data-digest=ok]", state="attached")
    assert bob.page.inner_text("#paper-digest") == digest
    type_credential(bob, live.credentials["ro-b"])
    bob.page.click("#sign-button")
    bob.page.wait_for_url(re.compile(r".*/official/$"))
    with app.app_context():
        signed = paper_votes.signed_list(get_election(live.election.slug))
        assert signed is not None and paper_list_digest(paper_list_body(signed)) == digest
        db.session.remove()

    # Turnout shows the paper voters now; the audit log reads as sentences.
    bob.goto("/official/")
    assert bob.page.locator(f"#turnout-{election_id} [data-field=paper_voters]").first.inner_text() == "12"
    for s, lang_name in ((alice, "en"), (bob, "th")):
        s.goto("/official/audit")
        text = s.page.inner_text("main")
        if lang_name == "en":
            assert "Officer B approved and carried out: Record paper votes" in text
        else:
            assert "Officer A เสนอ: ปิดการลงคะแนน" in text
        assert "UTC" not in text
        no_violations(s, "official-audit")
        s.shot("official-audit")


@pytest.mark.parametrize("lang", ["th", "en"])
def test_official_pages_on_a_phone(sessions: Any, live: Live, lang: str) -> None:
    s = sessions(lang, PHONE)
    sign_in(s, live, "ro-a")
    for path, name in (("/official/", "official-dashboard"), ("/official/audit", "official-audit"),
                       ("/official/voters/release", "official-release"),
                       ("/official/voters/unlock", "official-unlock")):
        s.goto(path)
        no_violations(s, name)
        s.shot(name)
