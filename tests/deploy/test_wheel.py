"""The wheel is self-contained (issue 20): built from a copy of the source (setup.py's hook runs
npm for the browser bundle and copies the demo data), installed without the source tree into a
fresh virtualenv, then — from an empty folder, without PYTHONPATH — ``ssbvote demo --no-serve``,
``ssbvote simulate`` (no ``--manifest``) and ``ssbvote serve`` work.

To stay fast and offline beyond PyPI, the wheel goes in with ``--no-deps`` and the new
virtualenv sees the dependencies through one ``.pth`` line naming this interpreter's
site-packages (a plain path entry: the editable ``ssbvote`` install there is *not* activated,
so only the wheel's code can be imported), and the frontend build reuses frontend/node_modules.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import IN_CI
from tools.serve import free_port

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.wheel]
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "instance",
                                     "test-artifacts", "__pycache__", "*.egg-info", ".mypy_cache",
                                     ".pytest_cache", ".hypothesis", "*.sqlite3")


def _need_npm() -> None:
    if shutil.which("npm") is None or not (REPO / "frontend" / "node_modules").exists():
        if IN_CI:
            pytest.fail("npm and frontend/node_modules are required in CI (scripts/setup.sh)")
        pytest.skip("npm or frontend/node_modules missing")


def _clean_env(venv: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "DATABASE_URL", "SSBVOTE_DATABASE_URL", "VIRTUAL_ENV"}
           and not k.startswith("SSBVOTE_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding only the wheel's ssbvote; returns its folder."""
    _need_npm()
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(REPO, source, ignore=COPY_IGNORE)
    (source / "frontend" / "node_modules").symlink_to((REPO / "frontend" / "node_modules").resolve())
    wheels = base / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("ssbvote-*.whl")
    shutil.rmtree(source)  # nothing may come from the source tree from here on
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_ssbvote_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(deps)))
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                              "install", "--no-deps", "--ignore-installed", "-q", str(wheel)], capture_output=True, text=True,
                             timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


def test_the_wheel_holds_the_bundle_the_demo_data_and_the_wsgi_entry(installed: Path, tmp_path: Path) -> None:
    probe = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import app, app.wsgi, tools.paths, json, pathlib; "
         "print(app.__file__); print(tools.paths.examples_dir()); "
         "print(sorted(json.loads((pathlib.Path(app.__file__).parent / 'static/dist/manifest.json').read_text())))"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        # Importing app.wsgi builds the app: production unless development is asked for.
        env=_clean_env(installed, SSBVOTE_ENV="development", SSBVOTE_INSTANCE=str(tmp_path / "i")))
    assert probe.returncode == 0, probe.stderr
    app_file, examples, bundles = probe.stdout.strip().splitlines()[-3:]
    assert app_file.startswith(str(installed)), app_file  # the wheel's code, not the checkout's
    assert examples.startswith(str(installed)) and examples.endswith("tools/examples")
    assert bundles == "['qr.js', 'ssbcrypto-worker.js', 'ssbcrypto.js']"


def test_demo_simulate_and_serve_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    env = _clean_env(installed)
    ssbvote = str(installed / "bin" / "ssbvote")

    demo = subprocess.run([ssbvote, "demo", "--no-serve", "--key-bits", "1024"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Polls are OPEN" in demo.stdout
    assert (folder / "instance" / "demo" / "ssbvote.sqlite3").is_file()

    # The printed rule points the officials' CLI at the demo's database.
    cli_env = {**env, "SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": "instance/demo"}
    verify = subprocess.run([ssbvote, "board", "verify", "--election", "ssb-demo-2026"], cwd=folder,
                            env=cli_env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stdout + verify.stderr

    simulate = subprocess.run([ssbvote, "simulate", "--record", "record", "--insured", "4", "--employers", "2",
                               "--paper", "1", "--key-bits", "1024", "--quiet", "--processes", "2"],
                              cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert simulate.returncode == 0, simulate.stdout[-3000:] + simulate.stderr[-3000:]
    assert "The published result equals the voters' intent and the record verifies." in simulate.stdout

    port = free_port()
    server = subprocess.Popen([ssbvote, "serve", "--port", str(port), "--workers", "1"], cwd=folder,
                              env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(base + "/health", timeout=5)
                break
            except requests.RequestException:
                assert server.poll() is None and time.monotonic() < deadline, "ssbvote serve did not start"
                time.sleep(0.3)
        assert health.status_code == 200, health.text
        login = requests.get(base + "/insured/login", timeout=10)
        assert login.status_code == 200
        bundle = requests.get(base + "/static/dist/ssbcrypto.js", timeout=10)
        assert bundle.status_code == 200 and len(bundle.content) > 10_000
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_build_without_npm_stops_with_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    hook = runpy.run_path(str(REPO / "setup.py"), run_name="ssbvote_setup_hook")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(SystemExit) as stopped:
        hook["build_frontend"]()
    assert "needs npm" in str(stopped.value) and "apt-get install nodejs npm" in str(stopped.value)
