"""SSB Vote web application: ``create_app`` builds a configured Flask app (README §Design)."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import security
from app.config import Config
from app.extensions import babel, csrf, db, limiter


def create_app(config: Config | None = None, **flask_overrides: Any) -> Flask:
    """Build the app. ``config`` defaults to :meth:`Config.from_env` (which validates it)."""
    config = (config or Config.from_env()).validated()
    instance = Path(config.instance_path).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(
        SSBVOTE=config,
        SECRET_KEY=config.secret_key,
        SQLALCHEMY_DATABASE_URI=config.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(config.database_url, config.cast_max_inflight),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        # __Host-: the browser keeps it only if Secure, Path=/ and without Domain, so no
        # sibling subdomain or plain-http page can plant or shadow it (production: https).
        SESSION_COOKIE_NAME=("__Host-" if config.is_production else "") + "ssbvote_session",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=config.session_idle_minutes * 60,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=config.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        RATELIMIT_STORAGE_URI=config.rate_limit_storage_uri,
        # One Redis may serve other programs too: our counters under our own prefix. If Redis
        # is unreachable the limited routes fail (500) rather than run unlimited.
        RATELIMIT_KEY_PREFIX="ssbvote",
        # Flask-Limiter's headers would put an hour-long Retry-After on successful casts;
        # our own 503 "busy" and 429 answers say when to retry.
        RATELIMIT_HEADERS_ENABLED=False,
        AUTH_IP_RATE_LIMIT=config.signin_ip_rate_limit,
        CAST_MAX_INFLIGHT=config.cast_max_inflight,
        BOARD_BATCH_WINDOW_MS=config.board_batch_window_ms,
        BOARD_BATCH_MAX=config.board_batch_max,
        APPROVAL_LIFETIME_HOURS=config.approval_lifetime_hours,
        # Per route where a view needs more (security.body_limit: the paper-vote list).
        MAX_CONTENT_LENGTH=security.DEFAULT_BODY_LIMIT,
        JSON_SORT_KEYS=False,
        NOTIFY_SENDER=config.identity.notify_sender or "file",
        NOTIFY_OUTBOX=config.identity.notify_outbox or str(instance / "outbox"),
    )
    app.config.update(config.extra)
    app.config.update(flask_overrides)

    from app import i18n

    i18n.compile_translations()
    # Before CSRF protection reads the form: a route's own body limit, bounded URL integers.
    security.init_request_limits(app)
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    from app import localtime

    localtime.init_app(app)

    from app import assets, auth, views
    from app.services.administration import polls
    from app.services.voting import admission, group_commit, verification

    security.init_app(app)
    admission.init_app(app)
    group_commit.init_app(app)
    verification.configure(config.verify_min_batch, config.verify_linger_ms / 1000, config.verify_max_batch)
    assets.init_app(app)
    auth.init_app(app)
    polls.init_app(app)
    from app.services.identity import oidc, release

    release.init_app(app)
    oidc.init_app(app)
    views.register(app)
    if config.proxy_hops:
        # Only X-Forwarded-For, so per-IP limits see the client: nothing here needs the
        # proxy's view of scheme, host, port or prefix, so a proxy passing them through
        # unchecked cannot change them.
        proxied = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=0, x_host=0,
                           x_port=0, x_prefix=0)
        app.wsgi_app = proxied  # type: ignore[method-assign]
    return app


def _engine_options(url: str, cast_max_inflight: int) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    # A gthread worker runs its request threads (tools/serve.py) besides its verifier and group
    # commit: with SQLAlchemy's default pool of 5 (+10 overflow) a busy worker opened and closed
    # a PostgreSQL connection per cast beyond the fifth (a backend fork, authentication and a
    # cold catalog cache each time).  Kept connections for every cast in flight and a few more
    # (page requests, the group commit's leader), at least ten; five more only at a peak.
    return {"pool_pre_ping": True, "pool_size": max(10, cast_max_inflight + 4), "max_overflow": 5}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL and foreign keys for SQLite, so gunicorn workers can share the demo database."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Let SQLAlchemy, not the driver, start transactions (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Engine, "do_connect")
def _postgres_application_name(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
    """PostgreSQL: name each connection after its host and process (``ssbvote <host> <pid>``), so
    that ``pg_stat_activity`` shows which app process holds the board's head lock or a batch
    (docs/operations.md)."""
    if dialect.name == "postgresql":
        cparams.setdefault("application_name", f"ssbvote {socket.gethostname()[:30]} {os.getpid()}")


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """SQLite: take the write lock at BEGIN, so a read-then-write transaction (appending to
    the board) waits for its turn instead of failing with "database is locked"."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
