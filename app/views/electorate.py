"""Registration, sign-in and home pages of one electorate; one blueprint per electorate.

Insured employees (/insured/...) and employers (/employer/...) sign in the same way; only the
roll they register against differs (app/services/identity/principals.py).
"""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from app import auth
from app.extensions import limiter
from app.views import signin


def render_voter_home() -> str:
    voter = auth.current_voter()
    assert voter is not None
    return render_template("voter/home.html", voter=voter, election=voter.election,
                           contest=voter.contest)


def make_blueprint(kind: str, name: str, url_prefix: str) -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    limited = limiter.shared_limit(auth.ip_rate_limit, scope="signin", methods=["POST"])

    @bp.route("/register", methods=["GET", "POST"])
    @limited
    def register() -> str | Response:
        return signin.register_page(kind)

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
