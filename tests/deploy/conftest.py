"""Fixtures for the multi-host tests: nginx (shipped template) in front of N gunicorn instances
sharing one PostgreSQL and one Redis (tools/cluster.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from requests.adapters import HTTPAdapter

from tests.conftest import IN_CI
from tools import cluster


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a chosen loopback address (127.0.0.0/8), as a distinct client would."""

    def __init__(self, source: str, **kwargs: Any):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture
def certificate(tmp_path: Path) -> cluster.TestCertificate:
    return cluster.TestCertificate.make(tmp_path / "tls")


def start_nginx(upstreams: list[str], certificate: cluster.TestCertificate) -> cluster.Nginx:
    try:
        return cluster.Nginx(upstreams, certificate)
    except cluster.NginxUnavailable as exc:
        if IN_CI:
            pytest.fail(f"nginx is required in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def nginx_factory(certificate: cluster.TestCertificate) -> Iterator[Any]:
    started: list[cluster.Nginx] = []

    def make(upstreams: list[str]) -> cluster.Nginx:
        server = start_nginx(upstreams, certificate)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
