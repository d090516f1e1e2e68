"""A throw-away PostgreSQL server for the tests (Debian's postgresql package).

initdb/postgres refuse to run as root, so as root the server runs as the ``postgres`` user in
a temporary directory, on a free loopback port, with trust authentication (loopback only).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    raise PostgresUnavailable("PostgreSQL server binaries not found (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    base_dir: Path
    port: int
    bin_dir: Path
    user_prefix: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            self.user_prefix + [str(self.bin_dir / "pg_ctl"), "-D", str(self.base_dir / "data"),
                                "-m", "immediate", "stop"],
            capture_output=True, check=False,
        )
        shutil.rmtree(self.base_dir, ignore_errors=True)


def start(durable: bool = False) -> PostgresServer:
    """A throw-away server; ``durable`` keeps PostgreSQL's defaults fsync=on and
    synchronous_commit=on (benchmarks of the board's serial ceiling), otherwise both are off
    (tests: speed, nothing to keep)."""
    bin_dir = _bin_dir()
    base = Path(tempfile.mkdtemp(prefix="ssbvote-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        # runuser lives in /usr/sbin, which a minimal PATH may leave out.
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if runuser is None:
            raise PostgresUnavailable("running as root without runuser")
        prefix = [runuser, "-u", "postgres", "--"]
        shutil.chown(base, "postgres", "postgres")
    os.chmod(base, 0o700)
    port = _free_port()
    data = base / "data"
    init = subprocess.run(
        prefix + [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8"],
        capture_output=True, text=True,
    )
    if init.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    log = base / "server.log"
    started = subprocess.run(
        prefix + [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                  "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                        + ("-c fsync=on -c synchronous_commit=on -c full_page_writes=on" if durable
                           else "-c fsync=off -c synchronous_commit=off"), "start"],
        capture_output=True, text=True,
    )
    if started.returncode != 0:
        detail = log.read_text()[-1000:] if log.exists() else started.stderr
        raise PostgresUnavailable(f"postgres did not start: {detail}")
    server = PostgresServer(base, port, bin_dir, prefix)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise PostgresUnavailable("postgres did not accept connections")
