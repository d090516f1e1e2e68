"""Typed configuration: production refuses to start without its secrets."""
from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import Config, ConfigError

GOOD_SECRET = "x" * 16 + "7f3a9c0e2b5d4a1f"
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
    env = {"SSBVOTE_INSTANCE": str(tmp_path)}
    first = Config.from_env(env)
    second = Config.from_env(env)
    assert first.database_url == f"sqlite:///{tmp_path.resolve() / 'ssbvote.sqlite3'}"
    assert len(first.secret_key) == 64
    # Every gunicorn worker must see the same session secret.
    assert first.secret_key == second.secret_key


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="SSBVOTE_ENV"):
        Config.from_env({"SSBVOTE_ENV": "staging"})


def test_production_sets_secure_cookies_and_hsts(tmp_path: Path) -> None:
    config = Config.from_env(prod_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'p.db'}",
                                      SSBVOTE_INSTANCE=str(tmp_path / "inst")))
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/health")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_proxy_hops_and_approval_lifetime_are_read_and_checked(tmp_path: Path) -> None:
    env = {"SSBVOTE_INSTANCE": str(tmp_path)}
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
    ("SSBVOTE_VERIFY_MIN_BATCH", "9"),
])
def test_bad_proxy_hops_or_lifetime_is_refused(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({"SSBVOTE_INSTANCE": str(tmp_path), variable: value})


def test_the_cast_verifier_takes_its_batching_policy_from_the_config(tmp_path: Path) -> None:
    from app.services.voting import verification

    verifier = verification.group_verifier()
    before = (verifier.min_batch, verifier.linger)
    try:
        create_app(Config.from_env({"SSBVOTE_INSTANCE": str(tmp_path), "SSBVOTE_VERIFY_LINGER_MS": "40",
                                    "SSBVOTE_VERIFY_MIN_BATCH": "2"}))
        assert (verifier.min_batch, verifier.linger) == (2, 0.04)
        create_app(Config.from_env({"SSBVOTE_INSTANCE": str(tmp_path)}))
        assert (verifier.min_batch, verifier.linger) == (3, 0.1)
    finally:
        verifier.configure(verifier.max_batch, *before)


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
    dev = Config.from_env({"SSBVOTE_INSTANCE": str(tmp_path / "dev")})
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
