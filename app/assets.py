"""Front-end bundle lookup with Subresource Integrity for templates.

``npm run build`` (frontend/, run by scripts/setup.sh) writes app/static/dist/ with
``manifest.json`` mapping logical names to ``{"file": ..., "integrity": "sha384-..."}``.
``init_app`` registers the Jinja global ``asset(name)``::

    <script type="module" src="{{ asset('ssbcrypto.js').url }}"
            integrity="{{ asset('ssbcrypto.js').integrity }}"></script>

The manifest is read once and re-read only when its modification time changes (a rebuild
during development).  A missing bundle is a clear error naming the fix, not a broken page.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from flask import Flask, current_app, url_for

MANIFEST = Path("dist") / "manifest.json"
_EXTENSION_KEY = "ssbvote_assets"


class AssetsNotBuilt(RuntimeError):
    """The front-end bundle (app/static/dist/manifest.json) is missing or unreadable."""


@dataclass(frozen=True)
class Asset:
    """One bundled file: ``url`` for src/href, ``integrity`` for the SRI attribute."""

    name: str
    file: str
    url: str
    integrity: str


class AssetManifest:
    """Cached view of app/static/dist/manifest.json."""

    def __init__(self, static_folder: str | Path) -> None:
        self.path = Path(static_folder) / MANIFEST
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._entries: Mapping[str, Mapping[str, str]] = {}

    def entries(self) -> Mapping[str, Mapping[str, str]]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            raise AssetsNotBuilt(
                f"front-end bundle not built ({self.path} is missing): run ./scripts/setup.sh"
            ) from None
        with self._lock:
            if mtime != self._mtime:
                self._entries = self._load()
                self._mtime = mtime
            return self._entries

    def _load(self) -> Mapping[str, Mapping[str, str]]:
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AssetsNotBuilt(f"front-end manifest {self.path} is unreadable ({exc}): run ./scripts/setup.sh") from None
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("file"), str) and str(v.get("integrity", "")).startswith("sha384-")
            for v in data.values()
        ):
            raise AssetsNotBuilt(f"front-end manifest {self.path} is malformed: run ./scripts/setup.sh")
        return data

    def lookup(self, name: str) -> Asset:
        entries = self.entries()
        entry = entries.get(name)
        if entry is None:
            raise KeyError(f"unknown front-end asset {name!r}; the bundle has {sorted(entries)}")
        file = entry["file"]
        return Asset(name=name, file=file, url=url_for("static", filename=f"dist/{file}"), integrity=entry["integrity"])


def asset(name: str) -> Asset:
    """The bundled asset ``name`` (e.g. ``"ssbcrypto.js"``, ``"ssbcrypto-worker.js"``) of the current app."""
    manifest: AssetManifest = current_app.extensions[_EXTENSION_KEY]
    return manifest.lookup(name)


def init_app(app: Flask) -> None:
    """Register ``asset()`` as a Jinja global.  Does not require the bundle at start-up."""
    if app.static_folder is None:  # pragma: no cover - the app factory always has one
        raise RuntimeError("assets: the app has no static folder")
    manifest = AssetManifest(app.static_folder)
    app.extensions[_EXTENSION_KEY] = manifest
    app.jinja_env.globals["asset"] = asset
    if not manifest.path.exists():
        app.logger.warning("front-end bundle missing (%s): run ./scripts/setup.sh", manifest.path)
