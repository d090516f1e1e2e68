"""The results page (issue 18): reachable from the landing page once results are published (and
not before), turnout with paper votes, a real tie at the last seat shown as a tie, sorting, a
paged candidate list, Thai local time."""
from __future__ import annotations

import re
from flask import Flask

from app.extensions import db
from app.models import Candidate, Election
from app.services.voting import results as results_service
from election.lifecycle import Status
from tests.support import published
from tests.support.auth_client import accounts_app, roll  # noqa: F401

SLUG = "ssb-demo-2026"


def tied_votes(c: Candidate) -> int:
    """Insured: numbers 1–5 elected outright, 6–9 tied at 500 for the last 2 of 7 seats.
    Employers: all different, no tie."""
    n = c.ballot_number
    if c.contest_pk != _insured_pk():
        return 300 - n
    if n <= 5:
        return 1000 - n
    if n <= 9:
        return 500
    return 400 - n % 300


def _insured_pk() -> int:
    election = db.session.query(Election).one()
    return next(c.id for c in election.contests if c.electorate == "insured")


def election() -> Election:
    return db.session.query(Election).one()


def rows(html: str, contest: str) -> list[int]:
    """Ballot numbers of the rows in a contest's full list, in page order."""
    section = html[html.index(f'id="all-{contest}"'):]
    table = section[:section.index("</table>")]
    return [int(n) for n in re.findall(r'<tr class="[^"]*">\s*<td class="num">(\d+)</td>', table)]


def test_landing_page_links_the_results_only_once_published(accounts_app: Flask) -> None:  # noqa: F811
    client = accounts_app.test_client()
    link = f'href="/results/{SLUG}"'
    assert link not in client.get("/").get_data(as_text=True)
    assert client.get(f"/results/{SLUG}").status_code == 404
    # Results stored but the election not marked published (e.g. a half-done publish or a
    # tampered row): still no link and no page.
    published.publish(election(), tied_votes, counted=20, status=Status.CLOSED)
    assert link not in client.get("/").get_data(as_text=True)
    assert client.get(f"/results/{SLUG}").status_code == 404
    election().status = Status.TALLIED.value
    db.session.commit()
    for lang, text in (("th", "ดูผลการเลือกตั้ง"), ("en", "See the results")):
        home = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert link in home and text in home
    assert client.get(f"/results/{SLUG}").status_code == 200


def test_turnout_counts_paper_votes_against_the_roll(accounts_app: Flask) -> None:  # noqa: F811
    paper = [roll("insured", i) for i in range(3)] + [roll("employer", 0)]
    published.publish(election(), tied_votes, counted=20, paper_voters=paper)
    contests = {c.electorate: c for c in results_service.view(election())}
    insured = contests["insured"]
    assert (insured.counted, insured.paper_votes, insured.voted) == (20, 3, 23)
    assert insured.turnout == 23 / insured.on_roll
    assert contests["employer"].paper_votes == 1
    page = accounts_app.test_client().get(f"/results/{SLUG}?lang=en").get_data(as_text=True)
    turnout = page[page.index('id="turnout-insured">') + len('id="turnout-insured">'):]
    turnout = turnout[:turnout.index("</dl>")]
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", turnout)).split() == [
        "Votes", "cast", "online", "(counted)", "20", "Votes", "cast", "on", "paper", "3",
        "Voters", "in", "total", "23", "Voters", "on", "the", "roll", f"{insured.on_roll:,}",
        "Turnout", f"{23 / insured.on_roll:.1%}"]


def test_a_tie_at_the_last_seat_is_shown_as_a_tie_with_the_tied_named(accounts_app: Flask) -> None:  # noqa: F811
    stored = published.publish(election(), tied_votes, counted=20)
    contest_id = next(c.code for c in election().contests if c.electorate == "insured")
    record = stored["contests"][contest_id]  # type: ignore[index]
    # The record's rule (ballot number) lists 6 and 7 as elected and flags the tie.
    assert record["tie_at_last_seat"] is True and len(record["elected"]) == 7
    insured = next(c for c in results_service.view(election()) if c.electorate == "insured")
    assert [r.number for r in insured.elected] == [1, 2, 3, 4, 5]
    assert [r.number for r in insured.tied] == [6, 7, 8, 9] and insured.tied_seats == 2
    client = accounts_app.test_client()
    page = client.get(f"/results/{SLUG}?lang=en").get_data(as_text=True)
    section = page[page.index(f'id="contest-{contest_id}"'):page.index(f'id="all-{contest_id}"')]
    elected = section[section.index('class="elected-list"'):section.index("</ol>")]
    assert elected.count("<li>") == 5
    tie = section[section.index(f'id="tie-{contest_id}"'):]
    assert "These 4 candidates have 500 votes each, for 2 seats." in tie
    assert "drawing lots" in tie
    names = {c.ballot_number: c.name_en for c in election().contests[0].candidates
             if c.contest_pk == _insured_pk()}
    for number in (6, 7, 8, 9):
        assert names[number] in tie and names[number] not in elected
    # In the full list the tied rows say "tied", never "elected".
    table = page[page.index(f'id="all-{contest_id}"'):]
    table = table[:table.index("</table>")]
    assert table.count('class="is-elected"') == 5 and table.count('class="is-tied"') == 4
    thai = client.get(f"/results/{SLUG}?lang=th").get_data(as_text=True)
    assert "คะแนนเท่ากันในที่นั่งสุดท้าย" in thai and "จับสลาก" in thai
    # Without a tie nobody is "tied" and all seats are elected.
    employer = next(c for c in results_service.view(election()) if c.electorate == "employer")
    assert not employer.tie_at_last_seat and employer.tied == [] and len(employer.elected) == employer.seats


def test_placings_follow_the_record_rule() -> None:
    votes = {"a": 9, "b": 5, "c": 5, "d": 5, "e": 1}
    numbers = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
    assert results_service.placings(votes, numbers, ["a", "b"], 2, True) == {
        "a": "elected", "b": "tied", "c": "tied", "d": "tied", "e": "not-elected"}
    assert results_service.placings(votes, numbers, ["a", "b"], 2, False)["c"] == "not-elected"
    # A tie that is not at the last seat is no tie for the page either.
    assert results_service.placings({"a": 5, "b": 5, "c": 1}, {"a": 1, "b": 2, "c": 3},
                                    ["a", "b"], 2, False) == {"a": "elected", "b": "elected",
                                                              "c": "not-elected"}


def test_sorted_by_votes_or_by_ballot_number_and_paged(accounts_app: Flask) -> None:  # noqa: F811
    published.publish(election(), tied_votes, counted=20)
    contest = next(c for c in election().contests if c.electorate == "insured")
    client = accounts_app.test_client()
    default = client.get(f"/results/{SLUG}?lang=en").get_data(as_text=True)
    first = rows(default, contest.code)
    assert first[:9] == [1, 2, 3, 4, 5, 6, 7, 8, 9] and len(first) == 25
    assert f'id="all-{contest.code}" open' not in default  # folded until asked for
    by_votes = [tied_votes(c) for c in sorted(contest.candidates, key=lambda c: (-tied_votes(c), c.ballot_number))]
    assert by_votes[:25] == sorted(by_votes[:25], reverse=True)
    numbered = client.get(f"/results/{SLUG}?lang=en&sort=number&contest={contest.code}").get_data(as_text=True)
    assert rows(numbered, contest.code) == list(range(1, 26))
    assert f'id="all-{contest.code}" open' in numbered
    assert 'aria-current="true">by ballot number</a>' in numbered
    page2 = client.get(f"/results/{SLUG}?lang=en&sort=number&contest={contest.code}&page=2").get_data(as_text=True)
    assert rows(page2, contest.code) == list(range(26, 51))
    assert "Page 2 of 10" in page2 and "Candidates 26–50 of 228, by ballot number" in page2
    expected = [c.ballot_number for c in sorted(contest.candidates, key=lambda c: (-tied_votes(c), c.ballot_number))]
    page3 = client.get(f"/results/{SLUG}?sort=votes&contest={contest.code}&page=3").get_data(as_text=True)
    assert rows(page3, contest.code) == expected[50:75]
    # Nonsense parameters fall back to the defaults instead of failing.
    odd = client.get(f"/results/{SLUG}?sort=evil&contest={contest.code}&page=999")
    assert odd.status_code == 200 and rows(odd.get_data(as_text=True), contest.code) == expected[225:]


def test_poll_close_in_thai_local_time(accounts_app: Flask) -> None:  # noqa: F811
    published.publish(election(), tied_votes, counted=20)
    client = accounts_app.test_client()
    assert "ปิดการลงคะแนนเมื่อ 31/05/2569 16:00 น." in client.get(f"/results/{SLUG}?lang=th").get_data(as_text=True)
    assert "Polls closed: 31/05/2026 16:00 ICT" in client.get(f"/results/{SLUG}?lang=en").get_data(as_text=True)
