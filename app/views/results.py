"""Published results (after close, from a verified record) and the record download."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, send_file
from werkzeug.wrappers import Response

from app.services.voting import results as results_service
from app.services.errors import ServiceError
from app.services.administration.manifest import get_election
from election.lifecycle import Status

bp = Blueprint("results", __name__, url_prefix="/results")


@bp.get("/<slug>")
def show(slug: str) -> str:
    try:
        election = get_election(slug)
        contests = results_service.view(election)
    except ServiceError:
        abort(404)
    return render_template("results/show.html", election=election, contests=contests)


@bp.get("/<slug>/record.zip")
def record(slug: str) -> Response:
    try:
        election = get_election(slug)
    except ServiceError:
        abort(404)
    path = results_service.archive_path(election)
    if election.status != Status.TALLIED or not path.exists():
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"{slug}-election-record.zip")
