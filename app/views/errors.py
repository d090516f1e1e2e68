"""Error pages in the visitor's language (400 with CSRF, 403, 404, 429)."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: (_l("Bad request"), _l("The form could not be accepted. It may have expired: go back, "
                                 "reload the page and try again.")),
    403: (_l("Not allowed"), _l("You are not allowed to open this page with the account you "
                                 "are signed in with.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    429: (_l("Too many requests"), _l("Too many attempts from your network. Please wait a "
                                       "minute and try again.")),
}


def register(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, _render)


def _render(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, text = MESSAGES.get(code, MESSAGES[400])
    return render_template("errors/error.html", title=title, text=text), code
