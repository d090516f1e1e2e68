"""Helpers for the JavaScript tests: find node/chromium, call the JS CLI bridge.

The tool a test needs is missing → skip on a developer machine, fail in CI (``CI=true``):
tests/support/live.require.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.live import CHROMIUM, require  # noqa: F401 - benchmarks/ import CHROMIUM from here

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
DIST = ROOT / "app" / "static" / "dist"
CLI = FRONTEND / "scripts" / "ssbcrypto-cli.mjs"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
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
