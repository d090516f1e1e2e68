"""Helpers for the JavaScript tests: find node/chromium, call the JS CLI bridge.

The tool a test needs is missing → skip on a developer machine, fail in CI (``CI=true``), as
tests/conftest.py does for PostgreSQL.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = ROOT / "app" / "static" / "dist"
CLI = FRONTEND / "scripts" / "ssbcrypto-cli.mjs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools are failures, not skips)")
    pytest.skip(reason)


def node_binary() -> str:
    node = shutil.which("node")
    require(node is not None, "node is not installed")
    assert node is not None
    return node


def run_cli(command: str, request: Any, timeout: float = 300) -> Any:
    """Run ``node frontend/scripts/ssbcrypto-cli.mjs <command>`` with ``request`` as JSON on stdin."""
    proc = subprocess.run(
        [node_binary(), str(CLI), command],
        input=json.dumps(request, ensure_ascii=False).encode("utf-8"),
        capture_output=True, timeout=timeout, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)
