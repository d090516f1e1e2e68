"""Fixtures of the JavaScript tests: headless Chromium (the browser tests) and the committed
512-bit test key's public key (tests/vectors/test_key.json)."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from crypto import PublicKey
from tests.crypto.conftest import VECTORS
from tests.js.support import CHROMIUM_ARGS, DIST
from tests.support.live import chromium, require


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module; the bundle must be built."""
    require((DIST / "manifest.json").exists(), "front-end bundle not built: run ./scripts/setup.sh")
    with chromium(CHROMIUM_ARGS) as launched:
        yield launched


@pytest.fixture(scope="module")
def pk() -> PublicKey:
    data = json.loads((VECTORS / "test_key.json").read_text())
    return PublicKey.from_dict({"n": data["election_key"]["n"]}, allow_insecure_test_key=True)
