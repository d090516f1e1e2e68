"""Voting pages: the ballot, the receipt and the cast-as-intended check (/vote, /receipt, /check)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from app import auth
from app.services import casting
from app.services.errors import ServiceError
from app.services.manifest import get_election

bp = Blueprint("ballot", __name__)


@bp.get("/receipt/<slug>/<int:seq>")
@auth.login_required("voter")
def receipt(slug: str, seq: int) -> str | Response:
    """The signed receipt; the QR code (with the seed, which only the browser holds) is drawn
    by the page's script from the browser's session storage, never by the server."""
    voter = auth.current_voter()
    assert voter is not None
    try:
        election = get_election(slug)
        signed = casting.receipt_for(election, seq, voter.pseudonym)
    except (ServiceError, casting.CastRejected):
        abort(404)
    return render_template("ballot/receipt.html", election=election, receipt=signed)
