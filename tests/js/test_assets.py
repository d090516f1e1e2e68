"""app/assets.py: the ``asset()`` Jinja global reading app/static/dist/manifest.json."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from flask import Flask, render_template_string

from app import assets
from tests.js.support import DIST, require


def _app(static: Path) -> Flask:
    app = Flask(__name__, static_folder=str(static), static_url_path="/static")
    assets.init_app(app)
    return app


def _write_manifest(static: Path, integrity: str = "sha384-abc") -> Path:
    (static / "dist").mkdir(parents=True, exist_ok=True)
    path = static / "dist" / "manifest.json"
    path.write_text(json.dumps({"ssbcrypto.js": {"file": "ssbcrypto.js", "integrity": integrity}}))
    return path


def test_asset_url_and_integrity_in_a_template(tmp_path: Path) -> None:
    _write_manifest(tmp_path)
    app = _app(tmp_path)
    with app.test_request_context("/"):
        html = render_template_string(
            '<script type="module" src="{{ asset(\'ssbcrypto.js\').url }}" '
            'integrity="{{ asset(\'ssbcrypto.js\').integrity }}"></script>'
        )
    assert html == '<script type="module" src="/static/dist/ssbcrypto.js" integrity="sha384-abc"></script>'


def test_missing_bundle_names_the_fix(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with app.test_request_context("/"), pytest.raises(assets.AssetsNotBuilt, match=r"run \./scripts/setup\.sh"):
        assets.asset("ssbcrypto.js")


def test_malformed_manifest_and_unknown_name(tmp_path: Path) -> None:
    path = _write_manifest(tmp_path)
    app = _app(tmp_path)
    with app.test_request_context("/"):
        with pytest.raises(KeyError, match="ssbcrypto.js"):
            assets.asset("nope.js")
        path.write_text("{not json")
        os.utime(path, (1, 1))
        with pytest.raises(assets.AssetsNotBuilt, match="unreadable"):
            assets.asset("ssbcrypto.js")


def test_manifest_is_cached_and_reloaded_after_a_rebuild(tmp_path: Path) -> None:
    path = _write_manifest(tmp_path, "sha384-one")
    app = _app(tmp_path)
    with app.test_request_context("/"):
        assert assets.asset("ssbcrypto.js").integrity == "sha384-one"
        manifest = app.extensions["ssbvote_assets"]
        first = manifest.entries()
        assert manifest.entries() is first  # no re-read while unchanged
        _write_manifest(tmp_path, "sha384-two")
        os.utime(path, (2_000_000_000, 2_000_000_000))
        assert assets.asset("ssbcrypto.js").integrity == "sha384-two"


def test_built_manifest_hashes_match_the_files() -> None:
    """The real bundle (scripts/setup.sh → npm run build): SRI hashes are those of the bytes served."""
    require((DIST / "manifest.json").exists(), "front-end bundle not built: run ./scripts/setup.sh")
    manifest = json.loads((DIST / "manifest.json").read_text())
    assert set(manifest) == {"ssbcrypto.js", "ssbcrypto-worker.js", "qr.js"}
    for name, entry in manifest.items():
        digest = hashlib.sha384((DIST / entry["file"]).read_bytes()).digest()
        assert entry["integrity"] == "sha384-" + base64.b64encode(digest).decode(), name
    app = _app(DIST.parent)
    with app.test_request_context("/"):
        worker = assets.asset("ssbcrypto-worker.js")
    assert worker.url == "/static/dist/ssbcrypto-worker.js"
