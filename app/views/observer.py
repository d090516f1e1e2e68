"""Observers (issue 23): the public snapshot API (docs/record.md §3.2), witness statements
(§3.5) and the observer page.  No sign-in; nothing here changes the board."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from app.extensions import csrf_exempt, limiter
from app.services.administration.manifest import get_election
from app.services.voting import observers, snapshot_api, witnesses
from app.views.api import json_body

api = Blueprint("observer_api", __name__, url_prefix="/api/elections/<slug>")
page = Blueprint("observer", __name__, url_prefix="/observe")
#: a served line never changes (record.md §3.2); pins and the checkpoint list do grow
IMMUTABLE = "public, max-age=86400, immutable"
FRESH = "no-cache"


def _bytes(data: bytes, mimetype: str, cache: str) -> Response:
    answer = Response(data, mimetype=mimetype)
    answer.headers["Cache-Control"] = cache
    answer.headers["Access-Control-Allow-Origin"] = "*"  # public data, for observers' tools
    return answer


@api.get("/snapshot/<name>")
@limiter.limit("120 per minute")
def snapshot_file(slug: str, name: str) -> Response:
    data = snapshot_api.snapshot_file(get_election(slug), name)
    kind = "application/x-ndjson" if name.endswith(".jsonl") else "application/json"
    return _bytes(data, kind, FRESH)


@api.get("/checkpoints")
@limiter.limit("120 per minute")
def checkpoints(slug: str) -> Response:
    return _bytes(snapshot_api.checkpoint_lines(get_election(slug)), "application/x-ndjson",
                  FRESH)


@api.get("/entries")
@limiter.limit("600 per minute")
def entries(slug: str) -> Response:
    election = get_election(slug)
    after, upto = snapshot_api.parse_range(election, request.args.to_dict(flat=True),
                                           snapshot_api.MAX_ENTRIES)
    return _bytes(snapshot_api.entry_lines(election, after, upto), "application/x-ndjson",
                  IMMUTABLE)


@api.get("/ballots")
@limiter.limit("600 per minute")
def ballots(slug: str) -> Response:
    election = get_election(slug)
    after, upto = snapshot_api.parse_range(election, request.args.to_dict(flat=True),
                                           snapshot_api.MAX_BALLOTS)
    return _bytes(snapshot_api.ballot_lines(election, after, upto), "application/x-ndjson",
                  IMMUTABLE)


@api.post("/witnesses")
@csrf_exempt  # authorised by the witness's signature under its pinned key, not a session
@limiter.limit("60 per minute")
def witness_statement(slug: str) -> tuple[Response, int]:
    payload = json_body()  # strict JSON, one parser for every /api endpoint (docs/protocol.md §2.3)
    return jsonify(witnesses.accept(get_election(slug), payload)), 201


#: the audit log's actions (app/services/administration/audit.py) in words
ACTION_LABELS = {
    "election.create": _l("Election created from its manifest"),
    "roll.import": _l("Voter roll imported"),
    "election.key_ceremony": _l("Key ceremony held (election key made)"),
    "credentials.import_mapping": _l("Voter credentials imported from the credential authority"),
    "credentials.import_list": _l("Public credential list imported"),
    "credentials.revoke": _l("A credential revoked by the credential authority"),
    "election.pin": _l("Opening signed by the credential authority stored"),
    "propose_open_polls": _l("An official proposed opening the polls"),
    "approve_open_polls": _l("A second official approved: polls opened"),
    "propose_close_polls": _l("An official proposed closing the polls"),
    "approve_close_polls": _l("A second official approved: polls closed"),
    "propose_record_paper_votes": _l("An official signed and proposed the paper-vote list"),
    "approve_record_paper_votes": _l("A second official signed and approved the paper-vote list"),
    "self_approval_refused": _l("Refused: an official tried to approve their own proposal"),
    "results.publish": _l("Verified results published"),
    "witness.statement": _l("A witness co-signed the board"),
}


@page.app_template_global()
def action_label(action: str) -> str:
    """An audit-log action in words; an unknown one as its code."""
    for prefix in ("cancel_", "expire_"):
        if action.startswith(prefix):
            return f"{_l('Proposal withdrawn or expired')}: {action[len(prefix):]}"
    return str(ACTION_LABELS.get(action, action))


@page.get("/<slug>")
def show(slug: str) -> str:
    v = observers.view(get_election(slug))
    return render_template("public/observe.html", v=v, data=observers.as_json(v))
