"""A throw-away Redis server for the tests and the demo (Debian's redis-server package).

Started on a free loopback port in a temporary directory, without persistence, and stopped with
:meth:`RedisServer.stop`.  Production points ``SSBVOTE_REDIS_URL`` at its own Redis instead.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class RedisUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    base_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start() -> RedisServer:
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if binary is None:
        raise RedisUnavailable("redis-server not found (apt-get install redis-server)")
    base = Path(tempfile.mkdtemp(prefix="ssbvote-redis-"))
    port = _free_port()
    log = base / "redis.log"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base), "--save", "",
         "--appendonly", "no", "--protected-mode", "yes", "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    server = RedisServer(base, port, process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = log.read_text()[-1000:] if log.exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            raise RedisUnavailable(f"redis-server exited: {detail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RedisUnavailable("redis-server did not answer PING")
