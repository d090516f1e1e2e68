"""A failed Web Worker does not leave the voter unable to make a ballot (issue 19, docs/protocol.md
§5.7, frontend/src/encryptor.js startWorkers).

Each worker owns a range of the table's rows that no other worker holds, so a worker that fails
(an error reply, an uncaught exception, a script that does not load) is replaced by a new worker
for the same range, which is sent that range's unanswered batches again; after MAX_REPLACEMENTS
replacements of one range the page falls back to one worker over all rows, and only then reports
the failure.  The failures are real: the harness page (only it) starts some workers from
tests/js/harness/faulty-worker.js, the real worker script made to fail.  Every ballot made
verifies and opens in Python.
"""
from __future__ import annotations

from typing import Any

import pytest

from crypto import PublicKey
from tests.js.test_browser_table_cache import (  # noqa: F401 - pytest fixtures
    ELECTION, CONTEST, PSEUDONYM, SELECTIONS, ballot_verifies, context, open_page, url, warm,
)

pytestmark = pytest.mark.browser


def fail_workers(page: Any, count: int, mode: str) -> None:
    assert page.evaluate("([c, m]) => window.ssbHarness.failWorkers(c, m)", [count, mode]) is True


def test_a_worker_failing_its_warm_up_is_replaced(context: Any, url: str, pk: PublicKey) -> None:
    page = open_page(context, url)
    fail_workers(page, 1, "warm")  # the first worker answers its warm-up with an error
    out = warm(page, pk)
    assert out["source"] == "built"
    assert out["reasons"][0] == "absent; worker replaced 1× (test: out of memory)", out["reasons"]
    assert out["reasons"][1] == "absent" and out["timings"][0]["replaced"] == 1
    assert page.evaluate("window.ssbHarness.workersStarted()") == 3
    ballot_verifies(page, pk)
    page.close()


@pytest.mark.parametrize("mode", ["powers", "load"])
def test_a_worker_crashing_mid_ballot_is_replaced_and_the_ballot_verifies(
        context: Any, url: str, pk: PublicKey, mode: str) -> None:
    """powers: the worker throws (uncaught) on its first batch while the ballot is being
    precomputed, its batches are sent to its replacement; load: its script fails to load."""
    page = open_page(context, url)
    fail_workers(page, 1, mode)
    out = ballot_verifies(page, pk)  # no warm-up first: the ballot's own pool
    assert out["progress"] == sorted(out["progress"])
    assert page.evaluate("window.ssbHarness.workersStarted()") == 3
    page.close()


def test_a_split_that_keeps_failing_falls_back_to_one_worker(context: Any, url: str, pk: PublicKey) -> None:
    """Workers of a split table fail every time (as when two tables do not fit in memory): after
    two replacements of a range, one worker over all rows makes the table and the ballot."""
    page = open_page(context, url)
    fail_workers(page, 1000, "split")
    out = warm(page, pk)
    assert out["source"] == "built" and len(out["reasons"]) == 1 and out["timings"][0]["rows"].startswith("0-")
    assert "one worker after: precomputation worker for rows" in out["reasons"][0], out["reasons"]
    assert "failed 3 times (last: test: out of memory)" in out["reasons"][0]
    started = page.evaluate("window.ssbHarness.workersStarted()")
    assert 2 + 2 + 1 <= started <= 2 + 2 * 2 + 1
    ballot_verifies(page, pk)  # the page's later ballots use the one worker
    assert page.evaluate("window.ssbHarness.workersStarted()") == started
    page.close()


@pytest.mark.parametrize("mode", ["warm", "powers"])
def test_workers_that_keep_failing_end_with_a_clear_error_not_a_hang(
        context: Any, url: str, pk: PublicKey, mode: str) -> None:
    page = open_page(context, url)
    fail_workers(page, 1000, mode)
    params = {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": len(SELECTIONS), "maxSelections": 2, "workers": 2, "selections": SELECTIONS,
    }
    error = page.evaluate("""(p) => window.ssbHarness.run(p).then(
        () => 'made a ballot', (err) => String(err && err.message))""", params)
    # ballot-page.js shows its Thai/English "preparation failed" message for 'precomputation…'
    assert error.startswith("precomputation worker for rows 0–"), error
    assert "failed 3 times" in error
    started = page.evaluate("window.ssbHarness.workersStarted()")
    assert started <= 2 + 2 * 2 + 3, started  # bounded: two replacements per range, then one worker (and its two)
    page.close()


def test_a_worker_terminated_mid_build_is_replaced_after_its_silence(context: Any, url: str, pk: PublicKey) -> None:
    """The page terminates a worker after its first table progress: no event reaches the
    encryptor, which notices the silence (STALL_MS, 30 s) while the worker owes its rows and the
    ballot's batches, replaces it, and the ballot is made."""
    page = open_page(context, url)
    fail_workers(page, 1, "terminate")
    out = ballot_verifies(page, pk)
    assert out["precomputeMs"] >= 30_000
    assert page.evaluate("window.ssbHarness.workersStarted()") == 3
    page.close()
