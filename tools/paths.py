"""Where the demo election's files are: ``examples/`` in a source checkout, ``tools/examples/``
in an installed wheel (setup.py copies them there)."""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def examples_dir() -> Path:
    """The folder holding demo-manifest.json, demo-insured.csv and demo-employers.csv."""
    packaged = _HERE / "examples"
    if (packaged / "demo-manifest.json").is_file():
        return packaged
    return _HERE.parent / "examples"
