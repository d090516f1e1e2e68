"""``gunicorn wsgi:app`` serves the app; /health reports database and migration state."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.services.platform import schema

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=10)
        except requests.RequestException:  # workers import the app after the socket opens
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_gunicorn_serves_health(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    port = free_port()
    env = {**os.environ, "SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "inst"),
           "DATABASE_URL": db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        response = wait_for(f"http://127.0.0.1:{port}/health")
        # Not migrated yet: the health check says so and answers 503.
        assert response.status_code == 503
        assert response.json()["migration"]["current"] is None
        schema.upgrade(db_url)
        response = requests.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert response.status_code == 200
        body = response.json()
        assert body["database"] == "ok" and body["migration"]["up_to_date"] is True
        assert body["migration"]["head"] == schema.head_revision()
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200
        assert "Content-Security-Policy" in page.headers
    finally:
        proc.terminate()
        proc.wait(timeout=20)
