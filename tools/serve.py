"""Serving the app under gunicorn (``app.wsgi:app``, configuration from the environment).

``exec_gunicorn`` replaces the process with gunicorn (``ssbvote serve`` and ``ssbvote demo``);
``GunicornServer`` runs one in a child process on a free loopback port, for the simulator and
the load benchmark (tests use it too).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

#: The WSGI application, importable from the installed package (no working directory needed:
#: relative settings such as SSBVOTE_INSTANCE keep meaning the caller's folder).
WSGI_APP = "app.wsgi:app"


def exec_gunicorn(host: str, port: int, workers: int, threads: int = 8) -> None:
    """Become gunicorn serving ``app.wsgi:app`` on ``host:port`` (does not return).

    ``SSBVOTE_WORKERS`` tells the app how many workers share its limits (app/config.py)."""
    os.environ["SSBVOTE_WORKERS"] = str(workers)
    args = [sys.executable, "-m", "gunicorn",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--timeout", "120",
            # Threads overlap casts (parsing, database) with the verifier thread and let a full
            # worker still answer 503 "busy" at once: more threads than SSBVOTE_CAST_MAX_INFLIGHT
            # (app/services/voting/admission.py, app/services/voting/verification.py).
            "--worker-class", "gthread", "--threads", str(threads),
            # Longer than clients' idle keep-alive, so a reused connection is never cut mid-POST.
            "--keep-alive", "75",
            "--access-logfile", "-", WSGI_APP]
    os.execv(sys.executable, args)


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class GunicornServer:
    def __init__(self, env: dict[str, str], log: Path, workers: int = 2, threads: int = 1,
                 start_timeout: float = 60):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        worker_args = (["--worker-class", "gthread", "--threads", str(threads)] if threads > 1
                       else ["--worker-class", "sync"])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), *worker_args, "--timeout", "120",
             # Idle keep-alive outlives the gaps between one client's requests, so a client
             # never reuses a connection the server is just closing.
             "--keep-alive", "75", WSGI_APP],
            env={**os.environ, "SSBVOTE_WORKERS": str(workers), **env}, stdout=self._log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                if requests.get(self.url + "/health", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass  # still booting: workers import the app after the socket is open
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerDidNotStart(f"gunicorn did not start; see {log}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()
