"""Cast or audit in a real browser (docs/protocol.md §14; docs/record.md §2.5, §2.6; issue 16).

A voter (Thai) encrypts, audits twice — each audit opened on a second browser context with no
sign-in, which shows the choices and the same tracker as the voting device — and then casts.
The page is instrumented from the test only (an init script wraps crypto.getRandomValues to
record every 32-byte draw, i.e. every seed; every request is recorded): afterwards the
receipt page, its QR code, both web storages, IndexedDB, the console, the HTML of the ballot
and receipt pages and everything sent to the server hold none of the seeds — except the two
audited seeds, each in its own audit post.  A second voter (English) audits once and casts.
Then the polls close, the board is exported and tallied, and /track says "counted" for the
cast trackers and "audited" for the audits.  axe-core finds no violation on the tracker,
audit-code, receipt, check-result and track states in Thai and English.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.extensions import db
from app.services.administration.manifest import get_election
from app.services.voting import board_export
from tests.e2e.conftest import LiveElection
from tests.e2e.test_browser_voting import (
    AUDIT_CODE, CODE, DESKTOP, Session, audit, cast, check_audit, choose, encrypt, next_encryption, no_violations,
    review, sign_in, wait_precomputed,
)
from tests.support import election_setup

pytestmark = pytest.mark.browser

#: Test-only instrumentation (never in production code): remember the hex of every 32-byte
#: array filled by crypto.getRandomValues in the page — the ballot seeds (docs/protocol.md §4).
RECORD_SEEDS = """
(() => {
  const original = Crypto.prototype.getRandomValues;
  const draws = [];
  Object.defineProperty(window, '__testSeedDraws', { value: draws });
  Crypto.prototype.getRandomValues = function (array) {
    const out = original.call(this, array);
    if (array && array.byteLength === 32) {
      draws.push(Array.from(new Uint8Array(array.buffer, array.byteOffset, 32),
        (b) => b.toString(16).padStart(2, '0')).join(''));
    }
    return out;
  };
})();
"""

STORAGES = """async () => ({
  session: JSON.stringify(Object.fromEntries(Object.entries(sessionStorage))),
  local: JSON.stringify(Object.fromEntries(Object.entries(localStorage))),
  indexedDB: JSON.stringify(indexedDB.databases ? await indexedDB.databases() : []),
  cookies: document.cookie,
  url: location.href,
})"""

DECODE_QR = """(id) => {
  const canvas = document.getElementById(id);
  const image = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  return window.SSBQR.decodeImageData(image);
}"""


@dataclass
class Recorded:
    """What one voting device sent and logged."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


def instrument(s: Session) -> Recorded:
    rec = Recorded()
    s.context.add_init_script(RECORD_SEEDS)
    s.page.on("request", lambda r: rec.requests.append(
        {"method": r.method, "url": r.url, "body": r.post_data or "", "headers": json.dumps(r.headers)}))
    s.page.on("console", lambda m: rec.console.append(m.text))
    return rec


def seed_draws(s: Session) -> list[str]:
    return list(s.page.evaluate("() => window.__testSeedDraws"))


def audit_posts(rec: Recorded) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for r in rec.requests if r["method"] == "POST" and r["url"].endswith("/audit")]


@dataclass
class Voted:
    lang: str
    choice: list[int]
    audit_codes: list[str]
    audited_trackers: list[str]
    cast_tracker: str
    receipt_code: str


def vote_with_audits(chromium: Any, live: LiveElection, lang: str, choice: list[int], audits: int) -> Voted:
    voter = live.voter("insured")
    s = Session(chromium, live, lang, DESKTOP)
    rec = instrument(s)
    checker = Session(chromium, live, lang, DESKTOP)  # the second device: no sign-in
    try:
        sign_in(s, voter)
        s.goto("/vote")
        wait_precomputed(s)
        choose(s, choice)
        assert review(s) == sorted(choice)
        tracker = encrypt(s, voter.credential)
        no_violations(s, "tracker")
        codes: list[str] = []
        trackers: list[str] = []
        for i in range(audits):
            code = audit(s)
            codes.append(code)
            trackers.append(tracker)
            if i == 0:
                s.shot("audit-code")
                no_violations(s, "audit-code")
            # The second device: the code the first time, position + short tracker typed after.
            match = AUDIT_CODE.match(code)
            assert match
            if i % 2 == 0:
                numbers, shown = check_audit(checker, code)
            else:
                numbers, shown = check_audit(checker, typed=(match.group(1), f"{tracker[:4]} {tracker[4:8]}".upper()))
            assert numbers == sorted(choice) and shown == tracker
            if i == 0:
                checker.shot("check-result")
                no_violations(checker, "check-result")
            tracker = next_encryption(s)
            assert tracker not in trackers  # a fresh seed: another encryption, another tracker

        # Before casting: every seed this page drew.  The last one made the ballot on show.
        draws = seed_draws(s)
        assert len(draws) == audits + 1 and len(set(draws)) == len(draws), draws
        cast_seed = draws[-1]
        ballot_html = s.page.content()
        ballot_storage = s.page.evaluate(STORAGES)
        receipt_code = cast(s)
        assert CODE.match(receipt_code).group(2) == tracker  # type: ignore[union-attr]
        s.shot("receipt-audited")
        no_violations(s, "receipt")

        # The receipt's QR code holds the tracker text, read back from the drawn pixels.
        assert s.page.evaluate(DECODE_QR, "qr-canvas") == receipt_code
        receipt_html = s.page.content()
        receipt_storage = s.page.evaluate(STORAGES)

        # The audited seeds went to the server, each with its own audit and nothing else.
        posts = audit_posts(rec)
        assert [p["seed"] for p in posts] == draws[:-1]
        for p, code in zip(posts, codes, strict=True):
            assert code.endswith(":" + trackers[codes.index(code)])
        # The cast seed is nowhere: not sent (body, URL, headers), not stored, not in the pages,
        # the QR code or the console.
        places = {
            "requests": json.dumps(rec.requests),
            "console": "\n".join(rec.console),
            "ballot page HTML": ballot_html,
            "receipt page HTML": receipt_html,
            "storage before cast": json.dumps(ballot_storage),
            "storage after cast": json.dumps(receipt_storage),
            "QR": receipt_code,
        }
        for name, text in places.items():
            assert cast_seed not in text.lower(), f"the cast seed is in the {name}"
        # Audited seeds only in their audit posts: never in the pages, storages, QR or console.
        for seed in draws[:-1]:
            for name, text in places.items():
                if name != "requests":
                    assert seed not in text.lower(), f"an audited seed is in the {name}"
            holders = [r for r in rec.requests if seed in (r["body"] + r["url"] + r["headers"]).lower()]
            assert len(holders) == 1 and holders[0]["url"].endswith("/audit"), holders
        # The cast request itself has no seed field and no check token (record.md §2.6).
        casts = [json.loads(r["body"]) for r in rec.requests if r["method"] == "POST" and r["url"].endswith("/cast")]
        assert len(casts) == 1 and set(casts[0]) == {"contest", "ballot", "credential", "previous", "signature"}
        # IndexedDB holds only issue 19's table cache: powers of the public h_s, computed from the
        # election key alone (frontend/src/tablecache.js; tests/js/test_browser_table_cache.py).
        assert {db["name"] for db in json.loads(receipt_storage["indexedDB"])} <= {"ssbvote-tables"}
        assert s.errors == [] and checker.errors == [], (s.errors, checker.errors)
        return Voted(lang, choice, codes, trackers, tracker, receipt_code)
    finally:
        checker.close()
        s.close()


def track(s: Session, text: str | None = None, typed: tuple[str, str] | None = None) -> tuple[str, str]:
    s.goto("/track")
    s.page.wait_for_url(re.compile(rf".*/track/{re.escape(s.live.slug)}$"))
    if text is not None:
        s.page.fill("#tracker", text)
    if typed is not None:
        s.page.fill("#position", typed[0])
        s.page.fill("#short", typed[1])
    s.page.click("#track-button")
    s.page.wait_for_selector("#track-result:not([hidden]), #track-error:not([hidden]), #tracker-error:not([hidden])")
    assert s.page.is_visible("#track-result"), s.page.inner_text("main")
    return str(s.page.get_attribute("#track-result", "data-status")), s.page.inner_text("#track-status")


def test_audit_twice_check_on_another_device_cast_then_counted(chromium: Any, live_election: LiveElection,
                                                               tmp_path: Path) -> None:
    live = live_election
    thai = vote_with_audits(chromium, live, "th", [4, 33, 101], audits=2)
    english = vote_with_audits(chromium, live, "en", [7], audits=1)

    # During the polls: on the board, at the receipt's position.
    s = Session(chromium, live, "en", DESKTOP)
    try:
        status, text = track(s, thai.receipt_code)
        seq = CODE.match(thai.receipt_code).group(1)  # type: ignore[union-attr]
        assert status == "on-board" and f"position {seq}" in text
        no_violations(s, "track")

        # Close, the empty paper-vote list signed by two officials, export, tally.
        with live.app.app_context():
            election = get_election(live.slug)
            now = live.clock()
            election_setup.close_polls(election, now)
            election_setup.record_paper_votes(election, "voter_id\n", now)
            export = board_export.export(election, tmp_path / "closed")
            db.session.remove()
        from tally.prepare import prepare
        prepare(export, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
        counted = json.loads((tmp_path / "work" / "tally" / "counted.json").read_text())["contests"]["insured"]
        counted_seqs = {c["seq"] for c in counted["counted"]}
        excluded = {e["seq"]: e["reason"] for e in counted["excluded"]}
        for voted in (thai, english):
            assert int(CODE.match(voted.receipt_code).group(1)) in counted_seqs  # type: ignore[union-attr]
            for code in voted.audit_codes:
                assert excluded[int(AUDIT_CODE.match(code).group(1))] == "audited"  # type: ignore[union-attr]

        # After the tally: counted for the cast trackers (QR text, full tracker, position +
        # short), audited for the audits — in Thai and in English.
        assert track(s, thai.receipt_code)[0] == "counted"
        assert track(s, english.cast_tracker)[0] == "counted"
        seq = CODE.match(english.receipt_code).group(1)  # type: ignore[union-attr]
        assert track(s, typed=(seq, english.cast_tracker[:8]))[0] == "counted"
        no_violations(s, "track-counted")
        for voted in (thai, english):
            for tracker in voted.audited_trackers:
                assert track(s, tracker)[0] == "audited"
        s.close()
        s = Session(chromium, live, "th", DESKTOP)
        status, text = track(s, english.audit_codes[0].split(":")[-1])
        assert status == "audited" and "ตรวจ" in text
        no_violations(s, "track-audited")
        assert track(s, thai.cast_tracker)[0] == "counted"
        s.shot("track-counted")
        no_violations(s, "track-counted")
        assert s.errors == [], s.errors
    finally:
        s.close()
