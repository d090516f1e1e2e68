"""The officials' CLI works on the server's database by one rule (DATABASE_URL, else
<SSBVOTE_INSTANCE>/ssbvote.sqlite3), never creates an empty one by accident, and answers a
missing or foreign database with one line, not a traceback (issue 20)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from tools.cli import main


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def one_line_error(out: str) -> str:
    lines = [line for line in out.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("Error: "), out
    assert "Traceback" not in out
    return lines[0]


def test_a_missing_database_is_refused_and_not_created(tmp_path: Path) -> None:
    env = {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "instance"), "DATABASE_URL": ""}
    for args in (["board", "verify", "--election", "ssb-demo-2026"], ["official", "keys"],
                 ["db", "current"]):
        code, out = run(env, *args)
        assert code == 1
        line = one_line_error(out)
        assert str(tmp_path / "instance" / "ssbvote.sqlite3") in line
    assert not (tmp_path / "instance" / "ssbvote.sqlite3").exists()


def test_a_database_without_the_schema_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.close()
    env = {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "i"), "DATABASE_URL": f"sqlite:///{path}"}
    code, out = run(env, "board", "verify", "--election", "ssb-demo-2026")
    assert code == 1
    assert "has no SSB Vote schema" in one_line_error(out)  # not "no such table: election"


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    env = {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": str(tmp_path / "i"),
           "DATABASE_URL": "postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/ssbvote"}
    code, out = run(env, "official", "keys")
    assert code == 1
    line = one_line_error(out)
    assert "cannot open the database" in line and "secret-pw" not in line


def test_after_the_demo_the_cli_finds_its_database_by_the_printed_rule(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--key-bits", "1024", "--instance", str(demo)],
                                env={"DATABASE_URL": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"export SSBVOTE_INSTANCE={demo}" in result.output
    env = {"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(demo), "DATABASE_URL": ""}
    code, out = run(env, "board", "verify", "--election", "ssb-demo-2026")
    assert code == 0 and "board of ssb-demo-2026: 0 entries, chain intact" in out, out
    code, out = run(env, "board", "verify", "--election", "no-such")
    assert code == 1 and "no election named 'no-such'" in one_line_error(out)
