"""The IndexedDB cache of the workers' fixed-base table of h_s, in real headless Chromium (issue 19,
docs/protocol.md §5.7, frontend/src/tablecache.js).

A page's first warm-up builds the table (each worker builds only its own range of rows, never
sending or receiving rows) and each worker stores its range; the next page of the same origin
loads them instead of building them.  A damaged or
mismatched entry is detected, never used, deleted and rebuilt.  Ballots made with a cached (or
rebuilt) table verify with the Python reference the server uses and open with their seed.
"""
from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from crypto import ContestStatement, EncryptedContest, PublicKey, recover_selections, verify_contest
from tests.js.harness_server import serve_harness

pytestmark = pytest.mark.browser

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
CONTEST = "employer-board"
PSEUDONYM = "ผู้ประกันตน-cache"
SELECTIONS = [0, 1, 0, 0, 1, 0]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_harness() as u:
        yield u


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test: its own, empty IndexedDB."""
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def open_page(context: Any, url: str) -> Any:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("window.ssbHarness !== undefined", timeout=15_000)
    return page


def warm(page: Any, pk: PublicKey, workers: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = page.evaluate(
        "(p) => window.ssbHarness.warm(p)", {"publicKey": pk.to_dict(), "workers": workers})
    return out


def wait_stored(page: Any, entries: int = 2) -> None:
    """Each worker stores its range after it is warm; wait until every entry is there."""
    deadline = time.monotonic() + 60
    while len(page.evaluate("window.ssbHarness.cacheKeys()")) < entries:
        assert time.monotonic() < deadline, "the table was not stored in IndexedDB"
        page.wait_for_timeout(100)
    assert len(page.evaluate("window.ssbHarness.cacheKeys()")) == entries


def ballot_verifies(page: Any, pk: PublicKey, workers: int = 2) -> dict[str, Any]:
    """A ballot from the page's pool (its workers' rows) verifies and opens with its seed."""
    params = {
        "publicKey": pk.to_dict(), "electionId": ELECTION, "contestId": CONTEST, "pseudonym": PSEUDONYM,
        "numCandidates": len(SELECTIONS), "maxSelections": 2, "workers": workers, "selections": SELECTIONS,
    }
    out = page.evaluate("(p) => window.ssbHarness.run(p)", params)
    ballot = EncryptedContest.from_dict(out["ballot"], pk)
    statement = ContestStatement(pk, ELECTION, CONTEST, PSEUDONYM, len(SELECTIONS), 2)
    verify_contest(statement, ballot)
    verify_contest(statement, ballot, batch=False)
    assert recover_selections(statement, ballot, bytes.fromhex(out["seedHex"])) == SELECTIONS
    assert page.errors == [] and out["violations"] == []
    return out


def test_second_page_loads_the_cached_table_and_its_ballots_verify(context: Any, url: str, pk: PublicKey) -> None:
    first = open_page(context, url)
    assert first.evaluate("window.ssbHarness.cacheKeys()") == []
    built = warm(first, pk)
    assert built["source"] == "built" and built["reasons"] == ["absent", "absent"]
    progress = built["progress"]
    assert progress == sorted(progress) and progress[-1] == 1 and len(progress) > 3
    wait_stored(first)
    ballot_verifies(first, pk)  # the partials of the two workers' ranges make correct powers
    first.close()

    second = open_page(context, url)  # new workers: nothing in memory
    cached = warm(second, pk)
    assert cached["source"] == "cache" and cached["reasons"] == ["cached", "cached"]
    assert second.evaluate("window.ssbHarness.cacheKeys()") != []
    ballot_verifies(second, pk)
    second.close()


@pytest.mark.parametrize("damage", ["byte", "shape", "hs", "truncate", "resigned"])
def test_damaged_cache_entry_is_detected_deleted_and_rebuilt(
        context: Any, url: str, pk: PublicKey, damage: str) -> None:
    """byte: digest mismatch; shape: another window; hs: another short base; truncate: wrong
    length; resigned: a wrong row start under a digest recomputed to match (the row chain check)."""
    first = open_page(context, url)
    warm(first, pk)
    wait_stored(first)
    assert first.evaluate("(m) => window.ssbHarness.corruptCache(m)", damage) == 2  # both ranges
    first.close()

    second = open_page(context, url)
    rebuilt = warm(second, pk)
    assert rebuilt["source"] == "built"
    ranges = [tuple(int(x) for x in t["rows"].split("-")) for t in rebuilt["timings"]]
    assert ranges[0][0] == 0 and ranges[0][1] == ranges[1][0]
    expected = [{"byte": "digest mismatch", "shape": "another table shape", "hs": "another key or short base",
                 "truncate": "wrong data length", "resigned": f"row {r0 + 5} does not follow row {r0 + 4}"}[damage]
                for r0, _ in ranges]
    # each worker reads only its own range: each refuses (and deletes) its damaged entry
    assert rebuilt["reasons"] == expected, rebuilt["reasons"]
    ballot_verifies(second, pk)  # made with the rebuilt table, never the damaged one
    wait_stored(second)  # a good entry replaces the damaged one
    second.close()

    third = open_page(context, url)
    assert warm(third, pk)["source"] == "cache"
    third.close()


def test_one_and_two_workers_make_ballots_that_verify(context: Any, url: str, pk: PublicKey) -> None:
    """One worker owns every row (its partial is the power itself); two workers own one range
    each and the page multiplies their partials: both ballots verify and open in Python.  Each
    worker count stores its own ranges; a later page with either count loads them."""
    page = open_page(context, url)
    one = warm(page, pk, workers=1)
    assert one["source"] == "built" and one["timings"][0]["rows"].startswith("0-")
    ballot_verifies(page, pk, workers=1)
    two = warm(page, pk, workers=2)
    assert two["source"] == "built" and len(two["timings"]) == 2
    ballot_verifies(page, pk, workers=2)
    wait_stored(page, entries=3)  # [0, all) and the two halves
    page.close()

    again = open_page(context, url)
    assert warm(again, pk, workers=1)["source"] == "cache"
    assert warm(again, pk, workers=2)["source"] == "cache"
    ballot_verifies(again, pk, workers=1)
    ballot_verifies(again, pk, workers=2)
    again.close()


def test_unusable_indexeddb_falls_back_to_building(context: Any, url: str, pk: PublicKey) -> None:
    """A database of a newer version (VersionError on open), as when IndexedDB is unusable:
    the workers build the table, the ballot is made and verifies, nothing is stored."""
    page = open_page(context, url)
    page.evaluate("""() => new Promise((resolve, reject) => {
        const req = indexedDB.open('ssbvote-tables', 99);
        req.onsuccess = () => { req.result.close(); resolve(true); };
        req.onerror = () => reject(req.error);
    })""")
    out = warm(page, pk)
    assert out["source"] == "built" and out["reasons"] == ["unavailable", "unavailable"]
    ballot_verifies(page, pk)
    page.close()
