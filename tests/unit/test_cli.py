"""The officials' CLI (click CliRunner), run against a real SQLite file via the environment."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tools.cli import main
from tests.support.factories import EXAMPLES, national_ids, small_manifest, insured_csv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SSBVOTE_ENV": "test",
        "SSBVOTE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_db_upgrade_and_current(env: dict[str, str]) -> None:
    code, out = run(env, "db", "upgrade")
    assert code == 0 and "database at" in out
    code, out = run(env, "db", "current")
    assert code == 0
    current, head = [line.split(":", 1)[1].strip() for line in out.strip().splitlines()]
    assert current == head != "None"


def test_election_create_and_roll_import(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    code, out = run(env, "election", "create", str(EXAMPLES / "demo-manifest.json"))
    assert code == 0, out
    assert "up to 7 of 228 candidates" in out and "up to 7 of 65 candidates" in out
    code, out = run(env, "roll", "import", "--election", "ssb-demo-2026", str(EXAMPLES / "demo-insured.csv"))
    assert code == 0, out
    assert "imported 40 insured voters" in out


def test_bad_files_exit_nonzero_with_clear_message(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    bad = small_manifest()
    bad["contests"][0]["max_selections"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, out = run(env, "election", "create", str(path))
    assert code == 1
    assert "contests[0].max_selections: must be a whole number of at least 1" in out
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_manifest()))
    assert run(env, "election", "create", str(good))[0] == 0
    ids = national_ids(3)
    roll = tmp_path / "roll.csv"
    roll.write_text(insured_csv(ids).replace(ids[2], ids[2][:12] + str((int(ids[2][12]) + 1) % 10)))
    code, out = run(env, "roll", "import", "--election", "test-election", str(roll))
    assert code == 1
    assert "line 4:" in out and "nothing was imported" in out
    code, out = run(env, "roll", "import", "--election", "no-such", str(roll))
    assert code == 1 and "no election named 'no-such'" in out


def test_demo_setup_prints_logins(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--key-bits", "1024", "--instance", str(tmp_path / "demo")],
        env={"DATABASE_URL": ""}, catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "rolls imported: 40 insured, 12 employers" in result.output
    assert (tmp_path / "demo" / "ssbvote.sqlite3").exists()
    assert "Polls are OPEN" in result.output
    assert len(list((tmp_path / "demo" / "trustees").glob("*.share.json"))) == 3
