"""Voting pages: the ballot, the receipt, the audit check and the tracker lookup
(/vote, /receipt, /check, /track).

The pages are rendered here; the cryptography runs in the voter's browser (frontend/, loaded
from app/static/dist with SRI) and talks to the JSON API of app/views/api.py. The seed of a
cast ballot never leaves the voting page's memory; only audited ballots' seeds are published
(docs/protocol.md §4.4, §14; docs/record.md §2.5, §2.6).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app import auth
from app.models import Candidate, Contest, Election, Team
from app.services.administration import authority, elections_overview
from app.services.platform import ca_key
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


def home_state(voter: auth.CurrentVoter) -> dict[str, Any]:
    """What the voter's home page shows about voting: the counting ballot (``previous``),
    whether the polls are open, and what the encryption warm-up needs (``warm``: the election
    key, only while the polls are open)."""
    election = voter.election
    ready = voter.contest is not None and bool(election.election_key)
    polls_open = ready and casting.polls_open(election, auth.now())
    return {
        "previous": board.current_entry(election, voter.pseudonym) if ready else None,
        "polls_open": polls_open,
        "warm": {"election_key": json.loads(election.election_key)} if polls_open and election.election_key else None,
    }


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
    return render_template("ballot/receipt.html", election=election, receipt=signed, voter=voter,
                           is_latest=latest is not None and latest.seq == seq)


def _public_elections() -> list[Election]:
    """Elections with a key: the ones that can have audits and trackers."""
    return [e for e in elections_overview.list_elections() if e.election_key]


@bp.get("/check")
def check_index() -> str | Response:
    """Public: the check page of the one election, or a list to choose from."""
    elections = _public_elections()
    if len(elections) == 1:
        return redirect(url_for("ballot.check", slug=elections[0].slug))
    return render_template("ballot/check_index.html", elections=elections, page="check")


def _check_data(election: Election) -> dict[str, Any]:
    """What the check page opens an audited ballot with (docs/protocol.md §14.4): the pins
    (the CA-signed opening and the configured CA key, checked in the browser before anything is
    shown) and the election key they pin, and each contest's candidates in ballot order."""
    return {
        "election_id": election.election_id,
        "election_key": json.loads(election.election_key) if election.election_key else None,
        "opening": authority.opening(election),
        "ca_key": ca_key.configured(),
        "contests": {
            contest.code: [
                {"id": c.code, "number": c.ballot_number, "name": {"th": c.name_th, "en": c.name_en}}
                for c in contest.candidates
            ]
            for contest in election.contests
        },
    }


@bp.get("/check/<slug>")
def check(slug: str) -> str:
    """Public, no sign-in: open an audited ballot with its published seed, in the browser, from
    its audit code (docs/protocol.md §14.4, docs/record.md §2.6)."""
    election = get_election(slug)
    return render_template("ballot/check.html", election=election, check_data=_check_data(election))


@bp.get("/track")
def track_index() -> str | Response:
    """Public: the tracker page of the one election, or a list to choose from."""
    elections = _public_elections()
    if len(elections) == 1:
        return redirect(url_for("ballot.track", slug=elections[0].slug))
    return render_template("ballot/check_index.html", elections=elections, page="track")


@bp.get("/track/<slug>")
def track(slug: str) -> str:
    """Public: where a tracker is on the board and what became of it (docs/protocol.md §14.5)."""
    return render_template("ballot/track.html", election=get_election(slug))
