"""Wheel build hook (pyproject.toml has the metadata): the wheel ships what ``ssbvote`` needs at
run time that is not Python source —

- the browser bundle ``app/static/dist/`` (built here from ``frontend/`` with npm: the wheel's
  ballot page must carry the bundle of the source it was built from, never a stale one), and
- the demo election ``examples/`` as ``tools/examples/`` (``ssbvote demo`` and ``ssbvote simulate``
  read it through :func:`tools.paths.examples_dir`), and
- the deployment files ``deploy/`` as ``tools/deploy/`` (``ssbvote deploy nginx`` renders them).

A build without npm stops with one clear error instead of a wheel whose ballot page cannot encrypt.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
DIST = ROOT / "app" / "static" / "dist"
EXAMPLES = ROOT / "examples"


class NpmMissing(SystemExit):
    pass


def build_frontend() -> None:
    """``npm ci`` (only if frontend/node_modules is missing) then ``npm run build`` into
    app/static/dist/."""
    if not (FRONTEND / "package.json").is_file():  # building from an sdist without frontend/
        if (DIST / "manifest.json").is_file():
            return
        raise SystemExit("error: neither frontend/ nor a built app/static/dist/ is present")
    npm = shutil.which("npm")
    if npm is None:
        raise NpmMissing(
            "error: building the ssbvote wheel needs npm (Node.js >= 20.19) to bundle the in-browser "
            "ballot encryption (frontend/ -> app/static/dist/). Install it, e.g. "
            "'apt-get install nodejs npm', and build again.")
    if not (FRONTEND / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "--silent", "build"], cwd=FRONTEND, check=True)
    if not (DIST / "manifest.json").is_file():
        raise SystemExit("error: 'npm run build' did not write app/static/dist/manifest.json")


class BuildWithAssets(build_py):
    def run(self) -> None:
        if os.environ.get("SSBVOTE_SKIP_FRONTEND_BUILD") != "1":
            build_frontend()
        elif not (DIST / "manifest.json").is_file():
            raise SystemExit("error: SSBVOTE_SKIP_FRONTEND_BUILD=1 but app/static/dist/ is not built")
        super().run()
        if not self.dry_run:
            target = Path(self.build_lib)
            shutil.copytree(DIST, target / "app" / "static" / "dist", dirs_exist_ok=True)
            shutil.copytree(EXAMPLES, target / "tools" / "examples", dirs_exist_ok=True)
            shutil.copytree(ROOT / "deploy", target / "tools" / "deploy", dirs_exist_ok=True)


if __name__ == "__main__":  # setuptools' build backend runs this file as __main__
    setup(cmdclass={"build_py": BuildWithAssets})
