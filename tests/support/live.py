"""Real components the tests start themselves: the app under a real HTTP server, and headless
Chromium; and the rule when a tool is missing (skip on a developer machine, fail in CI).

Light to import (benchmarks/ use CHROMIUM through tests/js/support.py): the app is imported only
by serving()."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import pytest
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from flask import Flask

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Missing tool: skip on a developer machine, fail in CI (``CI=true``), as tests/conftest.py
    does for PostgreSQL."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools are failures, not skips)")
    pytest.skip(reason)


@contextmanager
def serving(app: Flask, name: str = "ssbvote-live", port: int = 0) -> Iterator[str]:
    """``app`` under werkzeug's threaded HTTP server on 127.0.0.1:``port`` (0: a free port), in a
    thread called ``name``; yields its URL.  On exit the server stops and the app's database
    connections are closed."""
    from app.extensions import db

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def chromium(args: Sequence[str]) -> Iterator[Any]:
    """Debian's Chromium (no browser download) launched by Playwright with ``args``."""
    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        require(False, "playwright is not installed (pip install -e .[test])")
        raise
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=list(args))
        try:
            yield browser
        finally:
            browser.close()
