"""A Python voting client that talks to the server over real HTTP, as a browser does.

Used by the simulator and the end-to-end tests: it registers or signs in with password + TOTP
through the HTML forms (with their CSRF tokens), fetches the ballot context, encrypts and
proves with ``crypto/`` on the client side, casts through the JSON API and can run the
cast-as-intended check with the receipt's seed. The server never sees a choice.
"""
from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Sequence

import pyotp
import requests

from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, encrypt_contest, recover_selections
from election import receipt as receipt_code

_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
PREFIX = {"insured": "/insured", "employer": "/employer"}


class ClientError(RuntimeError):
    """The server refused a step; ``status`` and ``body`` say why."""

    def __init__(self, message: str, status: int = 0, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class CastReceipt:
    receipt: dict[str, Any]
    seed: bytes
    selections: tuple[int, ...]

    @property
    def seq(self) -> int:
        return int(self.receipt["seq"])

    @property
    def qr_text(self) -> str:
        return receipt_code.qr_text(self.seq, self.seed)


class VotingClient:
    def __init__(self, base_url: str, kind: str, *, allow_insecure_test_key: bool = False,
                 timeout: float = 60, processes: int | None = None, busy_retries: int = 10):
        if kind not in PREFIX:
            raise ValueError("kind must be 'insured' or 'employer'")
        self.base = base_url.rstrip("/")
        self.kind = kind
        self.http = requests.Session()
        self.timeout = timeout
        self.allow_insecure_test_key = allow_insecure_test_key
        self.processes = processes
        self.busy_retries = busy_retries

    # --- pages and forms -------------------------------------------------------------------
    def _get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=self.timeout)

    def _submit(self, path: str, data: dict[str, str]) -> requests.Response:
        page = self._get(path)
        match = _CSRF_INPUT.search(page.text)
        if page.status_code != 200 or not match:
            raise ClientError(f"GET {path} gave no form", page.status_code)
        return self.http.post(self.base + path, data={**data, "csrf_token": match.group(1)},
                              timeout=self.timeout, allow_redirects=False)

    def _expect_redirect(self, response: requests.Response, step: str) -> str:
        if response.status_code != 302:
            raise ClientError(f"{step} refused", response.status_code, response.text[-2000:])
        return response.headers["Location"]

    def register(self, voter_key: str, attribute: str, password: str) -> str:
        """Register and enrol TOTP; returns the TOTP secret. Leaves the client signed in."""
        prefix = PREFIX[self.kind]
        self._expect_redirect(self._submit(f"{prefix}/register", {
            "voter_key": voter_key, "attribute": attribute, "password": password,
            "confirm": password}), "registration")
        match = _SECRET.search(self._get(f"{prefix}/enrol").text)
        if not match:
            raise ClientError("no TOTP secret on the enrolment page")
        secret = match.group(1)
        self._expect_redirect(self._submit(f"{prefix}/enrol", {"code": pyotp.TOTP(secret).now()}),
                              "TOTP enrolment")
        return secret

    def login(self, voter_key: str, password: str, totp_secret: str) -> None:
        prefix = PREFIX[self.kind]
        self._expect_redirect(self._submit(f"{prefix}/login", {"login_id": voter_key,
                                                                "password": password}), "sign-in")
        self._expect_redirect(self._submit(f"{prefix}/login/code",
                                           {"code": pyotp.TOTP(totp_secret).now()}), "TOTP code")

    # --- voting ----------------------------------------------------------------------------
    def _api_headers(self) -> dict[str, str]:
        match = _CSRF_META.search(self._get(f"{PREFIX[self.kind]}/").text)
        if not match:
            raise ClientError("not signed in (no CSRF token on the home page)")
        return {"X-CSRFToken": match.group(1), "Referer": self.base + "/"}

    def ballot_context(self, slug: str) -> dict[str, Any]:
        response = self._get(f"/api/elections/{slug}/ballot")
        if response.status_code != 200:
            raise ClientError("cannot fetch the ballot", response.status_code, response.text)
        return response.json()  # type: ignore[no-any-return]

    def cast(self, slug: str, selections: Sequence[int], context: dict[str, Any] | None = None,
             seed: bytes | None = None) -> CastReceipt:
        """Encrypt ``selections`` (0/1 per candidate, manifest order) here and cast it."""
        context = context or self.ballot_context(slug)
        key = ElectionPublicKey.from_dict(context["election_key"],
                                          allow_insecure_test_key=self.allow_insecure_test_key)
        contest = context["contest"]
        seed = seed or secrets.token_bytes(32)
        statement = ContestStatement(key.public_key, context["election_id"], contest["id"], context["pseudonym"],
                                     len(selections), contest["max_selections"])
        ballot = encrypt_contest(statement, list(selections), seed, processes=self.processes)
        return self.cast_prepared(slug, contest["id"], ballot.to_dict(), seed, tuple(selections))

    def cast_prepared(self, slug: str, contest_id: str, ballot: dict[str, Any], seed: bytes,
                      selections: tuple[int, ...] = ()) -> CastReceipt:
        """Cast an already encrypted ballot (the load test casts pre-made ballots)."""
        body: dict[str, Any] = {"contest": contest_id, "ballot": ballot,
                                "check_token": receipt_code.check_token(seed)}
        headers = self._api_headers()
        for _attempt in range(self.busy_retries + 1):
            response = self.http.post(f"{self.base}/api/elections/{slug}/cast", headers=headers,
                                      json=body, timeout=self.timeout)
            if response.status_code != 503:
                break
            # Busy (app/services/voting/admission.py): nothing was stored; wait as told and resend.
            time.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 30.0))
        if response.status_code != 201:
            refusal = response.json() if response.headers.get("content-type", "").startswith(
                "application/json") else response.text
            raise ClientError(f"cast refused ({response.status_code})", response.status_code, refusal)
        return CastReceipt(response.json()["receipt"], seed, selections)

    def check(self, slug: str, qr_text: str) -> list[int]:
        """The cast-as-intended check: fetch the ballot with the receipt code, open it here."""
        code = receipt_code.parse_qr(qr_text)
        response = self.http.post(f"{self.base}/api/elections/{slug}/check",
                                  json={"seq": code.seq, "token": receipt_code.check_token(code.seed)},
                                  timeout=self.timeout)
        if response.status_code != 200:
            raise ClientError("check refused", response.status_code, response.json())
        body = response.json()
        key = ElectionPublicKey.from_dict(body["election_key"],
                                          allow_insecure_test_key=self.allow_insecure_test_key)
        ballot = EncryptedContest.from_dict(body["ballot"], key.public_key)
        statement = ContestStatement(key.public_key, body["election_id"], body["contest"], body["pseudonym"],
                                     len(ballot.ciphertexts), len(ballot.sum_proof.commitments) - 1)  # its own shape
        return recover_selections(statement, ballot, code.seed)
