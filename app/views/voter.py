"""Insured employees: registration, sign-in and their home page (/insured/...)."""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from app import auth
from app.extensions import limiter
from app.views import signin

bp = Blueprint("voter", __name__, url_prefix="/insured")
KIND = "insured"
_limited = limiter.shared_limit(auth.ip_rate_limit, scope="signin", methods=["POST"])


@bp.route("/register", methods=["GET", "POST"])
@_limited
def register() -> str | Response:
    return signin.register_page(KIND)


@bp.route("/login", methods=["GET", "POST"])
@_limited
def login() -> str | Response:
    return signin.login_page(KIND)


@bp.route("/login/code", methods=["GET", "POST"])
@_limited
def totp() -> str | Response:
    return signin.code_page(KIND, enrolling=False)


@bp.route("/enrol", methods=["GET", "POST"])
@_limited
def enrol() -> str | Response:
    return signin.code_page(KIND, enrolling=True)


@bp.post("/logout")
def logout() -> Response:
    return signin.logout()


@bp.get("/")
@auth.login_required(KIND)
def home() -> str:
    return render_voter_home()


def render_voter_home() -> str:
    voter = auth.current_voter()
    assert voter is not None
    return render_template("voter/home.html", voter=voter, election=voter.election,
                           contest=voter.contest)
