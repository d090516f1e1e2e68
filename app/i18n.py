"""Thai and English (Flask-Babel). Thai is the default; every page offers a switch."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session

LANGUAGES = {"th": "ไทย", "en": "English"}
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        session["lang"] = requested
        return requested
    stored = session.get("lang")
    if stored in LANGUAGES:
        return str(stored)
    if request.path.startswith("/api/"):
        # Programs calling the API say their language in Accept-Language; pages keep Thai
        # until the visitor picks a language (the switch on every page).
        best = request.accept_languages.best_match(list(LANGUAGES))
        if best:
            return best
    return "th"


def compile_translations() -> None:
    """Compile each ``messages.po`` to ``.mo`` when missing or older (no build step needed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


def init_app(app: Flask) -> None:
    from flask_babel import refresh

    # The locale is cached on ``g``, which lives as long as the app context; a CLI or test
    # that keeps one app context across requests must still get each request's language.
    app.before_request(refresh)

    @app.context_processor
    def languages() -> dict[str, object]:
        from flask_babel import get_locale

        return {"LANGUAGES": LANGUAGES, "current_locale": str(get_locale())}
