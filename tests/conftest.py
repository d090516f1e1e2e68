"""Shared fixtures: an app on a fresh SQLite file, and a real throw-away PostgreSQL server.

PostgreSQL tests are skipped only when the server cannot be had on a developer machine; in CI
(``CI=true``) that is a failure, never a silent skip.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.config import Config
from app.extensions import db
from app.services.platform import schema
from tools import postgres, redis_server

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def make_config(tmp_path: Path, database_url: str | None = None, **extra: object) -> Config:
    return Config(
        env="test",
        instance_path=str(tmp_path / "instance"),
        database_url=database_url or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        allow_insecure_test_keys=True,
        extra={"WTF_CSRF_ENABLED": True, **extra},
    ).validated()


def build_app(config: Config) -> Flask:
    schema.upgrade(config.database_url)
    return create_app(config)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    application = build_app(make_config(tmp_path))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PostgresServer]:
    try:
        server = postgres.start()
    except postgres.PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis (Debian redis-server) for the session; tests use distinct key prefixes or db numbers."""
    try:
        server = redis_server.start()
    except redis_server.RedisUnavailable as exc:
        if IN_CI:
            pytest.fail(f"Redis is required in CI: {exc}")
        pytest.skip(f"Redis not available: {exc}")
    yield server.url()
    server.stop()


@pytest.fixture
def pg_url(pg_server: postgres.PostgresServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def any_app(any_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = build_app(make_config(tmp_path, any_db_url))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
