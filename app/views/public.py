"""Pages anyone may see: the home page, language switch and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.extensions import csrf_exempt
from app.i18n import LANGUAGES
from app.services.administration import elections_overview
from app.services.platform import health

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    return render_template("public/index.html", elections=elections_overview.list_elections())


@bp.get("/language/<code>")
def language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "")
    # Only local paths: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("public.index")
    return redirect(target)


@bp.get("/health")
@csrf_exempt
def health_check() -> tuple[Response, int]:
    report = health.check()
    return jsonify(report.as_dict()), 200 if report.ok else 503
