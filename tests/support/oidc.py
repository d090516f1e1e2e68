"""A real OpenID Connect provider for the ThaiD tests (docs/accounts.md §8): panva's
``oidc-provider`` (npm, OpenID Certified) started by tests/support/oidc_provider.mjs on a free
port of 127.0.0.1.  The script only configures the package (a client, test accounts carrying
ThaiD's ``pid``/``birthdate``/``ial`` claims, PKCE required); discovery, the authorization
and token endpoints, ID-token signing and the login/consent pages (the package's development
interactions: any password for a configured login) are the package's own.

:func:`drive` walks those pages over HTTP as a browser would, for tests that use Flask's
test client; the browser tests click through them in Chromium.
"""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urljoin

import pytest
import requests

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
PACKAGE = ROOT / "frontend" / "node_modules" / "oidc-provider"
CLIENT_ID = "ssbvote-test"
CLIENT_SECRET = "ssbvote-test-client-secret-0123456789"
_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not PACKAGE.exists():
        return "oidc-provider is not installed (npm ci in frontend/)"
    return None


def start(accounts: dict[str, dict[str, Any]], redirect_uris: list[str], tmp: Path) -> Provider:
    """Start the provider with ``accounts`` (login → claims) and one confidential client."""
    config = {"clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                           "redirect_uris": redirect_uris, "grant_types": ["authorization_code"],
                           "response_types": ["code"],
                           "token_endpoint_auth_method": "client_secret_basic"}],
              "accounts": accounts}
    path = tmp / "oidc-provider.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(["node", str(SCRIPT), str(path)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    log: list[str] = []
    issuer = None
    for line in process.stdout:
        log.append(line)
        if line.startswith("{"):
            issuer = json.loads(line)["issuer"]
            break
    if issuer is None:
        process.kill()
        raise RuntimeError("the OpenID Connect provider did not start:\n" + "".join(log))
    provider = Provider(issuer, process, log)
    # Keep reading its output so that the pipe never fills up.
    threading.Thread(target=lambda: [log.append(x) for x in process.stdout or []],
                     daemon=True).start()
    return provider


def require_provider() -> None:
    reason = available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: missing tools are failures, not skips)")
    pytest.skip(reason)


def running(accounts: dict[str, dict[str, Any]], redirect_uris: list[str],
            tmp: Path) -> Iterator[Provider]:
    require_provider()
    provider = start(accounts, redirect_uris, tmp)
    try:
        yield provider
    finally:
        provider.stop()


def drive(authorization_url: str, login: str, consent: bool = True) -> str:
    """Sign in at the provider as ``login`` (any password) and consent; return the URL the
    provider finally redirects to (our callback, with ``code`` and ``state``)."""
    http = requests.Session()
    url = authorization_url
    for _ in range(12):
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            location = urljoin(url, response.headers["Location"])
            if not location.startswith(authorization_url.split("/auth")[0]):
                return location
            url = location
            continue
        response.raise_for_status()
        match = _ACTION.search(response.text)
        assert match, response.text[:2000]
        action = urljoin(url, match.group(1))
        if 'value="login"' in response.text:
            data = {"prompt": "login", "login": login, "password": "any password"}
        else:
            assert consent, "consent page reached"
            data = {"prompt": "consent"}
        posted = http.post(action, data=data, allow_redirects=False, timeout=10)
        assert posted.status_code in (302, 303), posted.text[:2000]
        url = urljoin(action, posted.headers["Location"])
        if not url.startswith(authorization_url.split("/auth")[0]):
            return url
    raise AssertionError("the provider did not redirect back")
