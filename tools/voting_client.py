"""A Python voting client that talks to the server over real HTTP, as a browser does.

Used by the simulator and the end-to-end tests: it registers (with an activation code) or signs in with password + TOTP
through the HTML forms (with their CSRF tokens), fetches the ballot context, encrypts and
proves with ``crypto/`` on the client side, casts through the JSON API, and can audit a ballot
(the Benaloh challenge, docs/protocol.md §14) and check an audit code as a second device would.
The server never sees a choice of a cast ballot.

Record format version 3 (docs/protocol.md §4.4, §14): every encryption gets a fresh seed from
the CSPRNG (:func:`fresh_seed`).  An audited ballot's seed is posted with it and published; a
cast ballot's seed is used for the encryption only, never sent, never returned, never kept on
any object, and its bytes are overwritten as soon as the ballot is encrypted (Python cannot
promise that no copy of them survives in freed memory; the official software never offers one).
The receipt is the tracker (docs/record.md §2.5).

Record format version 2 (docs/record.md §2.0, docs/protocol.md §13): the client holds the
voter's credential (from the CA's letter) and the CA's public key *as the user gives it* (not
the server's word).  Before encrypting it checks the pins: the opening object must be signed
by that CA key, be of this election and pin the SHA-256 of the election key it was given;
otherwise it refuses (:class:`PinsMismatch`).  It encrypts for the ballot party
``<pseudonym>/<credential>``, signs the ballot statement with ``previous`` (the credential's
current ballot), and checks the receipt: signed by the board key pinned in the opening, under
the opening hash, naming its ballot hash.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Sequence

import pyotp
import requests

from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, encrypt_contest, open_ballot
from crypto.credential import (audit_statement, ballot_party, ballot_statement, public_credential, sign_audit,
                               sign_ballot, voter_key)
from crypto.encoding import canonical_json
from election import authority
from election import receipt as receipt_code
from election.signed import verify

_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')  # shown in groups of 4
PREFIX = {"insured": "/insured", "employer": "/employer"}


class ClientError(RuntimeError):
    """The server refused a step; ``status`` and ``body`` say why."""

    def __init__(self, message: str, status: int = 0, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


class PinsMismatch(ClientError):
    """The election's keys are not the ones the CA pinned (docs/record.md §2.0): nothing was
    encrypted or sent."""


class ReceiptInvalid(ClientError):
    """The server's receipt does not check out (signature, opening, ballot hash)."""


#: 409 stale_previous answers (another device cast meanwhile) the client re-signs for.
STALE_RETRIES = 5


def check_pins(context: dict[str, Any], ca_key: str) -> str:
    """The opening hash, if the context's opening object is signed by ``ca_key`` (the CA key the
    user gave, 64 hex), is of the context's election and pins the SHA-256 of the election key
    the context gives; :class:`PinsMismatch` otherwise (docs/record.md §2.0)."""
    opening = context.get("opening")
    if not isinstance(opening, dict) or authority.check_opening(opening):
        raise PinsMismatch("the server gave no well-formed opening object")
    if opening["ca_key"] != ca_key or not verify(opening, ca_key):
        raise PinsMismatch("the opening object is not signed by the credential authority's key")
    if opening["election_id"] != context.get("election_id"):
        raise PinsMismatch("the opening object is of another election")
    if authority.object_hash(context.get("election_key") or {}) != opening["election_key"]:
        raise PinsMismatch("the election key is not the one the credential authority pinned")
    opening_hash = authority.object_hash(opening)
    if context.get("opening_hash") not in (None, opening_hash):
        raise PinsMismatch("the opening hash the server gives is not the opening's")
    return opening_hash


def fresh_seed() -> bytearray:
    """A fresh 32-byte seed from the CSPRNG for one encryption (docs/protocol.md §4.4), as a
    bytearray so that it can be overwritten after use (:func:`_erase`)."""
    return bytearray(secrets.token_bytes(32))


def _erase(seed: bytearray) -> None:
    """Overwrite a cast ballot's seed in place (docs/protocol.md §4.4)."""
    for i in range(len(seed)):
        seed[i] = 0


@dataclass(frozen=True)
class CastReceipt:
    """What the voter keeps after casting: the signed receipt (its tracker) and the choices the
    voter made (the voter knows them).  No seed (docs/record.md §2.5)."""

    receipt: dict[str, Any]
    selections: tuple[int, ...]

    @property
    def seq(self) -> int:
        return int(self.receipt["seq"])

    @property
    def ballot_hash(self) -> str:
        return str(self.receipt["ballot_hash"])

    @property
    def qr_text(self) -> str:
        """The receipt's QR text: the tracker (docs/record.md §2.5)."""
        return receipt_code.tracker_text(self.seq, self.ballot_hash)


@dataclass(frozen=True)
class AuditResult:
    """An accepted audit: its audit code for a second device (docs/protocol.md §14.4)."""

    code: str
    seq: int
    ballot_hash: str
    selections: tuple[int, ...]


class VotingClient:
    """``credential``: the voter's credential text (the CA's letter); ``ca_key``: the CA's public
    key (64 hex) as the user got it from the CA, checked against the opening before encrypting.
    Both are needed to cast, not to register or sign in."""

    def __init__(self, base_url: str, kind: str, *, credential: str | None = None, ca_key: str | None = None,
                 allow_insecure_test_key: bool = False, timeout: float = 60, processes: int | None = None,
                 busy_retries: int = 10):
        if kind not in PREFIX:
            raise ValueError("kind must be 'insured' or 'employer'")
        self.base = base_url.rstrip("/")
        self.kind = kind
        self.credential = credential
        self.ca_key = ca_key.lower() if ca_key else None
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
        # As a browser does: over HTTPS Flask-WTF wants a same-origin Referer on a form post.
        return self.http.post(self.base + path, data={**data, "csrf_token": match.group(1)},
                              headers={"Referer": self.base + path},
                              timeout=self.timeout, allow_redirects=False)

    def _expect_redirect(self, response: requests.Response, step: str) -> str:
        if response.status_code != 302:
            raise ClientError(f"{step} refused", response.status_code, response.text[-2000:])
        return response.headers["Location"]

    def register(self, voter_key: str, activation_code: str, password: str) -> str:
        """Register with the activation code sent to the voter (docs/accounts.md §9) and enrol
        TOTP; returns the TOTP secret. Leaves the client signed in."""
        prefix = PREFIX[self.kind]
        self._expect_redirect(self._submit(f"{prefix}/register", {
            "voter_key": voter_key, "code": activation_code, "password": password,
            "confirm": password}), "registration")
        match = _SECRET.search(self._get(f"{prefix}/enrol").text)
        if not match:
            raise ClientError("no TOTP secret on the enrolment page")
        secret = match.group(1).replace(" ", "")
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
        """The ballot context, its pins checked (:func:`check_pins`) when the client has a CA
        key; ``opening_hash`` is then the hash the client computed itself."""
        response = self._get(f"/api/elections/{slug}/ballot")
        if response.status_code != 200:
            raise ClientError("cannot fetch the ballot", response.status_code, response.text)
        context: dict[str, Any] = response.json()
        if self.ca_key is not None:
            context["opening_hash"] = check_pins(context, self.ca_key)
        return context

    def _key(self, context: dict[str, Any]) -> Any:
        """The voter's credential key; refuses one that is not the registered credential."""
        if self.credential is None or self.ca_key is None:
            raise ClientError("casting needs the voter's credential and the CA's public key")
        key = voter_key(self.credential, context["election_id"])
        if public_credential(key) != context.get("credential"):
            raise ClientError("this credential is not the one registered for this voter")
        return key

    def _statement(self, context: dict[str, Any], selections: Sequence[int]) -> ContestStatement:
        if self.ca_key is not None:
            check_pins(context, self.ca_key)
        self._key(context)
        key = ElectionPublicKey.from_dict(context["election_key"],
                                          allow_insecure_test_key=self.allow_insecure_test_key)
        return ContestStatement(key.public_key, context["election_id"], context["contest"]["id"],
                                ballot_party(context["pseudonym"], context["credential"]),
                                len(selections), context["contest"]["max_selections"])

    def cast(self, slug: str, selections: Sequence[int], context: dict[str, Any] | None = None) -> CastReceipt:
        """Encrypt ``selections`` (0/1 per candidate, manifest order) here with a fresh seed, sign
        and cast it; the seed is erased right after the encryption (docs/protocol.md §4.4).

        The pins are checked (and the credential matched) before anything is encrypted.  A
        given ``context`` is updated after the cast (its ``previous``), so that it serves the
        voter's next cast too."""
        context = context if context is not None else self.ballot_context(slug)
        statement = self._statement(context, selections)
        seed = fresh_seed()
        try:
            ballot = encrypt_contest(statement, list(selections), bytes(seed), processes=self.processes)
        finally:
            _erase(seed)
            del seed
        return self.cast_prepared(slug, context["contest"]["id"], ballot.to_dict(), tuple(selections), context)

    def audit(self, slug: str, selections: Sequence[int], context: dict[str, Any] | None = None) -> AuditResult:
        """Encrypt ``selections`` with a fresh seed and audit that encryption (docs/protocol.md
        §14.1 step 3): sign the audit statement, post the ballot with its seed; returns the
        audit code.  The ballot is never cast; the voter's next :meth:`cast` encrypts again."""
        context = context if context is not None else self.ballot_context(slug)
        statement = self._statement(context, selections)
        seed = bytes(fresh_seed())
        ballot = encrypt_contest(statement, list(selections), seed, processes=self.processes).to_dict()
        key = self._key(context)
        digest = hashlib.sha256(canonical_json(ballot)).hexdigest()
        signed = audit_statement(context["election_id"], context["opening_hash"], context["contest"]["id"],
                                 context["pseudonym"], context["credential"], digest, seed.hex())
        body = {"contest": context["contest"]["id"], "ballot": ballot, "credential": context["credential"],
                "seed": seed.hex(), "signature": sign_audit(signed, key)}
        response = self._post(slug, "audit", self._api_headers(), body)
        if response.status_code != 201:
            raise ClientError(f"audit refused ({response.status_code})", response.status_code, _body(response))
        answer = response.json()
        if answer.get("ballot_hash") != digest or answer.get("code") != receipt_code.audit_code(answer["seq"], digest):
            raise ReceiptInvalid("the server's audit answer does not name the audited ballot", body=answer)
        return AuditResult(answer["code"], answer["seq"], digest, tuple(selections))

    def check_audit(self, slug: str, code: str, election_key: dict[str, Any]) -> list[int]:
        """What a second device does with an audit code (docs/protocol.md §14.4): fetch the audit
        entry and its ballot (no sign-in), check the entry is an audit of the code's hash and the
        ballot hashes to it, and open the ballot with the entry's seed; returns the choices.
        ``election_key``: the election key (docs/protocol.md §9.2) the device trusts."""
        ref = receipt_code.parse_audit_code(code)
        response = self.http.get(f"{self.base}/api/elections/{slug}/audits/{ref.seq}", timeout=self.timeout)
        if response.status_code != 200:
            raise ClientError("audit check refused", response.status_code, _body(response))
        answer = response.json()
        entry, ballot_dict = answer["entry"], answer["ballot"]
        if entry.get("kind") != "audit" or entry.get("seq") != ref.seq or entry.get("ballot_hash") != ref.ballot_hash:
            raise ClientError("the board's entry is not the audit of this code", body=answer)
        if hashlib.sha256(canonical_json(ballot_dict)).hexdigest() != ref.ballot_hash:
            raise ClientError("the ballot does not hash to the code's tracker", body=answer)
        key = ElectionPublicKey.from_dict(election_key, allow_insecure_test_key=self.allow_insecure_test_key)
        ballot = EncryptedContest.from_dict(ballot_dict, key.public_key)
        statement = ContestStatement(key.public_key, entry["election_id"], entry["contest"],
                                     ballot_party(entry["pseudonym"], entry["credential"]),
                                     len(ballot.ciphertexts), len(ballot.sum_proof.commitments) - 1)  # its own shape
        return open_ballot(statement, ballot, bytes.fromhex(entry["seed"]))

    def tracker(self, slug: str, tracker: str) -> dict[str, Any]:
        """The tracker lookup (docs/record.md §2.6): ``tracker`` is the receipt's QR text or a
        full ballot hash; returns {"seq", "kind", "status"}."""
        if receipt_code.is_ballot_hash(tracker):
            ballot_hash, seq = tracker, None
        else:
            ref = receipt_code.parse_tracker(tracker)
            ballot_hash, seq = ref.ballot_hash, ref.seq
        response = self.http.get(f"{self.base}/api/elections/{slug}/trackers/{ballot_hash}", timeout=self.timeout)
        if response.status_code != 200:
            raise ClientError("tracker lookup refused", response.status_code, _body(response))
        answer: dict[str, Any] = response.json()
        if seq is not None and answer.get("seq") != seq:
            raise ClientError(f"the tracker is at position {answer.get('seq')}, not {seq}", body=answer)
        return answer

    def signed_body(self, context: dict[str, Any], contest_id: str, ballot: dict[str, Any]) -> dict[str, Any]:
        """The cast request: the ballot and the voter's signature of the protocol.md §13.3
        statement with the context's ``previous`` (no seed, nothing derived from it: §4.4)."""
        key = self._key(context)
        digest = hashlib.sha256(canonical_json(ballot)).hexdigest()
        statement = ballot_statement(context["election_id"], context["opening_hash"], contest_id,
                                     context["pseudonym"], context["credential"], digest,
                                     previous=context.get("previous") or "")
        return {"contest": contest_id, "ballot": ballot,
                "credential": context["credential"], "previous": statement["previous"],
                "signature": sign_ballot(statement, key)}

    def cast_prepared(self, slug: str, contest_id: str, ballot: dict[str, Any],
                      selections: tuple[int, ...] = (), context: dict[str, Any] | None = None) -> CastReceipt:
        """Cast an already encrypted ballot (the load test casts pre-made ballots, made for the
        party ``<pseudonym>/<credential>``), signing it now; re-signs after a 409
        ``stale_previous`` (another device cast meanwhile)."""
        context = context if context is not None else self.ballot_context(slug)
        headers = self._api_headers()
        for _stale in range(STALE_RETRIES + 1):
            body = self.signed_body(context, contest_id, ballot)
            response = self._post(slug, "cast", headers, body)
            if response.status_code == 409 and _error_code(response) == "stale_previous":
                fresh = self.ballot_context(slug)
                if fresh.get("opening_hash") != context.get("opening_hash"):
                    raise PinsMismatch("the opening changed while casting")
                context["previous"] = fresh.get("previous") or ""
                continue
            break
        if response.status_code != 201:
            raise ClientError(f"cast refused ({response.status_code})", response.status_code, _body(response))
        receipt = response.json()["receipt"]
        self.check_receipt(receipt, context, hashlib.sha256(canonical_json(ballot)).hexdigest())
        context["previous"] = receipt["ballot_hash"]
        return CastReceipt(receipt, selections)

    def _post(self, slug: str, action: str, headers: dict[str, str], body: dict[str, Any]) -> requests.Response:
        # The canonical JSON of the request (docs/record.md §2.6: the server finds the ballot's
        # canonical bytes in place instead of decoding and re-encoding it).
        data = canonical_json(body)
        headers = {**headers, "Content-Type": "application/json"}
        for _attempt in range(self.busy_retries + 1):
            response = self.http.post(f"{self.base}/api/elections/{slug}/{action}", headers=headers,
                                      data=data, timeout=self.timeout)
            if response.status_code != 503:
                break
            # Busy (app/services/voting/admission.py): nothing was stored; wait as told and resend.
            time.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 30.0))
        return response

    @staticmethod
    def check_receipt(receipt: dict[str, Any], context: dict[str, Any], ballot_hash: str) -> None:
        """The receipt is signed by the board key pinned in the opening (record.md §2.5), under
        the opening hash, for this voter, credential and ballot; :class:`ReceiptInvalid` if not."""
        opening = context.get("opening") or {}
        if receipt.get("type") != "ssbvote-receipt" or not verify(receipt, str(opening.get("board_key", ""))):
            raise ReceiptInvalid("the receipt is not signed by the pinned board key", body=receipt)
        expected = {"election_id": context["election_id"], "opening": context["opening_hash"],
                    "pseudonym": context["pseudonym"], "credential": context["credential"],
                    "ballot_hash": ballot_hash}
        wrong = [name for name, value in expected.items() if receipt.get(name) != value]
        if wrong:
            raise ReceiptInvalid("the receipt's " + ", ".join(wrong) + " differ from the cast ballot's",
                                 body=receipt)


def _body(response: requests.Response) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def _error_code(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
