"""The JSON API: the ballot context and casting for voters, the public board, receipt checks.

docs/record.md §2. Every error is a JSON object {"error": code, "message": text} with a 4xx
status (503 "busy" with Retry-After when the worker is full); nothing is written to the board
unless the ballot is accepted whole.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import auth
from app.extensions import csrf, limiter
from app.models import Election
from app.services.platform import signing
from app.services.voting import admission, board, casting, receipt_check
from app.services.administration.manifest import get_election
from app.services.errors import ServiceError

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PAGE = 1000


def _error(code: str, message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message}), status


def _election(slug: str) -> Election:
    try:
        return get_election(slug)
    except ServiceError:
        abort(404)


def _cast_limit() -> str:
    return str(current_app.config.get("CAST_RATE_LIMIT", "60 per hour"))


def _voter_key() -> str:
    voter = auth.current_voter()
    return f"voter:{voter.pseudonym}" if voter else f"ip:{request.remote_addr}"


@bp.get("/elections/<slug>/ballot")
@auth.login_required("voter", api=True)
def ballot_context(slug: str) -> Response | tuple[Response, int]:
    """Everything the voter's browser needs to encrypt: key, contest, pseudonym (§5.1)."""
    voter = auth.current_voter()
    assert voter is not None
    election = _election(slug)
    if election.id != voter.election.id:
        return _error("wrong_election", _("You are not on the roll of this election."), 403)
    contest = election.contest_for(voter.electorate)
    if contest is None or not election.election_key:
        return _error("not_ready", _("This election is not ready for voting."), 409)
    return jsonify({
        "election": election.slug,
        "election_id": election.election_id,
        "election_key": json.loads(election.election_key),
        "pseudonym": voter.pseudonym,
        "polls_open": casting.polls_open(election, auth.now()),
        "contest": {
            "id": contest.code,
            "max_selections": contest.max_selections,
            "title": {"th": contest.title_th, "en": contest.title_en},
            "teams": [{"id": t.code, "name": {"th": t.name_th, "en": t.name_en}} for t in contest.teams],
            "candidates": [
                {"id": c.code, "number": c.ballot_number, "position": c.position,
                 "name": {"th": c.name_th, "en": c.name_en},
                 "team": c.team.code if c.team else None}
                for c in contest.candidates
            ],
        },
    })


@bp.post("/elections/<slug>/cast")
@auth.login_required("voter", api=True)
@admission.admitted  # outside the rate limit: a "busy" answer costs the voter no cast
@limiter.limit(_cast_limit, key_func=_voter_key)
def cast(slug: str) -> tuple[Response, int]:
    voter = auth.current_voter()
    assert voter is not None
    election = _election(slug)
    if election.id != voter.election.id:
        return _error("wrong_election", _("You are not on the roll of this election."), 403)
    payload = request.get_json(silent=True)
    if payload is None:
        return _error("malformed", _("The request body must be JSON."), 400)
    try:
        result = casting.cast(election, voter.pseudonym, voter.electorate, payload, auth.now())
    except casting.CastRejected as exc:
        current_app.logger.info("cast rejected for %s: %s", voter.pseudonym[:8], exc.code)
        return _error(exc.code, str(exc), exc.status)
    return jsonify({
        "receipt": result.receipt,
        "superseded_previous": result.superseded,
        "receipt_url": url_for("ballot.receipt", slug=slug, seq=result.entry.seq),
    }), 201


@bp.get("/elections/<slug>/board")
def board_entries(slug: str) -> Response:
    """The public board: entries only — pseudonyms and hashes, never identities (§2.1)."""
    election = _election(slug)
    after = request.args.get("after", 0, type=int)
    limit = min(max(request.args.get("limit", 100, type=int), 1), MAX_PAGE)
    entries = [board.entry_dict(e, election.election_id)
               for e in board.iter_entries(election, after=after, limit=limit)]
    return jsonify({"election_id": election.election_id, "entries": entries,
                    "checkpoints": board.checkpoints(election) if after == 0 else []})


@bp.get("/elections/<slug>/board/<int:seq>")
def board_ballot(slug: str, seq: int) -> Response | tuple[Response, int]:
    """One entry with its encrypted ballot, public once polls have closed."""
    election = _election(slug)
    entry = board.entry_at(election, seq)
    if entry is None:
        return _error("not_found", _("No such board entry."), 404)
    body: dict[str, Any] = {"entry": board.entry_dict(entry, election.election_id)}
    if board.final_checkpoint(election) is not None:
        body["ballot"] = casting.ballot_of(entry)
    return jsonify(body)


@bp.get("/board-key")
def board_key() -> Response:
    return jsonify(signing.public_key_dict())


@bp.post("/elections/<slug>/check")
@csrf.exempt  # authorised by the receipt's token (a capability), not by a session
@limiter.limit("30 per minute")
def check(slug: str) -> tuple[Response, int]:
    """Cast-as-intended check: {"seq", "token"} → the ballot to open in the browser (§2.5)."""
    election = _election(slug)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("seq"), int) \
            or not isinstance(payload.get("token"), str):
        return _error("malformed", _("Send the receipt code's sequence number and token."), 400)
    try:
        body = receipt_check.use_check(election, payload["seq"], payload["token"], auth.now())
    except casting.CastRejected as exc:
        return _error(exc.code, str(exc), exc.status)
    body["election_key"] = json.loads(election.election_key or "{}")
    contest = next((c for c in election.contests if c.code == body["contest"]), None)
    body["candidates"] = [
        {"id": c.code, "number": c.ballot_number, "name": {"th": c.name_th, "en": c.name_en}}
        for c in (contest.candidates if contest else [])
    ]
    return jsonify(body), 200
