"""Voting pages: the ballot, the receipt and the cast-as-intended check (/vote, /receipt, /check).

The pages are rendered here; the cryptography runs in the voter's browser (frontend/, loaded
from app/static/dist with SRI) and talks to the JSON API of app/views/api.py. The seed of a
ballot lives only in the browser tab's sessionStorage (docs/record.md §2.5).
"""
from __future__ import annotations

from dataclasses import dataclass
from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app import auth
from app.models import Candidate, Contest, Team
from app.services.administration import elections_overview
from app.services.voting import board, casting
from app.services.administration.manifest import get_election

bp = Blueprint("ballot", __name__)


@dataclass(frozen=True)
class Group:
    """Candidates shown together on the ballot: one team, or the independents (``team=None``)."""

    team: Team | None
    candidates: list[tuple[int, Candidate]]  # (index in the contest = ballot position, candidate)


def ballot_groups(contest: Contest) -> list[Group]:
    """Teams in manifest order, each with its candidates; independents last.

    The index paired with each candidate is its position in ``contest.candidates``, which is
    the ciphertext index of the encrypted ballot (docs/protocol.md §5).
    """
    by_team: dict[int | None, list[tuple[int, Candidate]]] = {}
    for index, candidate in enumerate(contest.candidates):
        key = candidate.team.id if candidate.team else None
        by_team.setdefault(key, []).append((index, candidate))
    groups = [Group(team, by_team[team.id]) for team in contest.teams if team.id in by_team]
    if None in by_team:
        groups.append(Group(None, by_team[None]))
    return groups


@bp.get("/vote")
@auth.login_required("voter")
def vote() -> str:
    """The ballot of the signed-in voter's own contest (insured or employer), nothing else."""
    voter = auth.current_voter()
    assert voter is not None
    election = voter.election
    contest = voter.contest
    ready = contest is not None and bool(election.election_key)
    previous = board.current_entry(election, voter.pseudonym) if ready else None
    return render_template(
        "ballot/vote.html", voter=voter, election=election, contest=contest, ready=ready,
        polls_open=ready and casting.polls_open(election, auth.now()),
        groups=ballot_groups(contest) if contest is not None else [], previous=previous,
    )


@bp.get("/receipt/<slug>/<int:seq>")
@auth.login_required("voter")
def receipt(slug: str, seq: int) -> str | Response:
    """The signed receipt; the QR code (with the seed, which only the browser holds) is drawn
    by the page's script from the browser's session storage, never by the server."""
    voter = auth.current_voter()
    assert voter is not None
    election = get_election(slug)  # NotFound, as an unknown ballot: 404
    signed = casting.receipt_for(election, seq, voter.pseudonym)
    latest = board.current_entry(election, voter.pseudonym)
    return render_template("ballot/receipt.html", election=election, receipt=signed,
                           is_latest=latest is not None and latest.seq == seq)


@bp.get("/check")
def check_index() -> str | Response:
    """Public: the check page of the one election, or a list to choose from."""
    elections = [e for e in elections_overview.list_elections() if e.election_key]
    if len(elections) == 1:
        return redirect(url_for("ballot.check", slug=elections[0].slug))
    return render_template("ballot/check_index.html", elections=elections)


@bp.get("/check/<slug>")
def check(slug: str) -> str:
    """Public, no sign-in: open a ballot with the receipt code, in the browser (record.md §2.5)."""
    return render_template("ballot/check.html", election=get_election(slug))

