"""Every package stays mypy --strict clean (docs/style: typed code): the protocol packages
crypto/, election/, verifier/, tally/ and ca/, the web app app/ and the operator tools tools/."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["app", "crypto", "election", "verifier", "tally", "ca", "tools"]


def test_mypy_strict_on_every_package() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", *PACKAGES],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
