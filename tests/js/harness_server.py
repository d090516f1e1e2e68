"""A throw-away static server for the browser harness: app/static/dist + tests/js/harness.

Serves with the app's CSP rules (script-src 'self', worker-src 'self', no inline script) so the
bundle is exercised exactly as pages will load it.  Used by test_browser_worker.py and
benchmarks/browser_encrypt_bench.py.
"""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

from tests.js.support import DIST

HARNESS = Path(__file__).resolve().parent / "harness"
CSP = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
TYPES = {".js": "text/javascript; charset=utf-8", ".html": "text/html; charset=utf-8", ".json": "application/json"}


def _render_index(integrity_override: str | None) -> bytes:
    manifest = json.loads((DIST / "manifest.json").read_text())
    page = (HARNESS / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{SSBCRYPTO_URL}}", "/static/dist/" + manifest["ssbcrypto.js"]["file"])
    page = page.replace("{{SSBCRYPTO_INTEGRITY}}", integrity_override or manifest["ssbcrypto.js"]["integrity"])
    page = page.replace("{{WORKER_URL}}", "/static/dist/" + manifest["ssbcrypto-worker.js"]["file"])
    return page.encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    integrity_override: str | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?", 1)[0]
        if path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        body: bytes | None = None
        if path in ("/", "/harness/", "/harness/index.html"):
            body, suffix = _render_index(self.integrity_override), ".html"
        else:
            for prefix, root in (("/static/dist/", DIST), ("/harness/", HARNESS)):
                if path.startswith(prefix):
                    name = path[len(prefix):]
                    candidate = (root / name).resolve()
                    if "/" not in name and candidate.parent == root.resolve() and candidate.is_file():
                        body, suffix = candidate.read_bytes(), candidate.suffix
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", TYPES.get(suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


@contextmanager
def serve_harness(integrity_override: str | None = None) -> Iterator[str]:
    """Yield the harness page URL on 127.0.0.1 (a secure context, so WebCrypto works).

    ``integrity_override`` puts another SRI hash in the page (to test that a mismatch blocks).
    """
    handler = type("Handler", (_Handler,), {"integrity_override": integrity_override})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/harness/index.html"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
