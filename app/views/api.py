"""The JSON API: the ballot context, casting and auditing for voters; the public board, audited
ballots and tracker lookups for anyone.

docs/record.md §2, §2.6. Every error is a JSON object {"error": code, "message": text} with the
status app/views/errors.py gives the domain error (503 "busy" with Retry-After when the worker
is full); nothing is written to the board unless the ballot is accepted whole.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app import auth
from app.extensions import limiter
from app.models import Election, RollEntry
from app.services.administration.manifest import get_election
from app.security import MAX_URL_INTEGER
from app.services.errors import (
    Busy, CastRejected, InvalidRequest, MalformedCast, NotSignedIn, SessionExpired,
)
from crypto.encoding import strict_loads
from crypto.errors import InvalidInput
from app.services.platform import signing
from app.services.voting import admission, board, casting, lookup

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_PAGE = 1000
F = TypeVar("F", bound=Callable[..., Any])


def request_body() -> bytes:
    """The request body, read in one call when its length is known.  (Werkzeug reads a body
    of unknown use in 64 KiB steps, and gunicorn copies what it has buffered on every step:
    several ms of a worker's CPU for a ~0.9 MB ballot.)"""
    length = request.content_length
    if not length:
        return request.get_data(cache=False)
    stream = request.stream  # werkzeug's: refuses a body over MAX_CONTENT_LENGTH (413)
    data = stream.read(length)
    while len(data) < length:  # a short read: the rest, or the client went away (400)
        more = stream.read(length - len(data))
        if not more:
            break
        data += more
    return data


def json_body(body: bytes | None = None) -> Any:
    """The request body (or ``body``, read by :func:`request_body`) as JSON, parsed strictly
    (docs/protocol.md §2.3): every /api endpoint that takes JSON reads it here. Duplicate keys,
    non-finite or overlong numbers, nesting too deep and anything not JSON are a 400
    "malformed" naming the problem."""
    try:
        return strict_loads(request_body() if body is None else body, "request body")
    except InvalidInput as exc:
        raise MalformedCast(str(exc)) from None
    except (ValueError, UnicodeDecodeError):
        raise MalformedCast(_("The request body must be JSON.")) from None


def _cast_payload(election: Election, voter: RollEntry) -> Any:
    """A cast or audit request's JSON: a body in the canonical form keeps its ballot's bytes
    (casting.canonical_payload); any other is decoded strictly by :func:`json_body`."""
    body = request_body()
    payload = casting.canonical_payload(election, voter, body)
    return json_body(body) if payload is None else payload


def _int_arg(name: str, default: int) -> int:
    """A whole-number query argument in 0 … MAX_URL_INTEGER, else 400 (never a database
    overflow)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16 or int(raw) > MAX_URL_INTEGER:
        raise InvalidRequest(_("%(name)s must be a whole number from 0 to %(max)d.", name=name,
                               max=MAX_URL_INTEGER))
    return int(raw)


def _cast_limit() -> str:
    return str(current_app.config.get("CAST_RATE_LIMIT", "60 per hour"))


def _audit_limit() -> str:
    return str(current_app.config.get("AUDIT_RATE_LIMIT", "10 per hour"))


def _audit_check_limit() -> str:
    return str(current_app.config.get("AUDIT_CHECK_RATE_LIMIT", "60 per minute"))


def _voter_key() -> str:
    voter = auth.current_voter()
    return f"voter:{voter.pseudonym}" if voter else f"ip:{request.remote_addr}"


def admitted(view: F) -> F:
    """Run ``view`` holding a cast slot of this worker, or answer 503 "busy" at once
    (app/services/voting/admission.py).

    Apply it outside ``limiter.limit``: Flask-Limiter rewrites ``Retry-After`` on responses of
    rate-limited views to the end of the limit's window (up to an hour), and a refused cast
    should not use up the voter's allowance either.
    """
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            with admission.gate().admit():
                return view(*args, **kwargs)
        except Busy:
            # Read the ballot we refuse: a server that answers and closes while the client is
            # still sending makes the client's TCP stack reset the connection, losing the answer.
            while request.stream.read(1 << 16):
                pass
            raise

    return wrapped  # type: ignore[return-value]


@bp.get("/session")
def session_state() -> Response:
    """Keep-alive of an open page (docs/accounts.md §4): any signed-in principal's request counts
    as activity, so the ballot page calls this while the voter is choosing; answers the seconds
    left before the session ends if idle.  No live session: 401 "session_expired" (it ran out)
    or "authentication_required"."""
    seconds = auth.session_seconds_left()
    if seconds <= 0:
        raise SessionExpired("the session ended") if auth.session_expired() else NotSignedIn("not signed in")
    response = jsonify({"seconds_left": seconds})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/elections/<slug>/ballot")
@auth.login_required("voter", api=True)
def ballot_context(slug: str) -> Response:
    """Everything the voter's browser needs to encrypt and sign: key, contest, pseudonym (§5.1),
    the opening with its hash, the configured CA key, the voter's credential and ``previous``."""
    voter = auth.current_voter()
    assert voter is not None
    election = casting.voter_election(slug, voter.election)
    return jsonify(casting.ballot_context(election, voter.roll_entry, auth.now()))


@bp.post("/elections/<slug>/cast")
@auth.login_required("voter", api=True)
@admitted  # outside the rate limit: a "busy" answer costs the voter no cast
@limiter.limit(_cast_limit, key_func=_voter_key)
def cast(slug: str) -> tuple[Response, int]:
    voter = auth.current_voter()
    assert voter is not None
    election = casting.voter_election(slug, voter.election)
    payload = _cast_payload(election, voter.roll_entry)
    try:
        result = casting.cast(election, voter.roll_entry, payload, auth.now())
    except CastRejected as exc:
        current_app.logger.info("cast rejected for %s: %s", voter.pseudonym[:8],
                                type(exc).__name__)
        raise
    return jsonify({
        "receipt": result.receipt,
        "superseded_previous": result.superseded,
        "receipt_url": url_for("ballot.receipt", slug=slug, seq=result.entry.seq),
    }), 201


@bp.get("/elections/<slug>/board")
def board_entries(slug: str) -> Response:
    """The public board: entries only — pseudonyms and hashes, never identities (§2.1)."""
    election = get_election(slug)
    after = _int_arg("after", 0)
    limit = min(max(_int_arg("limit", 100), 1), MAX_PAGE)
    entries = [board.entry_dict(e, election.election_id)
               for e in board.iter_entries(election, after=after, limit=limit)]
    return jsonify({"election_id": election.election_id, "entries": entries,
                    "checkpoints": board.checkpoints(election) if after == 0 else []})


@bp.get("/elections/<slug>/board/<int:seq>")
def board_ballot(slug: str, seq: int) -> Response:
    """One entry, with its encrypted ballot once a signed checkpoint covers it (record.md §3.2)."""
    return jsonify(board.public_entry(get_election(slug), seq))


@bp.get("/board-key")
def board_key() -> Response:
    return jsonify(signing.public_key_dict())


@bp.post("/elections/<slug>/audit")
@auth.login_required("voter", api=True)
@admitted  # the same admission and verifier pool as casts
@limiter.limit(_audit_limit, key_func=_voter_key)
def audit(slug: str) -> tuple[Response, int]:
    """Audit a ballot (docs/protocol.md §14.3, docs/record.md §2.6): {"contest", "ballot",
    "credential", "seed", "signature"} → 201 {"seq", "ballot_hash", "entry_hash", "code"}."""
    voter = auth.current_voter()
    assert voter is not None
    election = casting.voter_election(slug, voter.election)
    payload = _cast_payload(election, voter.roll_entry)
    try:
        result = casting.audit(election, voter.roll_entry, payload, auth.now())
    except CastRejected as exc:
        current_app.logger.info("audit rejected for %s: %s", voter.pseudonym[:8], type(exc).__name__)
        raise
    return jsonify({"seq": result.entry.seq, "ballot_hash": result.entry.ballot_hash,
                    "entry_hash": result.entry.entry_hash, "code": result.code}), 201


@bp.get("/elections/<slug>/audits/<int:seq>")
@limiter.limit(_audit_check_limit)
def audited_ballot(slug: str, seq: int) -> Response:
    """An audit entry and its ballot, for the check page on a second device (§2.6)."""
    return jsonify(lookup.audited_ballot(get_election(slug), seq))


@bp.get("/elections/<slug>/trackers/<ballot_hash>")
@limiter.limit(_audit_check_limit)
def tracker(slug: str, ballot_hash: str) -> Response:
    """{"seq", "kind", "status"} of the entry with this tracker (§2.6)."""
    return jsonify(lookup.tracker_status(get_election(slug), ballot_hash))
