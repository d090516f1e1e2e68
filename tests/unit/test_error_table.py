"""The one table from domain errors to HTTP (app/views/errors.py): every domain error has an
answer, services know no HTTP, and the API and the HTML pages give the same status."""
from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import Flask

from app.services import errors
from app.services.administration.approvals import ApprovalRefused
from app.services.identity.accounts import AccountNotFound, RegistrationRefused
from app.services.identity.signin import AccountLocked, SignInFailed
from app.views.errors import ERRORS, answer_for, json_error

APP = Path(__file__).resolve().parents[2] / "app"


def _domain_errors() -> list[type[errors.ServiceError]]:
    found = [c for c in vars(errors).values()
             if isinstance(c, type) and issubclass(c, errors.ServiceError)]
    return found + [ApprovalRefused, AccountNotFound, RegistrationRefused, AccountLocked, SignInFailed]


@pytest.mark.parametrize(("error", "status", "code"), [
    (errors.BallotRejected("x"), 400, "invalid_ballot"),
    (errors.MalformedCast("x"), 400, "malformed"),
    (errors.BadTracker("x"), 400, "bad_code"),
    (errors.BadSeed("x"), 400, "bad_seed"),
    (errors.BadSignature("x"), 400, "bad_signature"),
    (errors.InputFileError("f", ["line 1: bad"]), 400, "invalid_file"),
    (errors.NotSignedIn("x"), 401, "authentication_required"),
    (errors.WrongElection("x"), 403, "wrong_election"),
    (errors.WrongContest("x"), 403, "wrong_contest"),
    (errors.WrongCredential("x"), 403, "wrong_credential"),
    (errors.NotFound("x"), 404, "not_found"),
    (errors.BallotNotFound("x"), 404, "not_found"),
    (AccountNotFound("x"), 404, "not_found"),
    (errors.ElectionNotReady("x"), 409, "not_ready"),
    (errors.NotReady("x"), 409, "not_ready"),
    (errors.PollsClosed("x"), 409, "polls_closed"),
    (errors.BoardClosed("x"), 409, "polls_closed"),
    (errors.BallotReplayed("x"), 409, "replayed"),
    (errors.AuditedBallot("x"), 409, "audited"),
    (errors.StalePrevious("x"), 409, "stale_previous"),
    (ApprovalRefused("wrong_status"), 409, "conflict"),
    (AccountLocked(datetime(2026, 1, 1, tzinfo=timezone.utc)), 429, "too_many"),
    (errors.Misconfigured("x"), 500, "server_error"),
    (errors.Busy(3), 503, "busy"),
])
def test_answers(error: errors.ServiceError, status: int, code: str) -> None:
    assert answer_for(error)[:2] == (status, code)


def test_every_domain_error_has_an_answer() -> None:
    for cls in _domain_errors():
        assert any(base in ERRORS for base in cls.__mro__), cls
    assert all(issubclass(cls, errors.ServiceError) for cls in ERRORS)


def test_busy_says_when_to_retry(app: Flask) -> None:
    with app.test_request_context("/api/elections/x/cast"):
        response = json_error(errors.Busy(4))
    assert response.status_code == 503 and response.headers["Retry-After"] == "4"
    assert response.get_json()["error"] == "busy" and response.get_json()["retry_after"] == 4


def test_services_know_no_http() -> None:
    """No service imports werkzeug's HTTP errors, aborts, or builds a response."""
    for path in (APP / "services").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("werkzeug"), path
                if node.module == "flask":
                    names = {a.name for a in node.names}
                    assert not names & {"abort", "jsonify", "make_response", "request"}, path


def test_views_never_query_the_database() -> None:
    """Views call services; no session, engine, query or SQL construct in app/views/."""
    for path in (APP / "views").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in ("db.session", "db.engine", "select(", ".query", "from sqlalchemy",
                       "from app.extensions import db"):
            assert needle not in text, f"{path.name}: {needle}"
