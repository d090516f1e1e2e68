"""Pages anyone may see: the home page, language switch and the health check."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.extensions import csrf_exempt
from app.i18n import LANGUAGES
from app.services.administration import elections_overview
from app.services.platform import health
from app.services.voting import results

bp = Blueprint("public", __name__)


@bp.get("/")
def index() -> str:
    elections = elections_overview.list_elections()
    return render_template("public/index.html", elections=elections,
                           published={e.slug for e in elections if results.is_published(e)})


@bp.get("/language/<code>")
def language(code: str) -> Response:
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "")
    return redirect(target if is_local_path(target) else url_for("public.index"))


#: A path on this site: one "/" then printable ASCII URL characters only. No control character
#: (a browser drops tab and newline, turning "/\t/evil.example" into "//evil.example"; a newline
#: would also break the Location header), no backslash (browsers read "/\\" as "//"), no space.
_LOCAL_PATH = re.compile(r"\A/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/%?#]*\Z")


def is_local_path(target: str) -> bool:
    """True for a same-site path that every browser also reads as one (no open redirect)."""
    if len(target) > 2048 or not _LOCAL_PATH.match(target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.get("/health")
@csrf_exempt
def health_check() -> tuple[Response, int]:
    report = health.check()
    return jsonify(report.as_dict()), 200 if report.ok else 503
