"""Issue 21 in Chromium: an election under the 2026 draft's rule (docs/manifest.md §4, one vote
per voter, seats by insured section).  A section-39 voter sees only the insured-39 contest on
the home page and the ballot, casts a one-vote ballot from the browser (encrypted, proven and
signed on the device), and the ballot lands on the board in insured-39."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import BoardEntry, RollEntry
from app.services.administration.manifest import get_election
from tests.e2e.conftest import LiveElection, VoterLogin, live_app
from tests.support.live import serving
from tests.e2e.test_browser_voting import DESKTOP, Session, cast, chosen_numbers, open_ballot, review, sign_in, tick
from tests.support import election_setup
from tests.support.auth_client import PASSWORD, Clock
from tests.support.factories import employer_csv, national_ids
from tools import scenario

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sections_election(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveElection]:
    tmp = tmp_path_factory.mktemp("live-sections")
    clock = Clock()
    app = live_app(tmp, clock)
    with app.app_context():
        now = clock()
        manifest = scenario.with_poll_window(scenario.sections_manifest(candidates=5), now - timedelta(hours=1),
                                             now + timedelta(days=7))
        ids = national_ids(6, seed=39)
        rows = list(zip(ids, ["33", "39", "40", "33", "39", "40"]))
        setup = election_setup.ready_election(
            manifest, [scenario.sections_insured_csv(rows),
                       employer_csv([("1000000039", national_ids(1, seed=8)[0])])],
            tmp / "trustees", now=clock(), bits=512, accounts={"insured": 6}, account_password=PASSWORD)
        routes = {e.voter_key: e.contest.code for e in db.session.scalars(select(RollEntry))
                  if e.contest is not None}
        voters: dict[str, list[VoterLogin]] = {}
        for a in setup.accounts["insured"]:
            voters.setdefault(routes[a.voter_key], []).append(VoterLogin.of(a))
        assert len(voters["insured-39"]) == 2
        ca_key = setup.authority.ca_public_key if setup.authority else ""
        slug = setup.slug
        db.session.remove()
    with serving(app, "ssbvote-live-sections") as url:
        yield LiveElection(url, app, clock, slug, voters, ca_key=ca_key)


@pytest.mark.parametrize("lang", ["en", "th"])
def test_section_39_voter_sees_only_their_contest_and_casts_one_vote(
        chromium: Any, sections_election: LiveElection, lang: str) -> None:
    live = sections_election
    voter = live.voters["insured-39"][0 if lang == "en" else 1]
    s = Session(chromium, live, lang, DESKTOP)
    try:
        sign_in(s, voter)
        page = s.page
        home = page.inner_text("main")
        if lang == "en":
            assert "Insured persons, section 39" in home and "You may choose one candidate." in home
            assert "Seats to fill: 1." in home
        else:
            assert "ผู้ประกันตนมาตรา 39" in home and "ท่านเลือกผู้สมัครได้หนึ่งคน" in home
        for other in ("33", "40"):
            assert f"section {other}" not in home and f"มาตรา {other}" not in home
        s.axe("home-sections")
        open_ballot(s)
        codes = page.eval_on_selector_all("input[name=candidate]", "els => els.map(e => e.value)")
        assert codes == [f"S39-{i}" for i in range(1, 6)]  # only insured-39's candidates
        heading = page.inner_text("#choose-heading")
        assert heading == ("Choose one candidate" if lang == "en" else "เลือกผู้สมัครหนึ่งคน")
        tick(page, 4)  # candidates without a team sit in a closed disclosure too
        assert chosen_numbers(s) == [4]
        # a one-vote ballot: a second choice is refused out loud and not ticked
        page.locator("input[name=candidate][data-number='2']").evaluate(
            "el => { el.closest('details').open = true; el.click(); }")
        assert "2" in page.inner_text("#limit-note")
        assert chosen_numbers(s) == [4]
        s.axe("ballot-sections")
        assert review(s) == [4]
        cast(s, voter.credential)
        assert s.errors == [], s.errors
    finally:
        s.close()
    with live.app.app_context():
        election = get_election(live.slug)
        entries = list(db.session.scalars(select(BoardEntry).where(BoardEntry.election_pk == election.id,
                                                                   BoardEntry.pseudonym == voter.pseudonym)))
        assert [e.contest for e in entries] == ["insured-39"]
        db.session.remove()
