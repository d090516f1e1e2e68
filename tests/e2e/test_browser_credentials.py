"""Credentials, pins and signed receipts in a real browser (issue 15; docs/protocol.md §13,
docs/record.md §2.0, §2.4, §2.5), headless Chromium.

Part A — the pages against a scripted API.  The real templates and page scripts, served by the
app, with the JSON API answered by this test (Playwright routes): the test holds the CA key,
the board key and the credentials, so it can make the server misbehave in ways a real server
cannot be made to (a swapped election key, a stale ``previous``, a receipt for another ballot)
and check every signature the page makes with the Python reference (crypto/credential.py).

Part B — end to end against the real v2 server (the module's own live election of
tests/e2e/conftest.py, with the officials' credentials): voters in Thai and English type
their credential and cast, receipt ✓; another voter's credential and a mistyped one are
refused; two tabs of one voter cast, the first is refused 409 stale_previous and signs again; a
swapped election key in the database makes the page refuse to encrypt; two officials sign the
paper-vote list in the browser (last: it closes the polls).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, render_template

from app.views.ballot import Group
from crypto.credential import (
    ballot_party, credential_from_data, format_credential, official_key, public_credential, voter_key,
    verify_audit_signature, verify_ballot_signature, credential_qr_text,
)
from crypto.encoding import canonical_json
from election import authority
from election.board import paper_list_digest, paper_overrides
from election.signed import public_key_dict, sign
from tests.conftest import build_app, make_config
from tests.e2e.conftest import (
    AXE, CHROMIUM_ARGS, SCREENSHOTS, LiveElection, VoterLogin, opened_sessions, sign_in_at,
)
from tests.support.auth_client import FAST_ARGON2
from tests.support.live import chromium, require, serving
from tests.e2e.test_browser_voting import tick

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TEST_KEY = json.loads((ROOT / "tests" / "vectors" / "test_key.json").read_text(encoding="utf-8"))["election_key"]
ELECTION_ID = hashlib.sha256(b"ssbvote browser credential test").hexdigest()
SLUG = "cred-test"
DESKTOP = {"width": 1280, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def seeded_credential(seed: str) -> str:
    """A credential (28 symbols) with data symbols from ``seed`` (deterministic test credentials)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    digest = hashlib.sha256(seed.encode()).digest()
    return credential_from_data("".join(alphabet[b & 31] for b in digest[:26]))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Part A: the scripted API -----------------------------------------------------------------
@dataclass
class Script:
    """The election as the scripted server sees it, and what the page sent it."""

    ca: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    board: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    credential: str = field(default_factory=lambda: seeded_credential("voter one"))
    pseudonym: str = "0123456789abcdef0123456789abcdef"
    election_key: dict[str, Any] = field(default_factory=lambda: dict(TEST_KEY))
    pinned_key: dict[str, Any] = field(default_factory=lambda: dict(TEST_KEY))
    previous: str = ""
    stale_once: bool = False
    receipt_hash: str | None = None  # a receipt for another ballot hash (a lying server)
    casts: list[dict[str, Any]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    audit_answer_hash: str | None = None  # the server answers an audit with another ballot's code
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def public(self) -> str:
        return public_credential(voter_key(self.credential, ELECTION_ID))

    def opening(self) -> dict[str, Any]:
        return sign(authority.opening(
            ELECTION_ID, sha256_hex(canonical_json(self.pinned_key)),
            public_key_dict(self.board)["public_key"], public_key_dict(self.ca)["public_key"],
            "ab" * 32, [], "2026-12-01T00:00:00Z"), self.ca)

    def context(self) -> dict[str, Any]:
        opening = self.opening()
        return {
            "election": SLUG, "election_id": ELECTION_ID, "election_key": self.election_key,
            "pseudonym": self.pseudonym, "polls_open": True,
            "contest": {"id": "insured", "max_selections": 2, "title": {"th": "ผู้ประกันตน", "en": "Insured"},
                        "teams": [], "candidates": [
                            {"id": f"I00{i}", "number": i, "position": i, "name": {"th": f"ผู้สมัคร {i}", "en": f"Candidate {i}"},
                             "team": None} for i in (1, 2, 3)]},
            "opening": opening, "opening_hash": authority.object_hash(opening),
            "ca_key": public_key_dict(self.ca)["public_key"], "credential": self.public, "previous": self.previous,
        }

    def cast_hashes(self) -> list[dict[str, Any]]:
        return [{"hash": r["ballot_hash"], "seq": r["seq"]} for r in self.receipts.values()]

    def audit(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST audit (docs/record.md §2.6): the §14.2 signature, then the board position."""
        self.audits.append(body)
        ballot_hash = sha256_hex(canonical_json(body["ballot"]))
        opening_hash = authority.object_hash(self.opening())
        if set(body) != {"contest", "ballot", "credential", "seed", "signature"}:
            return 400, {"error": "malformed"}
        if not verify_audit_signature(ELECTION_ID, opening_hash, body["contest"], self.pseudonym,
                                      body["credential"], ballot_hash, body["seed"], body["signature"]):
            return 400, {"error": "bad_signature"}
        seq = 100 + len(self.audits)
        answered = self.audit_answer_hash or ballot_hash
        return 201, {"seq": seq, "ballot_hash": answered, "entry_hash": "ef" * 32,
                     "code": f"ssbvote-audit:1:{seq}:{answered}"}

    def cast(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.casts.append(body)
        ballot_hash = sha256_hex(canonical_json(body["ballot"]))
        opening_hash = authority.object_hash(self.opening())
        if body["credential"] != self.public:
            return 403, {"error": "wrong_credential"}
        if not verify_ballot_signature(ELECTION_ID, opening_hash, body["contest"], self.pseudonym,
                                       body["credential"], ballot_hash, body["signature"],
                                       previous=body["previous"]):
            return 400, {"error": "bad_signature"}
        if self.stale_once:  # another device cast in between
            self.stale_once = False
            self.previous = "cd" * 32
            return 409, {"error": "stale_previous", "message": "reload and cast again"}
        if body["previous"] != self.previous:
            return 409, {"error": "stale_previous", "message": "reload and cast again"}
        seq = len(self.receipts) + 1
        receipt = sign({
            "type": "ssbvote-receipt", "election_id": ELECTION_ID, "opening": opening_hash, "seq": seq,
            "pseudonym": self.pseudonym, "credential": self.public, "contest": body["contest"],
            "ballot_hash": self.receipt_hash or ballot_hash, "entry_hash": "ef" * 32,
            "cast_at": "2026-12-02T03:04:05.000000Z"}, self.board)
        self.receipts[seq] = receipt
        self.previous = ballot_hash
        return 201, {"receipt": receipt, "superseded_previous": False, "receipt_url": f"/harness/receipt/{seq}"}


@dataclass
class Harness:
    url: str
    app: Flask
    script: Script


def _pages(app: Flask, state: dict[str, Any]) -> None:
    """Routes that render the real templates with stand-in objects (no database)."""
    election = SimpleNamespace(slug=SLUG, title_th="การเลือกตั้งทดสอบ", title_en="Test election", id=1,
                               closes_at=datetime(2099, 1, 1, tzinfo=timezone.utc))
    candidates = [SimpleNamespace(code=f"I00{i}", ballot_number=i, name_th=f"ผู้สมัคร {i}",
                                  name_en=f"Candidate {i}", team=None) for i in (1, 2, 3)]
    contest = SimpleNamespace(title_th="ผู้ประกันตน", title_en="Insured", max_selections=2)
    voter = SimpleNamespace(electorate="insured", pseudonym="0" * 32)

    @app.get("/harness/vote")
    def harness_vote() -> str:
        return render_template("ballot/vote.html", voter=voter,
                               election=election, contest=contest, ready=True, polls_open=True,
                               groups=[Group(None, list(enumerate(candidates)))], previous=None)

    @app.get("/harness/receipt/<int:seq>")
    def harness_receipt(seq: int) -> str:
        return render_template("ballot/receipt.html", election=election, voter=voter,
                               receipt=state["script"].receipts[seq], is_latest=True)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    require((ROOT / "app" / "static" / "dist" / "manifest.json").exists(),
            "front-end bundle not built: run ./scripts/setup.sh")
    tmp = tmp_path_factory.mktemp("harness")
    app = build_app(make_config(tmp, **FAST_ARGON2))
    state: dict[str, Any] = {"script": Script()}
    _pages(app, state)
    with serving(app, "ssbvote-harness") as url:
        yield Harness(url, app, state["script"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium with a fake camera that films ``letter.y4m`` (written by the camera test)."""
    CAMERA.parent.mkdir(parents=True, exist_ok=True)
    if not CAMERA.exists():
        write_letter_video(CAMERA, credential_qr_text(ELECTION_ID, seeded_credential("voter one")))
    with chromium(CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                   f"--use-file-for-fake-video-capture={CAMERA}"]) as b:
        yield b


CAMERA = ROOT / "test-artifacts" / "camera" / "letter.y4m"


def write_letter_video(path: Path, text: str, width: int = 640, height: int = 480, frames: int = 10) -> None:
    """A Y4M video (the fake camera's input) of a QR code on white, as a letter held up."""
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix)
    scale = min(width, height) * 8 // 10 // size
    left, top = (width - size * scale) // 2, (height - size * scale) // 2
    luma = bytearray(b"\xeb" * (width * height))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start:start + scale] = b"\x10" * scale
    chroma = b"\x80" * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


class Page:
    """One browser context on the harness, with its API routes answered by ``script``."""

    def __init__(self, browser: Any, harness: Harness, script: Script, lang: str = "en",
                 permissions: list[str] | None = None):
        self.harness, self.script = harness, script
        self.context = browser.new_context(viewport=DESKTOP, locale="th-TH" if lang == "th" else "en-GB",
                                           permissions=permissions or [])
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and "Failed to load resource" not in m.text else None)
        self.page.route(f"**/api/elections/{SLUG}/ballot", self._context)
        self.page.route(f"**/api/elections/{SLUG}/cast", self._cast)
        self.page.route(f"**/api/elections/{SLUG}/audit", self._audit)
        # The language for the session, without a page that reads the database.
        self.page.goto(f"{harness.url}/language/{lang}?next=/static/css/site.css")

    def _context(self, route: Any) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(self.script.context()))

    def _cast(self, route: Any) -> None:
        status, body = self.script.cast(json.loads(route.request.post_data))
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def _audit(self, route: Any) -> None:
        status, body = self.script.audit(json.loads(route.request.post_data))
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    def goto(self, path: str) -> None:
        self.page.goto(self.harness.url + path)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def axe(self) -> None:
        """No serious or critical WCAG 2.2 AA violation on the page as it is now."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
        found = self.page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.filter(v => ['serious', 'critical'].includes(v.impact))"
            ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))", AXE_TAGS)
        assert found == [], found

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def pages(browser: Any, harness: Harness) -> Iterator[Callable[..., Page]]:
    def make(script: Script, **kw: Any) -> Page:
        return Page(browser, harness, script, **kw)

    yield from opened_sessions(make)


def use_script(harness: Harness, script: Script) -> Script:
    """Make ``script`` the one the harness pages render receipts from."""
    harness.script.__dict__.update(script.__dict__)
    return harness.script


def wait_pins(p: Page) -> str:
    p.page.wait_for_selector("body[data-precomputed]", state="attached", timeout=60_000)
    return p.page.get_attribute("body", "data-pins") or ""


def type_credential(p: Page, text: str) -> str:
    """Type like a person (key by key) and return the field's state once it settles."""
    p.page.fill("#credential", "")
    p.page.locator("#credential").press_sequentially(text, delay=5)
    p.page.wait_for_selector("#credential-entry:not([data-state=checking])", state="attached")
    return p.page.get_attribute("#credential-entry", "data-state") or ""


def to_review(p: Page, numbers: list[int]) -> None:
    for n in numbers:
        tick(p.page, n)
    p.page.click("#to-review")
    p.page.wait_for_selector("#review-step:not([hidden])")


def encrypt_to_tracker(page: Any) -> str:
    """Encrypt from the review step and wait for the tracker (docs/protocol.md §14.1)."""
    page.click("#encrypt")
    page.wait_for_selector("#tracker-step:not([hidden])", timeout=60_000)
    return str(page.inner_text("#tracker-full")).strip()


def cast_to_receipt(p: Page) -> None:
    encrypt_to_tracker(p.page)
    p.page.click("#cast")
    p.page.wait_for_url(re.compile(r".*/harness/receipt/\d+$"), timeout=60_000)
    p.page.wait_for_selector("#receipt-verify:not([data-state=pending])")


def test_pins_refused_when_the_election_key_is_swapped(pages: Callable[..., Page], harness: Harness) -> None:
    """The server hands out an election key other than the one the CA's opening pins: the page
    refuses to encrypt (no precomputation, no cast), in Thai and in English."""
    for lang, words in (("en", "Do not vote; report this."), ("th", "อย่าลงคะแนน")):
        script = use_script(harness, Script())
        other = dict(TEST_KEY)
        other["n"] = format(int(TEST_KEY["n"], 16) + 2, "x")
        script.election_key = other
        p = pages(script, lang=lang)
        p.goto("/harness/vote")
        assert wait_pins(p) == "failed"
        assert p.page.get_attribute("body", "data-precomputed") == "failed"
        assert p.page.is_visible("#pins-error") and words in p.page.inner_text("#pins-error")
        assert p.page.is_disabled("#to-review") and p.page.is_disabled("#encrypt") and p.page.is_disabled("#cast")
        p.shot(f"pins-refused-{lang}")
        p.axe()
        assert script.casts == []
    # An opening signed by another CA key, and no opening at all, are refused alike.
    script = use_script(harness, Script())
    script.ca, genuine = Ed25519PrivateKey.generate(), script.ca
    p = pages(script)
    p.page.route(f"**/api/elections/{SLUG}/ballot", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({**script.context(), "ca_key": public_key_dict(genuine)["public_key"]})))
    p.goto("/harness/vote")
    assert wait_pins(p) == "failed"
    p2 = pages(script)
    p2.page.route(f"**/api/elections/{SLUG}/ballot", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({**script.context(), "opening": None})))
    p2.goto("/harness/vote")
    assert wait_pins(p2) == "failed"
    assert script.casts == []


def test_type_sign_cast_and_receipt(pages: Callable[..., Page], harness: Harness) -> None:
    script = use_script(harness, Script())
    p = pages(script, lang="th")
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    to_review(p, [1, 3])
    # Mistyped: a wrong symbol (the check symbols catch it), a U, too short.
    good = format_credential(script.credential)
    wrong = ("0" if good[0] != "0" else "1") + good[1:]
    assert type_credential(p, wrong) == "mistyped"
    assert "พิมพ์รหัสไม่ถูกต้อง" in p.page.inner_text("#credential-error")
    assert p.page.get_attribute("#credential", "aria-invalid") == "true"
    p.shot("credential-mistyped-th")
    p.axe()
    assert type_credential(p, "U") == "mistyped"
    assert type_credential(p, good[:10]) == "partial"
    # Another voter's valid credential: refused before anything is signed.
    assert type_credential(p, format_credential(seeded_credential("voter two"))) == "not-yours"
    assert "ไม่ใช่รหัสที่ออกให้ท่าน" in p.page.inner_text("#credential-error")
    p.page.click("#encrypt")
    p.page.wait_for_selector("#review-error:not([hidden])")
    assert p.page.is_hidden("#tracker-step")
    assert script.casts == []
    # Lower case, O for 0, I/L for 1, no dashes: the same credential; shown in groups of 4.
    sloppy = script.credential.lower().replace("0", "o").replace("1", "l")
    assert type_credential(p, sloppy) == "valid"
    assert p.page.input_value("#credential") == format_credential(script.credential)
    p.shot("credential-valid-th")
    p.axe()
    cast_to_receipt(p)
    assert len(script.casts) == 1
    sent = script.casts[0]
    assert set(sent) == {"contest", "ballot", "credential", "previous", "signature"}  # no seed, no token
    assert sent["credential"] == script.public and sent["previous"] == ""
    assert script.credential not in json.dumps(sent) and good not in json.dumps(sent)
    assert p.page.get_attribute("#receipt-verify", "data-state") == "ok"
    assert "✓" in p.page.inner_text("#verify-result")
    assert "ผู้สมัคร" not in p.page.inner_text("main")  # no choice on the receipt
    p.shot("receipt-verified-th")
    p.axe()

    # Re-vote in the same tab: the credential is remembered for the tab session; `previous`
    # chains to the first ballot; a stale previous (another device) is re-signed, not refused.
    script.stale_once = True
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    p.page.wait_for_selector("#credential-entry[data-state=valid]", state="attached")
    first_hash = script.previous
    to_review(p, [2])
    cast_to_receipt(p)
    assert [c["previous"] for c in script.casts[1:]] == [first_hash, "cd" * 32]
    assert script.casts[1]["ballot"] == script.casts[2]["ballot"]  # signed again, not re-encrypted
    assert p.page.get_attribute("#receipt-verify", "data-state") == "ok"

    # Signing out forgets the credential kept for the tab; what stays are the trackers this tab
    # encrypted (for the receipt's comparison), never a seed.
    kept = "() => Object.keys(sessionStorage).filter(k => k.startsWith('ssbvote-credential:'))"
    assert p.page.evaluate(kept) == [f"ssbvote-credential:{ELECTION_ID}"]
    p.goto("/harness/vote")
    p.page.click("form[data-signout] button[type=submit]")
    p.page.wait_for_load_state()
    assert p.page.evaluate(kept) == []
    stored = p.page.evaluate("() => Object.entries(sessionStorage)")
    assert sorted(k for k, _ in stored) == [f"ssbvote-ballot-hash:{SLUG}:1", f"ssbvote-ballot-hash:{SLUG}:2"]
    assert {v for _, v in stored} == {c["hash"] for c in script.cast_hashes()}


def test_receipt_for_another_ballot_fails(pages: Callable[..., Page], harness: Harness) -> None:
    script = use_script(harness, Script())
    script.receipt_hash = "99" * 32  # the server signs a receipt for a ballot this device did not send
    p = pages(script)
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    to_review(p, [])
    assert type_credential(p, format_credential(script.credential)) == "valid"
    cast_to_receipt(p)
    assert p.page.get_attribute("#receipt-verify", "data-state") == "failed"
    assert "✗" in p.page.inner_text("#verify-result")
    assert "NOT the hash" in p.page.inner_text("#verify-details")
    p.shot("receipt-failed-en")
    p.axe()
    # The same receipt seen from another device (no hash kept there): signature only.
    other = pages(script)
    other.goto(p.page.url.replace(harness.url, ""))
    other.page.wait_for_selector("#receipt-verify:not([data-state=pending])")
    assert other.page.get_attribute("#receipt-verify", "data-state") == "signature-only"


def test_audit_then_cast(pages: Callable[..., Page], harness: Harness) -> None:
    """Cast or audit (docs/protocol.md §14.1): the audit posts the ballot with its seed, signed
    as an ssbvote-audit statement, shows the code; the next encryption has a fresh seed and
    another tracker, and only that one is cast — never the audited ballot."""
    script = use_script(harness, Script())
    p = pages(script, lang="th")
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    to_review(p, [1, 3])
    assert type_credential(p, format_credential(script.credential)) == "valid"
    first = encrypt_to_tracker(p.page)
    p.page.click("#audit")
    p.page.wait_for_selector("#audit-step:not([hidden])")
    p.page.wait_for_selector("#audit-qr[data-drawn=true]")
    assert p.page.input_value("#audit-code") == f"ssbvote-audit:1:101:{first}"
    assert p.page.inner_text("#audit-position") == "101"
    assert p.page.inner_text("#audit-tracker") == f"{first[:4]} {first[4:8]}"
    assert len(script.audits) == 1 and sha256_hex(canonical_json(script.audits[0]["ballot"])) == first
    assert re.fullmatch(r"[0-9a-f]{64}", script.audits[0]["seed"])
    p.shot("audit-code-th")
    p.axe()
    p.page.wait_for_selector("body[data-precomputed=true]", state="attached", timeout=60_000)
    p.page.click("#audit-next")
    p.page.wait_for_selector("#tracker-step:not([hidden])")
    second = p.page.inner_text("#tracker-full").strip()
    assert second != first
    p.page.click("#cast")
    p.page.wait_for_url(re.compile(r".*/harness/receipt/\d+$"), timeout=60_000)
    assert len(script.casts) == 1 and sha256_hex(canonical_json(script.casts[0]["ballot"])) == second
    assert script.audits[0]["seed"] not in json.dumps(script.casts[0])


def test_audit_answered_with_another_ballot_is_refused(pages: Callable[..., Page], harness: Harness) -> None:
    """A server that answers an audit with the code of another ballot would have the second
    device check something else: the page refuses the answer, drops that encryption (its seed
    was sent) and encrypts again; nothing is cast."""
    script = use_script(harness, Script())
    script.audit_answer_hash = "77" * 32
    p = pages(script)
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    to_review(p, [2])
    assert type_credential(p, format_credential(script.credential)) == "valid"
    audited = encrypt_to_tracker(p.page)
    p.page.click("#audit")
    p.page.wait_for_selector("#review-error:not([hidden])")
    assert p.page.is_hidden("#audit-step") and p.page.is_hidden("#tracker-step")
    assert "could not be set up" in p.page.inner_text("#review-error")
    # The next encryption is a fresh one: the audited ballot (whose seed the server holds) is gone.
    p.page.wait_for_selector("body[data-precomputed=true]", state="attached", timeout=60_000)
    assert encrypt_to_tracker(p.page) != audited
    assert script.casts == []


def test_credential_from_the_letter_qr(pages: Callable[..., Page], harness: Harness, tmp_path: Path) -> None:
    """The letter's QR code, from a photo (file input) and from the camera (a fake device
    filming the letter); a QR code of another election is refused."""
    script = use_script(harness, Script())
    p = pages(script, permissions=["camera"])
    p.goto("/harness/vote")
    assert wait_pins(p) == "ok"
    to_review(p, [1])
    # Photo: drawn by the page's own QR bundle, saved as a PNG, chosen in the file input.
    def photo(text: str) -> Path:
        data_url = p.page.evaluate("""async (text) => {
            const c = document.createElement('canvas'); await window.SSBQR.drawQr(c, text, {width: 400});
            return c.toDataURL('image/png'); }""", text)
        import base64
        path = tmp_path / f"{hashlib.sha256(text.encode()).hexdigest()[:8]}.png"
        path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
        return path

    other_election = "00" * 32
    p.page.set_input_files("#scan-file", str(photo(credential_qr_text(other_election, script.credential))))
    p.page.wait_for_selector("#scan-status:has-text('another election')")
    assert p.page.get_attribute("#credential-entry", "data-state") == "empty"
    p.page.set_input_files("#scan-file", str(photo(credential_qr_text(ELECTION_ID, script.credential))))
    p.page.wait_for_selector("#credential-entry[data-state=valid]", state="attached")
    assert p.page.input_value("#credential") == format_credential(script.credential)
    # Camera.
    p.page.click("#credential-forget")
    assert p.page.get_attribute("#credential-entry", "data-state") == "empty"
    p.page.click("#scan-start")
    p.page.wait_for_selector("#credential-entry[data-state=valid]", state="attached", timeout=30_000)
    p.shot("credential-camera-en")
    assert p.page.get_attribute("#credential-entry", "data-camera") == "off"  # stopped once read
    assert p.page.input_value("#credential") == format_credential(script.credential)
    cast_to_receipt(p)
    assert p.page.get_attribute("#receipt-verify", "data-state") == "ok"


def test_official_signs_the_paper_list(pages: Callable[..., Page], harness: Harness) -> None:
    credential = seeded_credential("official alice")
    key = official_key(credential)
    body = paper_overrides(ELECTION_ID, ["0" * 32, "1" * 32], "2026-12-21T00:00:00Z", opening="ab" * 32)
    posted: list[dict[str, list[str]]] = []
    state_paper = {
        "body": body, "digest": paper_list_digest(body), "count": 2, "role": "approve",
        "proposer": "Officer A", "action": "/harness/paper-sign", "official_key": public_credential(key),
        "hidden": {"pending_id": "7"},
        "identities": [{"voter_id": "3101700000011", "name": "สมชาย ใจดี", "electorate": "insured"},
                       {"voter_id": "0105500000001", "name": "Acme Co.", "electorate": "employer"}],
    }
    script = use_script(harness, Script())
    p = pages(script, lang="en")
    p.page.route("**/harness/paper", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=_render_paper(harness.app, state_paper)))

    def on_post(route: Any) -> None:
        from urllib.parse import parse_qs
        posted.append(parse_qs(route.request.post_data))
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>ok</title><p>signed</p>")

    p.page.route("**/harness/paper-sign", on_post)
    p.goto("/harness/paper")
    p.page.wait_for_selector("body[data-digest=ok]", state="attached")
    assert p.page.inner_text("#paper-count") == "2"
    assert p.page.inner_text("#paper-digest") == paper_list_digest(body)
    assert "3101700000011" in p.page.inner_text("#paper-identities")
    # Another official's credential is refused; the own one signs.
    assert type_credential(p, format_credential(seeded_credential("official bob"))) == "not-yours"
    assert type_credential(p, format_credential(credential)) == "valid"
    p.shot("paper-sign-en")
    p.axe()
    p.page.click("#sign-button")
    p.page.wait_for_selector("text=signed")
    assert len(posted) == 1
    form = posted[0]
    assert form["digest"] == [paper_list_digest(body)] and form["pending_id"] == ["7"]
    signature = bytes.fromhex(form["official_signature"][0])
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_credential(key))).verify(signature, canonical_json(body))
    assert not any(credential in v or format_credential(credential) in v for vs in form.values() for v in vs)


def _render_paper(app: Flask, paper: dict[str, Any]) -> str:
    with app.test_request_context("/harness/paper?lang=en"):
        election = SimpleNamespace(slug=SLUG, title_th="การเลือกตั้งทดสอบ", title_en="Test election", id=1,
                               closes_at=datetime(2099, 1, 1, tzinfo=timezone.utc))
        return render_template("official/paper_votes.html", election=election, form=SimpleNamespace(csrf_token=""),
                               problems=[], closed=True, paper_list=paper)



@pytest.mark.parametrize("kind", ["extend_polls", "record_lot"])
def test_official_signs_an_extension_and_a_lot(pages: Callable[..., Page], harness: Harness, kind: str) -> None:
    """The poll extension and lot pages (docs/record.md §2.7, §4.6) sign as the paper-vote
    list's does, with the one signing function (SSBCrypto.credential.signOfficialObject)."""
    from app.services.administration.decisions import SigningPage
    from election import decisions

    credential = seeded_credential("official alice")
    key = official_key(credential)
    if kind == "extend_polls":
        body = decisions.poll_extension(ELECTION_ID, opening="ab" * 32, closes="2026-12-20T18:00:00+07:00",
                                        previous_closes="2026-12-20T16:00:00+07:00", reason="ไฟดับ เขต 3",
                                        at="2026-12-20T08:00:00.000000Z")
        rows = [("previous_closes", body["previous_closes"]), ("closes", body["closes"]),
                ("reason", body["reason"]), ("at", body["at"])]
    else:
        body = decisions.lot(ELECTION_ID, opening="ab" * 32, contest="insured", tied=["I2", "I3"], seats=1,
                             chosen=["I3"], at="2026-12-21T08:00:00.000000Z")
        rows = [("contest", "insured"), ("tied", "I2 (2. B), I3 (3. C)"), ("seats", "1"),
                ("chosen", "I3 (3. C)"), ("at", body["at"])]
    page = SigningPage(kind, body, paper_list_digest(body), "approve", proposer="Officer A",
                       official_key=public_credential(key), pending_id=7, rows=rows)
    posted: list[dict[str, list[str]]] = []
    script = use_script(harness, Script())
    p = pages(script, lang="en")
    p.page.route("**/harness/decision", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=_render_decision(harness.app, kind, page)))

    def on_post(route: Any) -> None:
        from urllib.parse import parse_qs
        posted.append(parse_qs(route.request.post_data))
        route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>ok</title><p>signed</p>")

    p.page.route("**/harness/decision-sign", on_post)
    p.goto("/harness/decision")
    p.page.wait_for_selector("body[data-digest=ok]", state="attached")
    assert p.page.inner_text("#decision-digest") == paper_list_digest(body)
    assert type_credential(p, format_credential(seeded_credential("official bob"))) == "not-yours"
    assert type_credential(p, format_credential(credential)) == "valid"
    p.shot(f"decision-sign-{kind}-en")
    p.axe()
    p.page.click("#sign-button")
    p.page.wait_for_selector("text=signed")
    assert len(posted) == 1 and posted[0]["digest"] == [paper_list_digest(body)]
    signature = bytes.fromhex(posted[0]["official_signature"][0])
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_credential(key))).verify(signature, canonical_json(body))


def _render_decision(app: Flask, kind: str, page: Any) -> str:
    with app.test_request_context("/harness/decision?lang=en"):
        election = SimpleNamespace(slug=SLUG, title_th="การเลือกตั้งทดสอบ", title_en="Test election", id=1,
                               closes_at=datetime(2099, 1, 1, tzinfo=timezone.utc))
        return render_template("official/decision.html", election=election, kind=kind, decision=page,
                               sign_action="/harness/decision-sign", form=SimpleNamespace(csrf_token=""),
                               problems=[], close_in_force="", suggested="", ties={})

# --- Part B: end to end against the v2 server ---------------------------------------------------
@pytest.fixture(scope="module")
def live(live_election: LiveElection) -> LiveElection:
    """The live election of tests/e2e/conftest.py, keeping what the credential authority issued;
    this module's own (module scope): it closes the polls at its end, for the paper-vote list."""
    return live_election


PREFIX = {"insured": "/insured", "employer": "/employer"}


class LivePage:
    def __init__(self, browser: Any, live: LiveElection, lang: str):
        self.live = live
        self.context = browser.new_context(viewport=DESKTOP, locale="th-TH" if lang == "th" else "en-GB")
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type == "error" and "Failed to load resource" not in m.text else None)
        self.page.goto(f"{live.url}/?lang={lang}")

    def goto(self, path: str) -> None:
        self.page.goto(self.live.url + path)

    def sign_in(self, kind: str, login_id: str, password: str, secret: str) -> None:
        sign_in_at(self, PREFIX.get(kind, "/official"), login_id, password, secret)

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def live_pages(browser: Any, live: LiveElection) -> Iterator[Callable[[str], LivePage]]:
    def make(lang: str) -> LivePage:
        return LivePage(browser, live, lang)

    yield from opened_sessions(make, ignored=lambda error: "status of 4" in error)


def board_entries(live: LiveElection) -> list[dict[str, Any]]:
    from app.extensions import db
    from app.services.administration.manifest import get_election
    from app.services.voting import board

    with live.app.app_context():
        db.session.expire_all()
        election = get_election(live.slug)
        out = [board.entry_dict(e, election.election_id) for e in board.iter_entries(election)]
        db.session.remove()
        return out


def vote_in_browser(p: LivePage, account: VoterLogin, numbers: list[int]) -> None:
    from tests.support.auth_client import PASSWORD

    p.sign_in(account.electorate, account.login_id, PASSWORD, account.totp_secret)
    p.goto("/vote")
    p.page.wait_for_selector("body[data-precomputed]", state="attached", timeout=60_000)
    assert p.page.get_attribute("body", "data-pins") == "ok", p.page.inner_text("#prep-status")
    for n in numbers:
        tick(p.page, n)
    p.page.click("#to-review")
    p.page.wait_for_selector("#review-step:not([hidden])")


def type_live(p: LivePage, text: str) -> str:
    p.page.fill("#credential", "")
    p.page.locator("#credential").press_sequentially(text, delay=2)
    p.page.wait_for_selector("#credential-entry:not([data-state=checking])", state="attached")
    return p.page.get_attribute("#credential-entry", "data-state") or ""


@pytest.mark.parametrize(("lang", "electorate"), [("th", "insured"), ("en", "employer")])
def test_voter_types_credential_and_casts(live_pages: Callable[[str], LivePage], live: LiveElection,
                                          lang: str, electorate: str) -> None:
    account = live.voter(electorate)
    p = live_pages(lang)
    vote_in_browser(p, account, [1, 2])
    typed = " ".join(format_credential(account.credential).lower().split("-"))  # spaces, lower case
    assert type_live(p, typed) == "valid"
    p.shot(f"v2-credential-{electorate}-{lang}")
    before = len(board_entries(live))
    encrypt_to_tracker(p.page)
    p.page.click("#cast")
    p.page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    p.page.wait_for_selector("#receipt-verify:not([data-state=pending])", state="attached")
    assert p.page.get_attribute("#receipt-verify", "data-state") == "ok", p.page.inner_text("#receipt-verify")
    assert ("ตรวจใบรับแล้ว" if lang == "th" else "Receipt verified") in p.page.inner_text("#verify-result")
    p.shot(f"v2-receipt-{electorate}-{lang}")
    entries = board_entries(live)
    assert len(entries) == before + 1
    entry = entries[-1]
    public = public_credential(voter_key(account.credential, entry["election_id"]))
    assert entry["credential"] == public and entry["previous"] == ""
    assert p.page.text_content("#receipt-hash") == entry["ballot_hash"]


def test_wrong_and_mistyped_credentials_refused(live_pages: Callable[[str], LivePage], live: LiveElection) -> None:
    account, other = live.voter("insured"), live.voter("insured")
    p = live_pages("en")
    vote_in_browser(p, account, [5])
    before = len(board_entries(live))
    good = format_credential(account.credential)
    wrong = ("0" if good[0] != "0" else "1") + good[1:]
    assert type_live(p, wrong) == "mistyped"
    assert "Credential mistyped" in p.page.inner_text("#credential-error")
    assert type_live(p, format_credential(other.credential)) == "not-yours"
    assert "not the one issued to you" in p.page.inner_text("#credential-error")
    p.page.click("#encrypt")
    p.page.wait_for_selector("#review-error:not([hidden])")
    p.shot("v2-credential-not-yours-en")
    assert len(board_entries(live)) == before  # nothing was cast


def test_stale_previous_is_signed_again(live_pages: Callable[[str], LivePage], live: LiveElection) -> None:
    """Two tabs of one voter: the second casts while the first waits on its review step; the
    first tab's cast meets 409 stale_previous, reloads the context and signs again, chaining
    its ballot to the second tab's (docs/protocol.md §13.3)."""
    account = live.voter("employer")
    p = live_pages("en")
    vote_in_browser(p, account, [3])
    assert type_live(p, format_credential(account.credential)) == "valid"
    encrypt_to_tracker(p.page)  # this tab's ballot is encrypted and signed for previous = ""
    second = p.context.new_page()
    second.goto(f"{live.url}/vote")
    second.wait_for_selector("body[data-precomputed=true]", state="attached", timeout=60_000)
    second.click("#to-review")
    # sessionStorage is per tab: the other tab asks for the credential too.
    assert second.get_attribute("#credential-entry", "data-state") == "empty"
    second.locator("#credential").press_sequentially(account.credential, delay=2)
    second.wait_for_selector("#credential-entry[data-state=valid]", state="attached")
    encrypt_to_tracker(second)
    second.click("#cast")
    second.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    p.page.click("#cast")
    p.page.wait_for_url(re.compile(r".*/receipt/[^/]+/\d+$"), timeout=60_000)
    p.page.wait_for_selector("#receipt-verify:not([data-state=pending])", state="attached")
    assert p.page.get_attribute("#receipt-verify", "data-state") == "ok"
    mine = [e for e in board_entries(live) if e["pseudonym"] == account.pseudonym]
    assert len(mine) == 2 and mine[0]["previous"] == "" and mine[1]["previous"] == mine[0]["ballot_hash"]


def test_swapped_election_key_refused(live_pages: Callable[[str], LivePage], live: LiveElection) -> None:
    """An insider swaps the election key in the database: the page refuses to encrypt."""
    from app.extensions import db
    from app.services.administration.manifest import get_election

    with live.app.app_context():
        election = get_election(live.slug)
        genuine = election.election_key
        election.election_key = canonical_json(TEST_KEY).decode()
        db.session.commit()
        db.session.remove()
    try:
        account = live.voter("insured")
        before = len(board_entries(live))
        for lang in ("th", "en"):
            p = live_pages(lang)
            from tests.support.auth_client import PASSWORD
            p.sign_in(account.electorate, account.login_id, PASSWORD, account.totp_secret)
            p.goto("/vote")
            p.page.wait_for_selector("body[data-precomputed]", state="attached", timeout=60_000)
            assert p.page.get_attribute("body", "data-pins") == "failed"
            assert p.page.is_visible("#pins-error")
            words = "อย่าลงคะแนน" if lang == "th" else "Do not vote; report this."
            assert words in p.page.inner_text("#pins-error")
            assert p.page.is_disabled("#to-review")
            p.shot(f"v2-pins-refused-{lang}")
        assert len(board_entries(live)) == before
    finally:
        with live.app.app_context():
            election = get_election(live.slug)
            election.election_key = genuine
            db.session.commit()
            db.session.remove()


def test_two_officials_sign_the_paper_list(live_pages: Callable[[str], LivePage], live: LiveElection,
                                           tmp_path: Path) -> None:
    """Last in the module: closes the polls.  ro-a uploads and signs, ro-b checks and signs; the
    recorded list carries both signatures, by their pinned keys."""
    from app.extensions import db
    from app.services.administration.manifest import get_election
    from app.services.voting import paper_votes
    from election.board import paper_signature_problems
    from tests.support import election_setup
    from tests.support.auth_client import PASSWORD

    with live.app.app_context():
        election_setup.close_polls(get_election(live.slug), live.clock())
        db.session.remove()
    voters = [live.voters["insured"][0].login_id, live.voters["employer"][0].login_id]
    csv = tmp_path / "paper.csv"
    csv.write_text("voter_id\n" + "\n".join(voters) + "\n", encoding="utf-8")
    names = sorted(live.official_credentials)
    first, second = names[0], names[1]

    a = live_pages("th")
    a.sign_in("official", first, PASSWORD, live.official_secrets[first])
    with live.app.app_context():
        election_pk = get_election(live.slug).id
        db.session.remove()
    a.goto(f"/official/elections/{election_pk}/paper-votes")
    a.page.set_input_files("#paper_list", str(csv))
    a.page.click("form[enctype] button[type=submit]")
    a.page.wait_for_selector("body[data-digest=ok]", state="attached")
    assert a.page.inner_text("#paper-count") == "2"
    table = a.page.inner_text("#paper-identities")
    assert all(v in table for v in voters)
    digest = a.page.inner_text("#paper-digest")
    assert type_live(a, format_credential(live.official_credentials[second])) == "not-yours"
    assert type_live(a, live.official_credentials[first]) == "valid"
    a.shot("v2-paper-propose-th")
    a.page.click("#sign-button")
    a.page.wait_for_url(re.compile(r".*/official/$"))

    b = live_pages("en")
    b.sign_in("official", second, PASSWORD, live.official_secrets[second])
    b.page.click("a[id^=review-paper-]")
    b.page.wait_for_selector("body[data-digest=ok]", state="attached")
    assert b.page.inner_text("#paper-digest") == digest and b.page.inner_text("#paper-count") == "2"
    assert type_live(b, format_credential(live.official_credentials[second])) == "valid"
    b.shot("v2-paper-approve-en")
    b.page.click("#sign-button")
    b.page.wait_for_url(re.compile(r".*/official/$"))
    assert "Signed and approved" in b.page.inner_text("main")

    with live.app.app_context():
        election = get_election(live.slug)
        signed = paper_votes.signed_list(election)
        assert signed is not None and len(signed["pseudonyms"]) == 2
        assert paper_list_digest(signed) == digest
        keys = {o["username"]: o["public_key"] for o in json.loads(election.opening)["officials"]} \
            if isinstance(election.opening, str) else {o["username"]: o["public_key"] for o in election.opening["officials"]}
        assert paper_signature_problems(signed, keys) == []
        assert {s["official"] for s in signed["signatures"]} == {first, second}
        db.session.remove()
