"""Typed configuration: production is the default and refuses to start without its secrets,
with a built-in or weak secret, on SQLite, or with per-worker limits (docs/accounts.md §11)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import Config, ConfigError

GOOD_SECRET = "x" * 16 + "7f3a9c0e2b5d4a1f"
DEV = {"SSBVOTE_ENV": "development"}
CA_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"  # RFC 8032 §7.1 test 1


def prod_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    key = tmp_path / "signing.pem"
    key.write_text("dummy")
    env = {
        "SSBVOTE_ENV": "production",
        "SSBVOTE_SECRET_KEY": GOOD_SECRET + "a" * 8,
        "SSBVOTE_PSEUDONYM_KEY": GOOD_SECRET + "b" * 8,
        "DATABASE_URL": "postgresql+psycopg://ssb@db/ssbvote",
        "SSBVOTE_SIGNING_KEY": str(key),
        "SSBVOTE_CA_KEY": CA_KEY,
        "SSBVOTE_REDIS_URL": "redis://redis.internal:6379/0",
        "SSBVOTE_NOTIFY_SENDER": "file",
    }
    env.update(overrides)
    return env


def test_production_with_all_secrets_starts(tmp_path: Path) -> None:
    config = Config.from_env(prod_env(tmp_path))
    assert config.is_production
    assert config.database_url.startswith("postgresql")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SSBVOTE_SECRET_KEY", "", "SSBVOTE_SECRET_KEY"),
        ("SSBVOTE_SECRET_KEY", "changeme", "SSBVOTE_SECRET_KEY"),
        ("SSBVOTE_SECRET_KEY", "short-but-not-default", "SSBVOTE_SECRET_KEY"),
        ("SSBVOTE_PSEUDONYM_KEY", "", "SSBVOTE_PSEUDONYM_KEY"),
        ("DATABASE_URL", "", "DATABASE_URL"),
        ("SSBVOTE_SIGNING_KEY", "/nonexistent/key.pem", "SSBVOTE_SIGNING_KEY"),
        ("SSBVOTE_ALLOW_INSECURE_TEST_KEYS", "1", "INSECURE_TEST_KEYS"),
        ("SSBVOTE_CA_KEY", "", "SSBVOTE_CA_KEY"),
        ("SSBVOTE_CA_KEY", "/nonexistent/ca-key.txt", "SSBVOTE_CA_KEY"),
        ("SSBVOTE_CA_KEY", "12" * 31, "SSBVOTE_CA_KEY"),
        # The development pseudonym key this project once built in: public, so anyone holding
        # it maps board pseudonyms back to national IDs.
        ("SSBVOTE_PSEUDONYM_KEY", "development-pseudonym-key-not-for-production",
         "SSBVOTE_PSEUDONYM_KEY"),
        ("SSBVOTE_PSEUDONYM_KEY", "p" * 40, "SSBVOTE_PSEUDONYM_KEY"),
        ("SSBVOTE_SECRET_KEY", "ab" * 20, "SSBVOTE_SECRET_KEY"),
        ("DATABASE_URL", "sqlite:///srv/ssbvote.sqlite3", "PostgreSQL"),
        ("SSBVOTE_REDIS_URL", "", "SSBVOTE_REDIS_URL"),
    ],
)
def test_production_refuses_missing_or_default_secret(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env(prod_env(tmp_path, **{variable: value}))
    assert message in str(excinfo.value)
    assert "refusing to start in production" in str(excinfo.value)


def test_create_app_refuses_unsafe_production_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        create_app(Config(env="production", instance_path=str(tmp_path)))


def test_development_defaults_to_sqlite_and_shared_secret(tmp_path: Path) -> None:
    env = {**DEV, "SSBVOTE_INSTANCE": str(tmp_path)}
    first = Config.from_env(env)
    second = Config.from_env(env)
    assert first.database_url == f"sqlite:///{tmp_path.resolve() / 'ssbvote.sqlite3'}"
    assert len(first.secret_key) == 64
    # Every gunicorn worker must see the same session secret and pseudonym key.
    assert first.secret_key == second.secret_key
    assert first.pseudonym_key == second.pseudonym_key


def test_development_keys_are_random_per_instance(tmp_path: Path) -> None:
    """No built-in development key: two instances get different secrets, pseudonym keys and
    board signing keys, so a demo's pseudonyms cannot be mapped with a key from the source."""
    one = Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path / "one")})
    two = Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path / "two")})
    assert one.pseudonym_key != two.pseudonym_key and len(one.pseudonym_key) == 64
    assert one.secret_key != two.secret_key
    assert "development" not in one.pseudonym_key
    assert (tmp_path / "one" / "pseudonym-key").stat().st_mode & 0o077 == 0
    assert one.signing_key_path != two.signing_key_path


def test_production_is_the_default_without_ssbvote_env(tmp_path: Path) -> None:
    """Forgetting SSBVOTE_ENV must not start a server with development keys: it is production,
    which refuses the missing secrets in one error naming each."""
    with pytest.raises(ConfigError) as excinfo:
        Config.from_env({"SSBVOTE_INSTANCE": str(tmp_path)})
    message = str(excinfo.value)
    assert message.startswith("refusing to start in production")
    for name in ("SSBVOTE_SECRET_KEY", "SSBVOTE_PSEUDONYM_KEY", "DATABASE_URL", "SSBVOTE_CA_KEY",
                 "SSBVOTE_SIGNING_KEY"):
        assert name in message
    assert Config().env == "production"
    env = prod_env(tmp_path)
    del env["SSBVOTE_ENV"]
    assert Config.from_env(env).is_production


@pytest.mark.parametrize(("workers", "redis", "starts"), [
    ("1", "", True),          # one worker: its memory is the only counter
    ("2", "", False),         # 59 answers where 30 a minute were allowed (issue 22)
    ("", "", False),          # unknown worker count: refused, not guessed
    ("4", "redis://127.0.0.1:6379/0", True),
])
def test_production_refuses_per_worker_limits_with_several_workers(
        tmp_path: Path, workers: str, redis: str, starts: bool) -> None:
    env = prod_env(tmp_path, SSBVOTE_WORKERS=workers, SSBVOTE_REDIS_URL=redis)
    if starts:
        config = Config.from_env(env)
        assert config.rate_limit_storage_uri == (redis or "memory://")
    else:
        with pytest.raises(ConfigError, match="SSBVOTE_REDIS_URL"):
            Config.from_env(env)


def test_the_older_limiter_storage_name_still_configures_redis(tmp_path: Path) -> None:
    env = prod_env(tmp_path, SSBVOTE_REDIS_URL="", SSBVOTE_WORKERS="2")
    older = Config.from_env({**env, "SSBVOTE_RATELIMIT_STORAGE": "redis://10.0.0.5:6379/1"})
    assert older.rate_limit_storage_uri == "redis://10.0.0.5:6379/1"
    with pytest.raises(ConfigError, match="SSBVOTE_REDIS_URL"):
        Config.from_env({**env, "SSBVOTE_RATELIMIT_STORAGE": "memory://"})


def test_gunicorn_worker_count_comes_from_web_concurrency_too(tmp_path: Path) -> None:
    env = prod_env(tmp_path, SSBVOTE_REDIS_URL="")
    with pytest.raises(ConfigError, match=r"\(3\)"):
        Config.from_env({**env, "WEB_CONCURRENCY": "3"})
    with pytest.raises(ConfigError, match="SSBVOTE_REDIS_URL"):
        Config.from_env({**env, "SSBVOTE_REDIS_URL": "http://redis"})


def test_serve_refuses_an_unsafe_production_config_with_one_clear_error(tmp_path: Path) -> None:
    """``ssbvote serve`` (and so gunicorn) never starts on a missing SSBVOTE_ENV: a click error
    listing every problem, no traceback."""
    from click.testing import CliRunner

    from tools.cli import main

    env = {key: "" for key in ("SSBVOTE_ENV", "SSBVOTE_SECRET_KEY", "SSBVOTE_PSEUDONYM_KEY",
                               "DATABASE_URL", "SSBVOTE_CA_KEY", "SSBVOTE_REDIS_URL")}
    env["SSBVOTE_INSTANCE"] = str(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--workers", "2"], env=env)
    assert result.exit_code == 1
    assert "refusing to start in production" in result.output
    assert "SSBVOTE_REDIS_URL" in result.output and "(2)" in result.output
    assert "Traceback" not in result.output


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="SSBVOTE_ENV"):
        Config.from_env({"SSBVOTE_ENV": "staging"})


def test_production_sets_secure_cookies_and_hsts(tmp_path: Path) -> None:
    config = Config.from_env(prod_env(tmp_path, SSBVOTE_INSTANCE=str(tmp_path / "inst")))
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/language/en?next=/")
    assert "max-age" in response.headers["Strict-Transport-Security"]
    # __Host- prefix: the browser keeps the cookie only if Secure, Path=/ and without Domain.
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-ssbvote_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie


def test_proxy_hops_and_approval_lifetime_are_read_and_checked(tmp_path: Path) -> None:
    env = {**DEV, "SSBVOTE_INSTANCE": str(tmp_path)}
    defaults = Config.from_env(env)
    assert defaults.proxy_hops == 0 and defaults.approval_lifetime_hours == 24
    config = Config.from_env({**env, "SSBVOTE_PROXY_HOPS": "1",
                              "SSBVOTE_APPROVAL_LIFETIME_HOURS": "8"})
    assert config.proxy_hops == 1 and config.approval_lifetime_hours == 8
    app = create_app(config)
    assert app.config["APPROVAL_LIFETIME_HOURS"] == 8
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    assert type(create_app(defaults).wsgi_app).__name__ != "ProxyFix"


@pytest.mark.parametrize(("variable", "value"), [
    ("SSBVOTE_PROXY_HOPS", "-1"),
    ("SSBVOTE_PROXY_HOPS", "6"),
    ("SSBVOTE_PROXY_HOPS", "one"),
    ("SSBVOTE_APPROVAL_LIFETIME_HOURS", "0"),
    ("SSBVOTE_APPROVAL_LIFETIME_HOURS", "169"),
    ("SSBVOTE_APPROVAL_LIFETIME_HOURS", "1.5"),
    ("SSBVOTE_VERIFY_LINGER_MS", "-1"),
    ("SSBVOTE_VERIFY_LINGER_MS", "1001"),
    ("SSBVOTE_VERIFY_MIN_BATCH", "0"),
    ("SSBVOTE_VERIFY_MIN_BATCH", "17"),
    ("SSBVOTE_VERIFY_MAX_BATCH", "0"),
    ("SSBVOTE_VERIFY_MAX_BATCH", "65"),
])
def test_bad_proxy_hops_or_lifetime_is_refused(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path), variable: value})


def test_the_cast_verifier_takes_its_batching_policy_from_the_config(tmp_path: Path) -> None:
    from app.services.voting import verification

    verifier = verification.group_verifier()
    before = (verifier.max_batch, verifier.min_batch, verifier.linger)
    try:
        create_app(Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path), "SSBVOTE_VERIFY_LINGER_MS": "40",
                                    "SSBVOTE_VERIFY_MIN_BATCH": "2", "SSBVOTE_VERIFY_MAX_BATCH": "5"}))
        assert (verifier.max_batch, verifier.min_batch, verifier.linger) == (5, 2, 0.04)
        create_app(Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path)}))
        assert (verifier.max_batch, verifier.min_batch, verifier.linger) == (16, 3, 0.1)
    finally:
        verifier.configure(*before)


def test_the_ca_key_is_hex_or_a_file_holding_it(tmp_path: Path) -> None:
    """SSBVOTE_CA_KEY (docs/record.md §2.0): 64 hex digits, or a file with the hex, the output
    of ``python -m ca keygen`` / ``public-key``, or {"public_key": hex}; production fails closed."""
    from app.config import read_ca_key

    assert read_ca_key(CA_KEY.upper()) == CA_KEY
    plain, keygen, as_json, wrong = (tmp_path / n for n in ("plain", "keygen", "json", "wrong"))
    plain.write_text(CA_KEY + "\n")
    keygen.write_text(f"CA key written to ca-key.pem (keep it offline)\npublic key:  {CA_KEY}\n"
                      "fingerprint: 1A2B-3C4D-5E6F-7A8B\n")
    as_json.write_text('{"algorithm": "Ed25519", "public_key": "%s"}' % CA_KEY)
    wrong.write_text("not a key")
    for path in (plain, keygen, as_json):
        assert read_ca_key(str(path)) == CA_KEY
        assert Config.from_env(prod_env(tmp_path, SSBVOTE_CA_KEY=str(path))).ca_key == str(path)
    with pytest.raises(ConfigError, match="holds no CA public key"):
        read_ca_key(str(wrong))
    with pytest.raises(ConfigError, match="SSBVOTE_CA_KEY"):
        Config.from_env(prod_env(tmp_path, SSBVOTE_CA_KEY=str(wrong)))
    # Development: the instance's CA key file (the demo and the scenario write it).
    dev = Config.from_env({**DEV, "SSBVOTE_INSTANCE": str(tmp_path / "dev")})
    assert dev.ca_key == str((tmp_path / "dev").resolve() / "ca" / "ca-public-key.txt")


# --- identity proofing settings (docs/accounts.md §8–§9) --------------------------------------
@pytest.mark.parametrize(("overrides", "message"), [
    ({"SSBVOTE_NOTIFY_SENDER": ""}, "SSBVOTE_NOTIFY_SENDER"),
    ({"SSBVOTE_NOTIFY_SENDER": "not a sender"}, "SSBVOTE_NOTIFY_SENDER"),
    ({"SSBVOTE_OIDC_ISSUER": "http://thaid.example", "SSBVOTE_OIDC_CLIENT_ID": "c",
      "SSBVOTE_OIDC_CLIENT_SECRET": "s"}, "https://"),
    ({"SSBVOTE_OIDC_ISSUER": "https://thaid.example"}, "SSBVOTE_OIDC_CLIENT_ID"),
    ({"SSBVOTE_OIDC_MIN_IAL": "high"}, "SSBVOTE_OIDC_MIN_IAL"),
    ({"SSBVOTE_ACTIVATION_DAYS": "0"}, "SSBVOTE_ACTIVATION_DAYS"),
])
def test_production_refuses_unsafe_identity_settings(tmp_path: Path, overrides: dict[str, str],
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(prod_env(tmp_path, **overrides))


def test_identity_settings_are_read(tmp_path: Path) -> None:
    config = Config.from_env(prod_env(tmp_path, SSBVOTE_OIDC_ISSUER="https://thaid.example/",
                                      SSBVOTE_OIDC_CLIENT_ID="ssbvote",
                                      SSBVOTE_OIDC_CLIENT_SECRET="secret",
                                      SSBVOTE_OIDC_MIN_IAL="2.1",
                                      SSBVOTE_NOTIFY_SENDER="sso_letters.sender:LetterSender"))
    assert config.identity.oidc_issuer == "https://thaid.example"
    assert config.identity.oidc_min_ial == "2.1"
    assert config.identity.notify_sender == "sso_letters.sender:LetterSender"
    # Development: the file sink by default, no ThaiD unless configured.
    dev = Config.from_env({"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(tmp_path / "i")})
    assert dev.identity.notify_sender == "" and dev.identity.oidc_issuer == ""
