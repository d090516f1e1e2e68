"""``ssbvote official add``: creates the official, prints the TOTP secret once, audits it."""
from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from tools.cli import main


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SSBVOTE_ENV": "test",
        "SSBVOTE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    return result.exit_code, result.output


def test_official_add_prints_secret_and_uri(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade")[0] == 0
    code, out = run(env, "official", "add", "--username", "Somchai", "--name", "Somchai J.",
                    "--role", "returning-officer", "--password-stdin",
                    stdin="a long official passphrase\n")
    assert code == 0, out
    lines = out.splitlines()
    secret = lines[[i for i, line in enumerate(lines) if "TOTP secret" in line][0] + 1].strip()
    assert pyotp.TOTP(secret).now().isdigit()
    # A colon in the label becomes a space (app/services/identity/totp.provisioning_uri).
    assert "otpauth://totp/SSB%20Vote:official%20somchai?secret=" + secret in out
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(text("SELECT username, role, password_hash FROM official")).one()
        audit = conn.execute(text("SELECT actor, action, subject FROM audit_entry")).all()
    engine.dispose()
    assert row[0] == "somchai" and row[1] == "returning-officer"
    assert row[2].startswith("$argon2id$") and "passphrase" not in row[2]
    assert ("cli", "official_added", "somchai") in [tuple(a) for a in audit]


def test_official_add_prompts_for_password_twice(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    code, out = run(env, "official", "add", "--username", "admin1", "--name", "A",
                    "--role", "admin", stdin="another long secret\nanother long secret\n")
    assert code == 0, out


@pytest.mark.parametrize("args, stdin, message", [
    (["--role", "admin"], "short\n", "password refused"),
    (["--role", "admin"], "password123\n", "password refused"),
])
def test_official_add_refuses_weak_passwords(env: dict[str, str], args: list[str], stdin: str,
                                             message: str) -> None:
    run(env, "db", "upgrade")
    code, out = run(env, "official", "add", "--username", "weak", "--name", "W", *args,
                    "--password-stdin", stdin=stdin)
    assert code != 0 and message in out


def test_official_add_refuses_duplicates_and_bad_roles(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    args = ["official", "add", "--username", "dup", "--name", "D", "--role", "admin",
            "--password-stdin"]
    assert run(env, *args, stdin="a long official passphrase\n")[0] == 0
    code, out = run(env, *args, stdin="a long official passphrase\n")
    assert code != 0 and "already exists" in out
    code, out = run(env, "official", "add", "--username", "x1", "--name", "X", "--role", "king",
                    "--password-stdin", stdin="a long official passphrase\n")
    assert code != 0
