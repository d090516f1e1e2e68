"""`ssbvote serve --threads` (docs/operations.md "Casting capacity"): gunicorn gets the threads,
and fewer threads than casts a worker admits at once are refused in one line (a full worker
must still answer 503 "busy" at once)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tools import cli, serve


def test_serve_passes_its_threads_to_gunicorn_and_refuses_too_few(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSBVOTE_WORKERS", raising=False)  # serve sets it: restored after the test
    argv: list[list[str]] = []
    monkeypatch.setattr(serve.os, "execv", lambda executable, args: argv.append(list(args)))
    monkeypatch.setattr(cli, "exec_gunicorn", serve.exec_gunicorn)
    env = {"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(tmp_path), "DATABASE_URL": "",
           "SSBVOTE_CAST_MAX_INFLIGHT": "24"}

    refused = CliRunner().invoke(cli.main, ["serve", "--threads", "24"], env=env)
    assert refused.exit_code == 1 and argv == []
    assert "Error: --threads must be more than SSBVOTE_CAST_MAX_INFLIGHT (24)" in refused.output

    served = CliRunner().invoke(cli.main, ["serve", "--port", "8123", "--threads", "26"], env=env)
    assert served.exit_code == 0, served.output
    [args] = argv
    assert args[args.index("--threads") + 1] == "26" and args[args.index("--workers") + 1] == "2"
    assert args[args.index("--bind") + 1] == "127.0.0.1:8123"


def test_serve_defaults_to_eight_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSBVOTE_WORKERS", raising=False)
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli, "exec_gunicorn", lambda *args: calls.append(args))
    env = {"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(tmp_path), "DATABASE_URL": ""}
    result = CliRunner().invoke(cli.main, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert calls == [("127.0.0.1", 8000, 2, 8)]
