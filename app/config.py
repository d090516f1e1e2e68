"""Typed configuration, loaded from the environment and validated at start-up.

Fail closed (docs/accounts.md §11): without ``SSBVOTE_ENV`` the server is in production and
refuses to start with a missing, built-in or weak secret, SQLite, or a per-worker (``memory://``)
limiter store under more than one worker. Development and test must be asked for explicitly;
they fill in throw-away values, random per instance (kept in the instance folder so that every
worker of the instance shares them), so that a newcomer can run the demo with one command.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Environment = Literal["development", "test", "production"]

#: Values that must never be used as secrets in production: placeholders, and every built-in
#: development value this project ever shipped (they are public in its history).
_DEFAULT_SECRETS = frozenset({"", "dev", "changeme", "change-me", "secret", "development", "test",
                              "development-pseudonym-key-not-for-production"})
_MIN_SECRET_LENGTH = 32
#: A secret with fewer different characters than this is a pattern, not a random value.
_MIN_SECRET_DISTINCT = 10
#: Instance files holding the development secrets (random per instance).
_DEV_SECRET_FILES = {"secret_key": "secret-key", "pseudonym_key": "pseudonym-key"}
_MAX_PROXY_HOPS = 5
#: A board batch's leader waits at most this long for more casts (milliseconds) …
_MAX_BOARD_BATCH_WINDOW_MS = 100
#: … and takes at most this many ballots (~1 MB each) into one transaction.
_MAX_BOARD_BATCH = 256
#: A cast batch's ballots are held in memory and answered together: 64 × ~1 MB, ~6 s of one core.
_MAX_VERIFY_BATCH = 64
#: A week: a proposal is a decision for now, not a standing instruction.
_MAX_APPROVAL_LIFETIME_HOURS = 7 * 24


class ConfigError(RuntimeError):
    """The configuration is incomplete or unsafe; the message says which setting and why."""


@dataclass(frozen=True)
class Config:
    """All settings of the voting server (see README "Configuration")."""

    #: Production unless development or test is asked for explicitly (fail closed).
    env: Environment = "production"
    secret_key: str = ""
    database_url: str = ""
    #: HMAC key that turns voter IDs into the pseudonyms published on the board.
    pseudonym_key: str = ""
    #: PEM file holding the server's Ed25519 board/receipt signing key.
    signing_key_path: str = ""
    #: Only tests and the demo may use Paillier keys below the production minimum.
    allow_insecure_test_keys: bool = False
    instance_path: str = "instance"
    session_idle_minutes: int = 15
    #: Redis (``redis://`` / ``rediss://`` / ``redis+unix://``) holding the state every worker must
    #: share: the rate limiter's counters. Empty: ``memory://``, per worker process.
    redis_url: str = ""
    #: gunicorn worker processes (``SSBVOTE_WORKERS``, else ``WEB_CONCURRENCY``; ``ssbvote serve``
    #: sets it). 0: unknown. Production refuses a per-worker limiter store unless it is 1.
    workers: int = 0
    #: Sign-in, code and registration form posts allowed per client IP (Flask-Limiter syntax).
    signin_ip_rate_limit: str = "30 per minute; 300 per hour"
    default_locale: str = "th"
    #: Casts one worker process admits at once (parsing, verifying, writing); more get 503 +
    #: Retry-After (app/services/voting/admission.py). Keep it below the gunicorn threads per worker.
    cast_max_inflight: int = 6
    #: Under load, the cast verifier waits up to this many milliseconds for a batch of at least
    #: ``verify_min_batch`` ballots (app/services/voting/verification.py); 0 never waits.
    verify_linger_ms: int = 100
    verify_min_batch: int = 3
    #: … and checks at most this many ballots in one batch (bigger batches cost less per ballot,
    #: docs/performance.md; a batch of 16 takes ~1.4 s of one core at 2048 bits).
    verify_max_batch: int = 16
    #: Board group commit (app/services/voting/group_commit.py): how long a batch's leader waits
    #: for more casts of its process on their way to the board (0: never), and the most
    #: ballots one head lock and one commit take (1: one per transaction, no batching).
    board_batch_window_ms: int = 10
    board_batch_max: int = 32
    #: Reverse proxies in front of the app that append to X-Forwarded-For (0: none, the peer
    #: address is the client). Per-IP limits key on the address this many hops back.
    proxy_hops: int = 0
    #: Hours a four-eyes proposal may wait for its second official before it expires.
    approval_lifetime_hours: int = 24
    #: The credential authority's Ed25519 public key (docs/record.md §2.0, §6): 64 hex digits,
    #: or the path of a file holding them (or the output of ``python -m ca keygen`` /
    #: ``public-key``).  The opening object and the CA's lists are checked with this key, never
    #: with one found in the database.  Required in production; in development and test it
    #: defaults to ``<instance>/ca/ca-public-key.txt``, which the demo and the scenario write.
    ca_key: str = ""
    #: Identity proofing (docs/accounts.md §8–§9): ThaiD / OpenID Connect, activation codes.
    identity: "IdentitySettings" = field(default_factory=lambda: IdentitySettings())
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        """Read ``SSBVOTE_*`` variables (and ``DATABASE_URL``); validate; fill dev defaults."""
        env = os.environ if environ is None else environ
        mode = env.get("SSBVOTE_ENV", "").strip() or "production"
        if mode not in ("development", "test", "production"):
            raise ConfigError(
                f"SSBVOTE_ENV must be development, test or production, not {mode!r}"
            )
        config = cls(
            env=mode,  # type: ignore[arg-type]
            secret_key=env.get("SSBVOTE_SECRET_KEY", ""),
            database_url=env.get("DATABASE_URL", env.get("SSBVOTE_DATABASE_URL", "")),
            pseudonym_key=env.get("SSBVOTE_PSEUDONYM_KEY", ""),
            signing_key_path=env.get("SSBVOTE_SIGNING_KEY", ""),
            allow_insecure_test_keys=_flag(env.get("SSBVOTE_ALLOW_INSECURE_TEST_KEYS", "")),
            instance_path=env.get("SSBVOTE_INSTANCE", "instance"),
            session_idle_minutes=int(env.get("SSBVOTE_SESSION_IDLE_MINUTES", "15")),
            redis_url=_redis_url(env),
            workers=_integer(env, "SSBVOTE_WORKERS", _integer(env, "WEB_CONCURRENCY", 0)),
            signin_ip_rate_limit=env.get("SSBVOTE_SIGNIN_IP_LIMIT", "30 per minute; 300 per hour"),
            cast_max_inflight=int(env.get("SSBVOTE_CAST_MAX_INFLIGHT", "6")),
            verify_linger_ms=_integer(env, "SSBVOTE_VERIFY_LINGER_MS", 100),
            verify_min_batch=_integer(env, "SSBVOTE_VERIFY_MIN_BATCH", 3),
            verify_max_batch=_integer(env, "SSBVOTE_VERIFY_MAX_BATCH", 16),
            board_batch_window_ms=_integer(env, "SSBVOTE_BOARD_BATCH_WINDOW_MS", 10),
            board_batch_max=_integer(env, "SSBVOTE_BOARD_BATCH_MAX", 32),
            proxy_hops=_integer(env, "SSBVOTE_PROXY_HOPS", 0),
            approval_lifetime_hours=_integer(env, "SSBVOTE_APPROVAL_LIFETIME_HOURS", 24),
            ca_key=env.get("SSBVOTE_CA_KEY", "").strip(),
            identity=identity_settings(env),
        )
        return config.validated()

    def validated(self) -> "Config":
        """Return a config safe to run with, or raise :class:`ConfigError`."""
        if self.cast_max_inflight < 1:
            raise ConfigError("SSBVOTE_CAST_MAX_INFLIGHT must be at least 1")
        if not 0 <= self.verify_linger_ms <= 1000:
            raise ConfigError("SSBVOTE_VERIFY_LINGER_MS must be between 0 and 1000")
        if not 1 <= self.verify_max_batch <= _MAX_VERIFY_BATCH:
            raise ConfigError(f"SSBVOTE_VERIFY_MAX_BATCH must be between 1 and {_MAX_VERIFY_BATCH}")
        if not 1 <= self.verify_min_batch <= self.verify_max_batch:
            raise ConfigError("SSBVOTE_VERIFY_MIN_BATCH must be between 1 and SSBVOTE_VERIFY_MAX_BATCH")
        if not 0 <= self.board_batch_window_ms <= _MAX_BOARD_BATCH_WINDOW_MS:
            raise ConfigError(f"SSBVOTE_BOARD_BATCH_WINDOW_MS must be between 0 and {_MAX_BOARD_BATCH_WINDOW_MS}")
        if not 1 <= self.board_batch_max <= _MAX_BOARD_BATCH:
            raise ConfigError(f"SSBVOTE_BOARD_BATCH_MAX must be between 1 (no batching) and {_MAX_BOARD_BATCH}")
        if not 0 <= self.proxy_hops <= _MAX_PROXY_HOPS:
            raise ConfigError(f"SSBVOTE_PROXY_HOPS must be between 0 (no reverse proxy) and "
                              f"{_MAX_PROXY_HOPS}")
        if not 1 <= self.approval_lifetime_hours <= _MAX_APPROVAL_LIFETIME_HOURS:
            raise ConfigError(f"SSBVOTE_APPROVAL_LIFETIME_HOURS must be between 1 and "
                              f"{_MAX_APPROVAL_LIFETIME_HOURS}")
        if self.workers < 0:
            raise ConfigError("SSBVOTE_WORKERS must be 0 (unknown) or the number of gunicorn workers")
        if self.redis_url and not self.redis_url.startswith(_REDIS_SCHEMES):
            raise ConfigError("SSBVOTE_REDIS_URL must be a redis://, rediss:// or redis+unix:// URL")
        identity_problems = self.identity.problems(self.env == "production")
        if identity_problems and self.env != "production":
            raise ConfigError(identity_problems[0])
        if self.env == "production":
            problems = list(identity_problems)
            for name, value in (("SSBVOTE_SECRET_KEY", self.secret_key),
                                ("SSBVOTE_PSEUDONYM_KEY", self.pseudonym_key)):
                if not _strong_secret(value):
                    problems.append(
                        f"{name} must be set to a random value of at least {_MIN_SECRET_LENGTH} "
                        f"characters (not a built-in or development value), e.g. the output of "
                        f"'python -c \"import secrets; print(secrets.token_hex(32))\"'"
                    )
            if self.secret_key and self.secret_key == self.pseudonym_key:
                problems.append("SSBVOTE_SECRET_KEY and SSBVOTE_PSEUDONYM_KEY must differ")
            if not self.database_url:
                problems.append("DATABASE_URL must point at the production PostgreSQL database")
            elif not self.database_url.startswith("postgresql"):
                problems.append("DATABASE_URL must be PostgreSQL (postgresql+psycopg://...) in "
                                "production: SQLite has no row locks for concurrent sign-ins and "
                                "one writer for the whole board")
            if not self.redis_url and self.workers != 1:
                problems.append(
                    "SSBVOTE_REDIS_URL must name the Redis that every worker shares: without it "
                    "each worker keeps its own rate-limit counters (memory://), so limits "
                    "multiply by the number of workers"
                    + (f" ({self.workers})" if self.workers else
                       " (unknown: set SSBVOTE_WORKERS=1 only if exactly one worker serves)"))
            if not self.signing_key_path or not Path(self.signing_key_path).is_file():
                problems.append("SSBVOTE_SIGNING_KEY must name an existing Ed25519 PEM key file")
            if self.allow_insecure_test_keys:
                problems.append("SSBVOTE_ALLOW_INSECURE_TEST_KEYS is forbidden in production")
            if not self.ca_key:
                problems.append("SSBVOTE_CA_KEY must give the credential authority's public key "
                                "(64 hex digits, or a file holding them)")
            else:
                try:
                    read_ca_key(self.ca_key)
                except ConfigError as exc:
                    problems.append(str(exc))
            if problems:
                raise ConfigError(
                    "refusing to start in production:\n  - " + "\n  - ".join(problems)
                )
            return self
        # Development and test: throw-away secrets, random per instance, a local SQLite file.
        instance = Path(self.instance_path)
        return replace(
            self,
            secret_key=self.secret_key or _instance_secret(instance, _DEV_SECRET_FILES["secret_key"]),
            pseudonym_key=self.pseudonym_key or _instance_secret(
                instance, _DEV_SECRET_FILES["pseudonym_key"]),
            database_url=self.database_url or f"sqlite:///{instance.resolve() / 'ssbvote.sqlite3'}",
            signing_key_path=self.signing_key_path or str(instance.resolve() / "signing-key.pem"),
            ca_key=self.ca_key or str(default_ca_key_path(instance)),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def rate_limit_storage_uri(self) -> str:
        """Flask-Limiter's storage: the shared Redis, else per-process memory."""
        return self.redis_url or "memory://"


def default_ca_key_path(instance: Path | str) -> Path:
    """Development and test: where the demo and the scenario write the public key of the CA key
    they make (``<instance>/ca/ca-public-key.txt``)."""
    return Path(instance).resolve() / "ca" / CA_PUBLIC_KEY_FILE


CA_PUBLIC_KEY_FILE = "ca-public-key.txt"
_HEX64 = re.compile(r"\A[0-9a-fA-F]{64}\Z")
_KEYGEN_LINE = re.compile(r"^\s*public key:\s*([0-9a-fA-F]{64})\s*$", re.MULTILINE)


def read_ca_key(value: str) -> str:
    """The CA public key (64 lowercase hex) that ``SSBVOTE_CA_KEY`` gives: the hex itself, or a
    file holding the hex, the output of ``python -m ca keygen`` / ``public-key`` (its
    ``public key:`` line) or ``{"public_key": hex}``.  :class:`ConfigError` otherwise."""
    text = value.strip()
    if not _HEX64.match(text):
        path = Path(text)
        try:
            content = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(f"SSBVOTE_CA_KEY: {text} is neither 64 hex digits nor an existing "
                              "file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"SSBVOTE_CA_KEY: cannot read {text} ({exc})") from None
        found = _KEYGEN_LINE.search(content)
        if _HEX64.match(content):
            text = content
        elif found:
            text = found.group(1)
        else:
            try:
                obj = json.loads(content)
            except ValueError:
                obj = None
            public = obj.get("public_key") if isinstance(obj, dict) else None
            if not isinstance(public, str) or not _HEX64.match(public):
                raise ConfigError(f"SSBVOTE_CA_KEY: {text} holds no CA public key (64 hex digits)")
            text = public
    text = text.lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        raise ConfigError("SSBVOTE_CA_KEY: not an Ed25519 public key") from None
    return text


_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def _redis_url(env: Mapping[str, str]) -> str:
    """``SSBVOTE_REDIS_URL``; else the older name ``SSBVOTE_RATELIMIT_STORAGE`` (issue 20's
    deployments), where ``memory://`` means none."""
    url = env.get("SSBVOTE_REDIS_URL", "").strip()
    if url:
        return url
    older = env.get("SSBVOTE_RATELIMIT_STORAGE", "").strip()
    return "" if older in ("", "memory://") else older


def _strong_secret(value: str) -> bool:
    """Long, not a built-in value, and not a pattern (``"p" * 40``)."""
    return (value not in _DEFAULT_SECRETS and len(value) >= _MIN_SECRET_LENGTH
            and len(set(value)) >= _MIN_SECRET_DISTINCT)


def _instance_secret(instance: Path, name: str) -> str:
    """A development secret, random per instance, kept in the instance folder so that every
    gunicorn worker (and every restart) of the instance shares it."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            tmp.rename(path) if not path.exists() else tmp.unlink()
        except OSError:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class IdentitySettings:
    """ThaiD (OpenID Connect) and activation codes, docs/accounts.md §8–§9."""

    #: OpenID Connect issuer (discovery at ``<issuer>/.well-known/openid-configuration``);
    #: empty: no "with ThaiD" sign-in.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid pid"
    #: Lowest identity assurance level (``ial`` claim) accepted, a decimal number.
    oidc_min_ial: str = "2.3"
    #: ``file`` (the outbox folder) or ``module:attribute`` of a production sender.
    notify_sender: str = ""
    notify_outbox: str = ""
    activation_days: int = 30

    def problems(self, production: bool) -> list[str]:
        found = []
        try:
            float(self.oidc_min_ial)
        except ValueError:
            found.append(f"SSBVOTE_OIDC_MIN_IAL must be a number, not {self.oidc_min_ial!r}")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            found.append("SSBVOTE_OIDC_CLIENT_ID and SSBVOTE_OIDC_CLIENT_SECRET are needed with "
                         "SSBVOTE_OIDC_ISSUER")
        if not 1 <= self.activation_days <= 365:
            found.append("SSBVOTE_ACTIVATION_DAYS must be between 1 and 365")
        if self.notify_sender and not _SENDER.match(self.notify_sender):
            found.append("SSBVOTE_NOTIFY_SENDER must be 'file' or package.module:attribute, not "
                         f"{self.notify_sender!r}")
        if production:
            if not self.notify_sender:
                found.append("SSBVOTE_NOTIFY_SENDER must name the letter/SMS sender "
                             "(package.module:attribute, or 'file' for the outbox folder)")
            if self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
                found.append("SSBVOTE_OIDC_ISSUER must be an https:// URL in production")
        return found


_SENDER = re.compile(r"\Afile\Z|\A[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")


def identity_settings(env: Mapping[str, str]) -> IdentitySettings:
    return IdentitySettings(
        oidc_issuer=env.get("SSBVOTE_OIDC_ISSUER", "").strip().rstrip("/"),
        oidc_client_id=env.get("SSBVOTE_OIDC_CLIENT_ID", "").strip(),
        oidc_client_secret=env.get("SSBVOTE_OIDC_CLIENT_SECRET", "").strip(),
        oidc_scope=env.get("SSBVOTE_OIDC_SCOPE", "openid pid").strip() or "openid pid",
        oidc_min_ial=env.get("SSBVOTE_OIDC_MIN_IAL", "2.3").strip() or "2.3",
        notify_sender=env.get("SSBVOTE_NOTIFY_SENDER", "").strip(),
        notify_outbox=env.get("SSBVOTE_OUTBOX", "").strip(),
        activation_days=_integer(env, "SSBVOTE_ACTIVATION_DAYS", 30),
    )
