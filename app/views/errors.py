"""Errors as HTTP answers: the one table from domain errors to status and error code.

Services raise the domain errors of app/services/errors.py; nothing in them knows HTTP. Here
:data:`ERRORS` gives each error class its HTTP status and stable error code; an error not
listed takes the entry of its nearest listed base class (along the MRO). The JSON API
(``/api/...``) answers ``{"error": code, "message": text}``; every other page renders the error
page in the visitor's language with the same status. Werkzeug's own errors (400 with CSRF,
403, 404, 429) get the same error page.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import Flask, jsonify, render_template, request
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app import auth

from app.services.errors import (
    AuditedBallot,
    BadRange,
    BadSeed,
    BadSignature,
    BadTracker,
    BallotNotFound,
    BallotRejected,
    BallotReplayed,
    BoardClosed,
    Busy,
    Conflict,
    ElectionNotReady,
    Forbidden,
    Gone,
    InputFileError,
    InvalidRequest,
    MalformedCast,
    Misconfigured,
    NotFound,
    NotOnBoard,
    NotReady,
    NotSignedIn,
    PollsClosed,
    ServiceError,
    SessionExpired,
    StalePrevious,
    TooMany,
    WrongContest,
    WrongCredential,
    WrongElection,
    WitnessRefused,
)


class Answer(NamedTuple):
    status: int
    code: str
    #: Shown instead of the error's own (English) message, in the visitor's language.
    text: LazyString | None = None


_NOT_READY = _l("This election is not ready for voting.")

#: Domain error → HTTP answer, for the JSON API and the HTML pages alike.
ERRORS: dict[type[ServiceError], Answer] = {
    ServiceError: Answer(400, "refused"),
    InvalidRequest: Answer(400, "malformed"),
    MalformedCast: Answer(400, "malformed"),
    InputFileError: Answer(400, "invalid_file"),
    BallotRejected: Answer(400, "invalid_ballot"),
    BadTracker: Answer(400, "bad_code", _l("This is not an SSB Vote tracker or audit code.")),
    BadSeed: Answer(400, "bad_seed", _l("The audit was refused: this ballot does not open with its seed.")),
    BadSignature: Answer(400, "bad_signature"),
    BadRange: Answer(400, "bad_range"),
    WitnessRefused: Answer(400, "witness_refused"),
    NotSignedIn: Answer(401, "authentication_required",
                        _l("Please sign in to continue.")),
    SessionExpired: Answer(401, "session_expired",
                           _l("Your session has ended. Please sign in again; nothing was recorded.")),
    Forbidden: Answer(403, "forbidden"),
    WrongElection: Answer(403, "wrong_election", _l("You are not on the roll of this election.")),
    WrongContest: Answer(403, "wrong_contest"),
    WrongCredential: Answer(403, "wrong_credential"),
    NotFound: Answer(404, "not_found"),
    BallotNotFound: Answer(404, "not_found"),
    Conflict: Answer(409, "conflict"),
    NotReady: Answer(409, "not_ready", _NOT_READY),
    ElectionNotReady: Answer(409, "not_ready", _NOT_READY),
    PollsClosed: Answer(409, "polls_closed"),
    BoardClosed: Answer(409, "polls_closed"),
    BallotReplayed: Answer(409, "replayed"),
    AuditedBallot: Answer(409, "audited", _l("This ballot was audited and can never be cast. "
                                             "Please encrypt your choices again.")),
    StalePrevious: Answer(409, "stale_previous"),
    NotOnBoard: Answer(409, "not_on_board"),
    Gone: Answer(410, "gone"),
    TooMany: Answer(429, "too_many"),
    Misconfigured: Answer(500, "server_error"),
    Busy: Answer(503, "busy", _l("The server is busy. Your ballot was not cast; "
                                 "please try again in a moment.")),
}

#: The error page's title and text for each status (HTML pages).
MESSAGES = {
    400: (_l("Bad request"), _l("The form could not be accepted. It may have expired: go back, "
                                 "reload the page and try again.")),
    401: (_l("Not signed in"), _l("Please sign in to continue.")),
    403: (_l("Not allowed"), _l("You are not allowed to open this page with the account you "
                                 "are signed in with.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept this method.")),
    409: (_l("Not possible now"), _l("This cannot be done in the election's current state.")),
    410: (_l("No longer available"), _l("This is no longer available.")),
    413: (_l("Too large"), _l("The request is too large.")),
    429: (_l("Too many requests"), _l("Too many attempts from your network. Please wait a "
                                       "minute and try again.")),
    500: (_l("Server error"), _l("Something went wrong on the server. Please try again later.")),
    503: (_l("Busy"), _l("The server is busy. Please try again in a moment.")),
}


def answer_for(error: ServiceError) -> Answer:
    """The table's entry for ``error``: its class's, or its nearest listed base class's."""
    for cls in type(error).__mro__:
        if cls in ERRORS:
            return ERRORS[cls]
    raise AssertionError("ServiceError is in the table")  # pragma: no cover


def json_error(error: ServiceError) -> Response:
    """The JSON API's answer: ``{"error": code, "message": text}`` with the table's status."""
    answer = answer_for(error)
    body: dict[str, object] = {"error": answer.code,
                               "message": str(answer.text) if answer.text else str(error)}
    if isinstance(error, Busy):
        body["retry_after"] = error.retry_after
    response = jsonify(body)
    response.status_code = answer.status
    if isinstance(error, Busy):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


#: Werkzeug's own errors under /api: status → (error code, message in the client's language).
HTTP_ANSWERS: dict[int, tuple[str, LazyString]] = {
    400: ("malformed", _l("The request could not be understood.")),
    401: ("authentication_required", _l("Please sign in to continue.")),
    403: ("forbidden", _l("This is not allowed with the account you are signed in with.")),
    404: ("not_found", _l("There is nothing at this address.")),
    405: ("method_not_allowed", _l("This address does not accept this method.")),
    413: ("too_large", _l("The request is too large.")),
    429: ("too_many", _l("Too many requests. Please wait a minute and try again.")),
    500: ("server_error", _l("Something went wrong on the server. Please try again later.")),
}
#: Statuses answered as JSON under /api and as the error page elsewhere.
HANDLED = (400, 401, 403, 404, 405, 413, 429, 500)


def register(app: Flask) -> None:
    app.register_error_handler(ServiceError, _service_error)
    for code in HANDLED:
        app.register_error_handler(code, _http_error)


def is_api() -> bool:
    """Under /api (also addresses no route matches): answers are JSON."""
    return request.path == "/api" or request.path.startswith("/api/")


def _service_error(error: ServiceError) -> Response | tuple[str, int]:
    if is_api():
        return json_error(error)
    return _page(answer_for(error).status)


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    status = error.code or 500
    if is_api() and isinstance(error, CSRFError) and not auth.has_live_session():
        # The browser dropped the expired session cookie, and the CSRF token with it: the
        # caller must sign in again, which a 400 "malformed" would not tell it.
        return json_error(SessionExpired("the session ended"))
    if is_api():
        code, text = HTTP_ANSWERS.get(status, HTTP_ANSWERS[400 if status < 500 else 500])
        response = jsonify({"error": code, "message": str(text)})
        response.status_code = status
        allowed = getattr(error, "valid_methods", None)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response
    return _page(status)


def _page(status: int) -> tuple[str, int]:
    title, text = MESSAGES.get(status, MESSAGES[400])
    return render_template("errors/error.html", title=title, text=text), status
