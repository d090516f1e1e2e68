"""Several app hosts behind nginx on one machine, for the tests and benchmarks (issue 20).

``TestCertificate`` makes a throw-away CA and a server certificate for 127.0.0.1 / localhost with
``cryptography``; ``Nginx`` runs Debian's nginx in a temporary prefix with the *shipped* site
template (deploy/nginx/ssbvote.conf.template, rendered by :mod:`tools.deploy`); ``AppCluster``
starts N independent gunicorn instances (separate process trees standing in for hosts) with the
same environment: one PostgreSQL, one Redis, SSBVOTE_PROXY_HOPS=1.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tools.deploy import NginxSite, render_nginx
from tools.serve import GunicornServer, free_port


class NginxUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class TestCertificate:
    ca: Path  # the CA certificate clients trust (requests' verify=)
    certificate: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> "TestCertificate":
        folder.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SSB Vote test CA")])
        ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                content_commitment=False, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        paths = cls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
        paths.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        paths.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
        paths.key.chmod(0o600)
        return paths


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        raise NginxUnavailable("nginx not found (apt-get install nginx)")
    return found


@dataclass
class Nginx:
    """nginx in the foreground in a temporary prefix, serving the rendered shipped site."""

    upstreams: Sequence[str]
    certificate: TestCertificate
    prefix: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ssbvote-nginx-")))

    def __post_init__(self) -> None:
        binary = nginx_binary()
        self.https_port, self.http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        logs = self.prefix / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / name).mkdir(exist_ok=True)
        site = render_nginx(NginxSite(
            server_name="localhost 127.0.0.1", certificate=self.certificate.certificate,
            certificate_key=self.certificate.key, upstreams=self.upstreams,
            https_listen=f"127.0.0.1:{self.https_port}", http_listen=f"127.0.0.1:{self.http_port}",
            log_dir=logs, https_port_suffix=f":{self.https_port}"))
        (self.prefix / "ssbvote.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"    {name}_temp_path {self.prefix / name};\n"
                       for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (self.prefix / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {self.prefix / 'nginx.pid'};\n"
            f"error_log {logs / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n    include /etc/nginx/mime.types;\n" + temp +
            f"    include {self.prefix / 'ssbvote.conf'};\n}}\n")
        check = subprocess.run([binary, "-t", "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise NginxUnavailable(f"nginx -t refused the rendered site: {check.stderr.strip()}")
        self.log = self.prefix / "logs" / "ssbvote.access.log"
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=(self.prefix / "stderr.log").open("wb"))
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.url + "/health", timeout=5, verify=str(self.certificate.ca))
                return
            except requests.RequestException:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise NginxUnavailable("nginx did not start: "
                                           + (self.prefix / "stderr.log").read_text()[-1000:])
                time.sleep(0.2)

    def upstream_counts(self, path_part: str) -> dict[str, int]:
        """How many logged requests whose request line holds ``path_part`` each upstream served.

        A request nginx answered itself (a 413, a redirect) is logged with ``upstream=-``: no host
        served it, so it is not counted."""
        counts: dict[str, int] = {}
        for line in self.log.read_text().splitlines():
            if path_part in line and "upstream=" in line:
                upstream = line.split("upstream=", 1)[1].split()[0]
                if upstream != "-":
                    counts[upstream] = counts.get(upstream, 0) + 1
        return counts

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)


class AppCluster:
    """``hosts`` gunicorn instances sharing ``env`` (database, Redis, keys), each its own process tree."""

    def __init__(self, env: dict[str, str], log_dir: Path, hosts: int = 2, workers: int = 1, threads: int = 8):
        self.servers: list[GunicornServer] = []
        try:
            for i in range(hosts):
                self.servers.append(GunicornServer({**env, "SSBVOTE_PROXY_HOPS": "1"},
                                                   log_dir / f"host-{i + 1}.log", workers=workers,
                                                   threads=threads))
        except Exception:
            self.stop()
            raise

    @property
    def upstreams(self) -> list[str]:
        return [f"127.0.0.1:{server.port}" for server in self.servers]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
