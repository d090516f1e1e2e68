"""Admission control of the cast API (app/services/voting/admission.py): a full worker answers 503
"busy" with Retry-After at once, writes nothing, charges the voter nothing — and once the load
is gone the same ballot is accepted. Proof verification is never skipped."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask

from app.config import Config, ConfigError
from app.extensions import db
from app.services.voting import admission, verification
from tests.conftest import build_app, make_config
from tests.e2e.test_casting_api import Voter, board_state, signed_in
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, Clock
from tests.support.factories import insured_csv, national_ids, small_manifest

VOTERS = 5


def _env(tmp_path: Path, database_url: str | None) -> Iterator[dict[str, Any]]:
    clock = Clock()
    app = build_app(make_config(tmp_path, database_url, **FAST_ARGON2, AUTH_CLOCK=clock,
                                CAST_MAX_INFLIGHT=2, CAST_RATE_LIMIT="3 per hour"))
    with app.app_context():
        ids = national_ids(VOTERS)
        setup = election_setup.ready_election(small_manifest(), [insured_csv(ids)], tmp_path / "trustees", clock())
        yield {"app": app, "clock": clock, "election": setup.election, "ids": ids, "credentials": setup.credentials}
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    yield from _env(tmp_path, None)


@pytest.fixture
def pg_env(tmp_path: Path, pg_url: str) -> Iterator[dict[str, Any]]:
    """On PostgreSQL: with SQLite, BEGIN IMMEDIATE at a request's first query serialises whole
    casts on the database lock, so requests never even reach the admission gate together."""
    yield from _env(tmp_path, pg_url)


def prepared(voter: Voter, selections: list[int], tamper: bool = False) -> dict[str, Any]:
    """A cast request signed with the voter's credential (``tamper``: two ciphertexts swapped
    before signing, so that only the proofs fail)."""
    context = voter.context()
    ballot, seed = voter.encrypt(selections, context)
    if tamper:
        ballot["ciphertexts"][0], ballot["ciphertexts"][1] = ballot["ciphertexts"][1], ballot["ciphertexts"][0]
    return voter.body(ballot, seed, context)


class HeldSlots:
    """Occupy every cast slot of the app's worker from other threads, as casts in progress do:
    one verifying, the rest waiting for their turn."""

    def __init__(self, app: Flask):
        self.gate = admission.gate(app)
        self.release = threading.Event()
        self.threads = [threading.Thread(target=self._hold) for _ in range(self.gate.max_inflight)]

    def _hold(self) -> None:
        with self.gate.admit():
            self.release.wait(30)

    def __enter__(self) -> "HeldSlots":
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + 10
        while self.gate.inflight < self.gate.max_inflight:
            assert time.monotonic() < deadline, "slots not taken"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        for t in self.threads:
            t.join(10)


def test_full_worker_answers_busy_with_retry_after_and_writes_nothing(env: dict[str, Any]) -> None:
    app, election = env["app"], env["election"]
    voter = signed_in(env)
    body = prepared(voter, [1, 0, 1, 0, 0])
    headers = voter.headers()
    assert board_state(election) == (0, [])

    with HeldSlots(app):
        started = time.perf_counter()
        # More attempts than the voter's cast allowance (3 per hour): busy answers are free.
        for _ in range(5):
            refused = voter.post(body, headers)
            assert refused.status_code == 503, refused.get_json()
            assert refused.get_json()["error"] == "busy"
            retry = refused.headers["Retry-After"]
            assert retry.isdigit() and 1 <= int(retry) <= 30
            assert refused.get_json()["retry_after"] == int(retry)
        assert time.perf_counter() - started < 2, "busy answers must be immediate"
        assert board_state(election) == (0, [])

    accepted = voter.post(body, headers)
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["receipt"]["seq"] == 1
    assert board_state(election) == (1, [])
    assert admission.gate(app).inflight == 0


def test_busy_still_verifies_every_admitted_ballot(env: dict[str, Any]) -> None:
    """Admission only decides when; a bad ballot is still refused after its slot frees up."""
    app, election = env["app"], env["election"]
    voter = signed_in(env)
    body = prepared(voter, [1, 1, 0, 0, 0], tamper=True)
    with HeldSlots(app):
        assert voter.post(body).status_code == 503
    rejected = voter.post(body)
    assert rejected.status_code == 400 and rejected.get_json()["error"] == "invalid_ballot"
    assert board_state(election) == (0, [])


@pytest.mark.postgres
def test_burst_beyond_the_bound_is_refused_fast_then_accepted(
        pg_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A burst of 5 casts at a worker admitting 2, with verification slowed to 0.6 s each:
    2 are verified and accepted, 3 get 503 long before any verification
    could finish; the board holds exactly the accepted ones; afterwards the refused casts
    succeed."""
    env = pg_env
    app, election = env["app"], env["election"]
    real_verify = verification.verify

    def slow_verify(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.6)
        real_verify(*args, **kwargs)  # the real check still runs

    monkeypatch.setattr(verification, "verify", slow_verify)
    voters = [signed_in(env, index=i) for i in range(VOTERS)]
    bodies = [prepared(v, [0] * i + [1] + [0] * (4 - i)) for i, v in enumerate(voters)]
    headers = [v.headers() for v in voters]
    results: list[tuple[int, float, Any]] = [(0, 0.0, None)] * VOTERS
    barrier = threading.Barrier(VOTERS)

    def cast(i: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        response = voters[i].post(bodies[i], headers[i])
        results[i] = (response.status_code, time.perf_counter() - started, response)

    db.session.rollback()  # the casts run in their own app contexts (sessions)
    threads = [threading.Thread(target=cast, args=(i,)) for i in range(VOTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201, 201, 503, 503, 503], statuses
    for status, seconds, response in results:
        if status == 503:
            assert seconds < 0.5, "a busy answer must not wait for a verification"
            assert int(response.headers["Retry-After"]) >= 1
    receipts = [r.get_json()["receipt"] for s, _, r in results if s == 201]
    assert sorted(r["seq"] for r in receipts) == [1, 2]
    assert board_state(election) == (2, [])

    monkeypatch.setattr(verification, "verify", real_verify)
    for i, (status, _, _) in enumerate(results):
        if status == 503:
            again = voters[i].post(bodies[i], headers[i])
            assert again.status_code == 201, again.get_json()
    assert board_state(election) == (VOTERS, [])
    assert admission.gate(app).inflight == 0


def test_cast_max_inflight_is_configurable(tmp_path: Path) -> None:
    config = Config.from_env({"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(tmp_path), "SSBVOTE_CAST_MAX_INFLIGHT": "3"})
    assert config.cast_max_inflight == 3
    with pytest.raises(ConfigError, match="CAST_MAX_INFLIGHT"):
        Config.from_env({"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(tmp_path), "SSBVOTE_CAST_MAX_INFLIGHT": "0"})
    gate = admission.AdmissionGate(1)
    with gate.admit():
        with pytest.raises(admission.Busy) as busy:
            with gate.admit():
                pass  # pragma: no cover
        assert busy.value.retry_after >= 1
    with gate.admit():
        pass
