"""The bundle in real headless Chromium: precompute in Web Workers, encrypt, verify in Python.

Loads app/static/dist/ssbcrypto.js (SRI-checked module preload) and ssbcrypto-worker.js under the
app's CSP from a local server, encrypts with the 512-bit test key and checks the ballot with the
Python reference (docs/protocol.md §5.4, §5.6).
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from crypto import ContestStatement, EncryptedContest, PublicKey, ballot_hash, recover_selections, verify_contest
from tests.js.harness_server import serve_harness

pytestmark = pytest.mark.browser

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
CONTEST = "employer-board"
PSEUDONYM = "ผู้ประกันตน-99"


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    with serve_harness() as url:
        pg = browser.new_page()
        pg.errors = []
        pg.workers_seen = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.on("console", lambda msg: msg.type == "error" and pg.errors.append(msg.text))
        pg.on("worker", lambda w: pg.workers_seen.append(w.url))
        pg.goto(url)
        pg.wait_for_function("window.ssbHarness !== undefined", timeout=15_000)
        yield pg
        pg.close()


def test_precompute_in_workers_then_encrypt_verifies_in_python(page: Any, pk: PublicKey) -> None:
    selections = [0] * 30
    for i in (2, 7, 11, 29):
        selections[i] = 1
    params = {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": len(selections), "maxSelections": 7, "workers": 2, "selections": selections,
    }
    out = page.evaluate("(p) => window.ssbHarness.run(p)", params)

    assert page.errors == [] and out["violations"] == []
    assert sum(1 for u in page.workers_seen if u.endswith("/static/dist/ssbcrypto-worker.js")) == 2
    progress = out["progress"]
    assert progress[0] == 0 and progress[-1] == 1 and progress == sorted(progress) and len(progress) > 10
    assert out["secondEncryptError"] and "already used" in out["secondEncryptError"]

    ballot = EncryptedContest.from_json(json.dumps(out["ballot"], ensure_ascii=False).encode("utf-8"), pk)
    statement = ContestStatement(pk, ELECTION, CONTEST, PSEUDONYM, len(selections), 7)
    verify_contest(statement, ballot)
    verify_contest(statement, ballot, batch=False)
    assert out["ballotHash"] == ballot_hash(ballot)
    seed = bytes.fromhex(out["seedHex"])
    assert recover_selections(statement, ballot, seed) == selections


def test_each_precompute_draws_a_fresh_seed(page: Any, pk: PublicKey) -> None:
    """Also covers the default worker URL (the file next to the bundle)."""
    params = {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": 3, "maxSelections": 1, "workers": 2, "selections": [0, 1, 0],
        "useDefaultWorkerUrl": True,
    }
    first = page.evaluate("(p) => window.ssbHarness.run(p)", params)
    second = page.evaluate("(p) => window.ssbHarness.run(p)", params)
    assert page.errors == [] and first["violations"] == []
    assert first["seedHex"] != second["seedHex"]
    assert first["ballotHash"] != second["ballotHash"]
    for out in (first, second):
        ballot = EncryptedContest.from_dict(out["ballot"], pk)
        verify_contest(ContestStatement(pk, ELECTION, CONTEST, PSEUDONYM, 3, 1), ballot)


def test_subresource_integrity_mismatch_blocks_the_bundle(browser: Any) -> None:
    """A page whose SRI hash does not match the served bundle gets no window.SSBCrypto."""
    with serve_harness(integrity_override="sha384-" + "A" * 64) as url:
        pg = browser.new_page()
        messages: list[str] = []
        pg.on("console", lambda msg: messages.append(msg.text))
        pg.goto(url)
        pg.wait_for_timeout(1000)
        assert pg.evaluate("window.SSBCrypto === undefined && window.ssbHarness === undefined")
        assert any("integrity" in m for m in messages), messages
        pg.close()


def test_worker_load_failure_rejects_precompute(browser: Any, pk: PublicKey) -> None:
    """A missing worker script (or a CSP refusal) fails precompute() clearly; no ballot is possible."""
    with serve_harness() as url:
        pg = browser.new_page()
        pg.goto(url)
        pg.wait_for_function("window.ssbHarness !== undefined")
        result = pg.evaluate(
            """async (p) => {
                const enc = window.SSBCrypto.createBallotEncryptor({...p, workerUrl: '/static/dist/missing.js'});
                try { await enc.precompute(); return 'no error'; }
                catch (e) {
                    let after = 'encrypt allowed';
                    try { await enc.encrypt([1, 0]); } catch (e2) { after = e2.message; }
                    return `${enc.state} | ${e.message} | ${after}`;
                }
            }""",
            {"publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
             "numCandidates": 2, "maxSelections": 1, "workers": 2},
        )
        pg.close()
    state, message, after = result.split(" | ")
    assert state == "new"
    assert "worker" in message and "missing.js" in message
    assert "before precompute" in after


def test_workers_and_their_tables_are_kept_for_the_page_and_concurrent_ballots_get_their_own(
        page: Any, pk: PublicKey) -> None:
    """Issue 19: the workers keep their fixed-base tables of h_s (docs/protocol.md §5.7) for the
    page's next ballot — an audit's re-encryption or a re-vote starts no new worker — and two
    ballots prepared at the same time do not share a pool (a worker holds one seed at a time);
    every ballot verifies and opens with its own seed."""
    params = {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": 4, "maxSelections": 2, "workers": 2, "selections": [1, 0, 0, 1],
    }
    page.evaluate("(p) => window.ssbHarness.run(p)", params)  # the page's pool exists now
    before = len(page.workers_seen)
    again = page.evaluate("(p) => window.ssbHarness.run(p)", params)
    assert len(page.workers_seen) == before  # no new worker: tables kept
    both = page.evaluate("(p) => Promise.all([window.ssbHarness.run(p), window.ssbHarness.run(p)])", params)
    assert len(page.workers_seen) == before + 2  # the second, concurrent ballot got its own pool
    assert page.errors == []
    statement = ContestStatement(pk, ELECTION, CONTEST, PSEUDONYM, 4, 2)
    seeds = set()
    for out in [again, *both]:
        ballot = EncryptedContest.from_dict(out["ballot"], pk)
        verify_contest(statement, ballot)
        assert recover_selections(statement, ballot, bytes.fromhex(out["seedHex"])) == [1, 0, 0, 1]
        seeds.add(out["seedHex"])
    assert len(seeds) == 3
