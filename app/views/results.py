"""Published results (after close, from a verified record) and the record download."""
from __future__ import annotations

from flask import Blueprint, render_template, send_file
from werkzeug.wrappers import Response

from app.services.voting import results as results_service
from app.services.administration.manifest import get_election

bp = Blueprint("results", __name__, url_prefix="/results")


@bp.get("/<slug>")
def show(slug: str) -> str:
    election = get_election(slug)
    contests = results_service.view(election)  # NotFound before results are published
    return render_template("results/show.html", election=election, contests=contests)


@bp.get("/<slug>/record.zip")
def record(slug: str) -> Response:
    path = results_service.published_archive(get_election(slug))
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"{slug}-election-record.zip")
