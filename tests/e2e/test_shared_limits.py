"""Limits every gunicorn worker shares, through Redis (issue 22), and gunicorn failing closed.

With ``memory://`` each worker counts alone, so a "30 per minute" sign-in limit let 59 posts
through with 2 workers. With ``SSBVOTE_REDIS_URL`` the workers share one counter: at most 30.
Started for real: Debian's redis-server (tools/redis_server.py), gunicorn with 2 sync workers,
each post on a new connection so that both workers answer.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import requests

from app.services.platform import schema
from tools.serve import GunicornServer, free_port

ROOT = Path(__file__).resolve().parents[2]
POSTS = 60
LIMIT = 30
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    db_url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    schema.upgrade(db_url)
    return {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "inst"),
            "DATABASE_URL": db_url, "SSBVOTE_SIGNIN_IP_LIMIT": f"{LIMIT} per minute", **extra}


def _answers(url: str) -> tuple[int, int]:
    """(answered, refused with 429) of POSTS sign-in posts, each with a fresh connection."""
    answered = refused = 0
    for n in range(POSTS):
        with requests.Session() as browser:
            browser.headers["Connection"] = "close"
            page = browser.get(f"{url}/insured/login", timeout=30)
            token = _CSRF.search(page.text)
            assert token, page.status_code
            response = browser.post(f"{url}/insured/login", timeout=30, data={
                "csrf_token": token.group(1), "login_id": "1234567890121",
                "password": f"wrong password {n}"})
        if response.status_code == 429:
            refused += 1
        else:
            assert response.status_code == 200, response.status_code
            answered += 1
    return answered, refused


def test_two_workers_share_one_limit_through_redis(tmp_path: Path, redis_url: str) -> None:
    server = GunicornServer(_env(tmp_path, SSBVOTE_REDIS_URL=redis_url), tmp_path / "g.log",
                            workers=2)
    try:
        answered, refused = _answers(server.url)
    finally:
        server.stop()
    print(f"\nRedis, 2 workers, {LIMIT}/min: {answered} of {POSTS} sign-in posts answered, "
          f"{refused} refused (429)")
    assert answered == LIMIT and refused == POSTS - LIMIT


def test_per_worker_memory_limits_are_what_production_refuses(tmp_path: Path) -> None:
    """The measurement behind the refusal: memory:// under 2 workers lets more through."""
    server = GunicornServer(_env(tmp_path), tmp_path / "g.log", workers=2)
    try:
        answered, _ = _answers(server.url)
    finally:
        server.stop()
    print(f"\nmemory://, 2 workers, {LIMIT}/min: {answered} of {POSTS} sign-in posts answered")
    assert answered > LIMIT


def test_gunicorn_without_ssbvote_env_refuses_to_start(tmp_path: Path) -> None:
    """``gunicorn wsgi:app`` with no SSBVOTE_ENV is production: with development-style settings
    (no secrets, SQLite, memory://) no worker boots, and the log says why in one error."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SSBVOTE_") and key != "DATABASE_URL"}
    env["SSBVOTE_INSTANCE"] = str(tmp_path / "inst")
    proc = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "--workers",
         "2", "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "refusing to start in production" in proc.stderr
    for name in ("SSBVOTE_SECRET_KEY", "SSBVOTE_PSEUDONYM_KEY", "DATABASE_URL",
                 "SSBVOTE_REDIS_URL"):
        assert name in proc.stderr
    assert not (tmp_path / "inst" / "pseudonym-key").exists()  # no development key was made
