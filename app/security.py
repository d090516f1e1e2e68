"""Security headers on every response (OWASP ASVS V14) and limits on what a request may carry."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask import Flask, Response, request, session
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Request bodies of every route but those that name their own (:func:`body_limit`).
DEFAULT_BODY_LIMIT = 4 * 1024 * 1024
#: Largest integer a URL segment (``<int:…>``) may carry: sequence numbers and ids fit, and
#: the database is never asked about 10^23 (it would overflow: HTTP 500).
MAX_URL_INTEGER = 2 ** 53
#: Session keys of a signed-in or signing-in principal (app/auth.py SESSION_KEY, PENDING_KEY).
_AUTH_SESSION_KEYS = ("auth", "auth_pending")
_BODY_LIMIT_ATTR = "ssbvote_body_limit"
F = TypeVar("F", bound=Callable[..., Any])


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to 0 … :data:`MAX_URL_INTEGER`; a larger number is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_URL_INTEGER)
        super().__init__(map, *args, **kwargs)


def body_limit(max_bytes: int) -> Callable[[F], F]:
    """Let one view accept a request body up to ``max_bytes`` (the app default is 4 MiB)."""

    def decorator(view: F) -> F:
        setattr(view, _BODY_LIMIT_ATTR, max_bytes)
        return view

    return decorator


def init_request_limits(app: Flask) -> None:
    """Call before any extension that reads the body (CSRF): the route's own body limit."""
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.before_request
    def route_body_limit() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, _BODY_LIMIT_ATTR, None)
        if limit is not None:
            request.max_content_length = limit


def init_app(app: Flask) -> None:
    production = app.config["SSBVOTE"].is_production

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Not no-referrer: over https Flask-WTF refuses a form or fetch POST without a
        # same-origin Referer (WTF_CSRF_SSL_STRICT). Other origins still get nothing.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if _personal(response):
            # Pages of a signed-in (or signing-in) person — the enrolment page shows the TOTP
            # secret, the ballot API the voter's credential context — never go to a cache.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _personal(response: Response) -> bool:
    if request.path.startswith("/static/"):
        return False
    if any(key in session for key in _AUTH_SESSION_KEYS):
        return True
    # A sign-in that just ended or failed still answered the person, not the public.
    return request.method != "GET" or response.status_code in (401, 403)
