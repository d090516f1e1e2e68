"""crypto/, election/, verifier/, tally/ and ca/ stay mypy --strict clean (docs/style: typed protocol code)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_strict_on_protocol_packages() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "crypto", "election", "verifier", "tally", "ca"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
