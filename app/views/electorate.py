"""Registration, sign-in and home pages of one electorate; one blueprint per electorate.

Insured employees (/insured/...) and employers (/employer/...) sign in the same way; only the
roll they register against differs (app/services/identity/principals.py).
"""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from app import auth
from app.extensions import limiter
from app.views import ballot, proofing, signin


def render_voter_home() -> str:
    """The voter's home: whether and when they voted, until when they may vote again, the way
    to the ballot; the encryption's warm-up starts here (issue 18)."""
    voter = auth.current_voter()
    assert voter is not None
    return render_template("voter/home.html", voter=voter, election=voter.election,
                           contest=voter.contest, **ballot.home_state(voter))


def make_blueprint(kind: str, name: str, url_prefix: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    limited = limiter.shared_limit(auth.ip_rate_limit, scope="signin", methods=["POST"])

    @bp.route("/register", methods=["GET", "POST"])
    @limited
    def register() -> str | Response:
        return proofing.code_page(kind, recovering=False)

    @bp.route("/recover", methods=["GET", "POST"])
    @limited
    def recover() -> str | Response:
        return proofing.code_page(kind, recovering=True)

    @bp.route("/activation", methods=["GET", "POST"])
    @limited
    def request_code() -> str | Response:
        return proofing.request_code_page(kind)

    if kind == "insured":  # ThaiD proves natural persons (docs/accounts.md §8)
        @bp.get("/thaid/start/<purpose>")
        @limited
        def thaid_start(purpose: str) -> Response:
            return proofing.thaid_start(purpose)

        @bp.get("/thaid/callback")
        @limited
        def thaid_callback() -> Response:
            return proofing.thaid_callback()

        @bp.route("/thaid/password", methods=["GET", "POST"])
        @limited
        def thaid_password() -> str | Response:
            return proofing.thaid_password_page()

    @bp.route("/login", methods=["GET", "POST"])
    @limited
    def login() -> str | Response:
        return signin.login_page(kind)

    @bp.route("/login/code", methods=["GET", "POST"])
    @limited
    def totp() -> str | Response:
        return signin.code_page(kind, enrolling=False)

    @bp.route("/enrol", methods=["GET", "POST"])
    @limited
    def enrol() -> str | Response:
        return signin.code_page(kind, enrolling=True)

    @bp.post("/logout")
    def logout() -> Response:
        return signin.logout()

    @bp.get("/")
    @auth.login_required(kind)
    def home() -> str:
        return render_voter_home()

    return bp
