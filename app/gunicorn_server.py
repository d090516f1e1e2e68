"""A gunicorn server in a child process, on a free loopback port, for the simulator and the
load benchmark (tests use it too). It serves ``wsgi:app`` configured by ``env``."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


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
            [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), *worker_args, "--timeout", "120",
             # Idle keep-alive outlives the gaps between one client's requests, so a client
             # never reuses a connection the server is just closing.
             "--keep-alive", "75", "wsgi:app"],
            env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT)
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
