"""The cast API's verifier thread (app/services/voting/verification.py): concurrent casts are checked in
one batch; a bad ballot in a batch is refused on its own, with its reason, and never takes a
valid ballot down with it."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.services.voting import verification
from app.services.voting.verification import GroupVerifier, _Job, check_jobs
from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, InvalidInput, PublicKey, encrypt_contest
from tests.crypto.forge import forge_ballot

E, C = "election-group", "insured"
N, K = 5, 2
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@pytest.fixture(scope="module")
def pk() -> PublicKey:
    data = json.loads((VECTORS / "test_key.json").read_text())
    return ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True).public_key


def _statement(pk: PublicKey, voter: str, n: int = N) -> ContestStatement:
    return ContestStatement(pk, E, C, voter, n, K)


def _ballot(pk: PublicKey, voter: str, selections: list[int]) -> EncryptedContest:
    return encrypt_contest(_statement(pk, voter, len(selections)), selections, bytes([len(voter)] * 32))


def _job(pk: PublicKey, voter: str, ballot: EncryptedContest) -> _Job:
    return _Job(_statement(pk, voter), ballot)


def test_a_batch_of_valid_ballots_passes(pk: PublicKey) -> None:
    jobs = [_job(pk, f"voter-{i}", _ballot(pk, f"voter-{i}", [1, 0, 0, 1, 0])) for i in range(4)]
    check_jobs(jobs)
    assert [job.error for job in jobs] == [None] * 4


def test_a_bad_ballot_is_refused_alone_with_its_reason(pk: PublicKey) -> None:
    good = [_job(pk, f"voter-{i}", _ballot(pk, f"voter-{i}", [0, 1, 0, 0, 1])) for i in range(3)]
    forged = _job(pk, "cheater", forge_ballot(_statement(pk, "cheater"), [0, 2, 0, 0, 0]))  # (V2) fails
    copied = _job(pk, "copier", good[0].ballot)  # another voter's ballot: challenges differ (V1)
    other_shape = _Job(_statement(pk, "voter-x", N + 1), _ballot(pk, "voter-x", [1, 0, 0, 0, 0]))  # 5 for 6
    jobs = [good[0], forged, good[1], copied, other_shape, good[2]]
    check_jobs(jobs)
    assert [job.error for job in good] == [None] * 3
    assert isinstance(forged.error, InvalidInput) and "0/1 proof of candidate 1" in str(forged.error)
    assert isinstance(copied.error, InvalidInput) and "Fiat–Shamir" in str(copied.error)
    assert isinstance(other_shape.error, InvalidInput) and "expected 6 ciphertexts" in str(other_shape.error)


def test_a_lone_bad_ballot_is_named(pk: PublicKey) -> None:
    forged = _job(pk, "cheater", forge_ballot(_statement(pk, "cheater"), [1, 1, 1, 0, 0]))  # sum 3 > k
    check_jobs([forged])
    assert isinstance(forged.error, InvalidInput) and "sum proof" in str(forged.error)


def test_ballots_under_different_keys_are_batched_apart(pk: PublicKey) -> None:
    import gmpy2
    p, q = gmpy2.next_prime(3 * 2**254 + 12345), gmpy2.next_prime(3 * 2**254 + 98765)
    other = PublicKey(int(p * q), allow_insecure_test_key=True)
    jobs = [_job(pk, "a", _ballot(pk, "a", [1, 0, 0, 0, 0])),
            _job(other, "b", _ballot(other, "b", [0, 0, 0, 0, 1])),
            _job(pk, "c", _ballot(pk, "c", [0, 0, 1, 1, 0]))]
    check_jobs(jobs)
    assert [job.error for job in jobs] == [None] * 3


def test_concurrent_casts_share_a_batch_and_each_gets_its_own_answer(
        pk: PublicKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the verifier thread in its first batch while six more casts arrive: they are checked
    together in the next batch, and each caller gets its own verdict."""
    group = GroupVerifier(max_batch=8)
    first_batch_started, release = threading.Event(), threading.Event()
    sizes: list[int] = []
    real = verification.check_jobs

    def held(jobs: list[_Job]) -> float:
        sizes.append(len(jobs))
        if len(sizes) == 1:
            first_batch_started.set()
            release.wait(10)
        return real(jobs)

    monkeypatch.setattr(verification, "check_jobs", held)
    voters = [f"voter-{i}" for i in range(7)]
    ballots = {v: _ballot(pk, v, [1, 0, 1, 0, 0]) for v in voters}
    ballots["voter-3"] = forge_ballot(_statement(pk, "voter-3"), [0, 0, 0, 3, 0])
    outcomes: dict[str, Any] = {}

    def cast(voter: str) -> None:
        try:
            group.verify(_statement(pk, voter), ballots[voter])
            outcomes[voter] = "ok"
        except InvalidInput as exc:
            outcomes[voter] = exc

    threads = [threading.Thread(target=cast, args=(voters[0],))]
    threads[0].start()
    assert first_batch_started.wait(10)
    for voter in voters[1:]:
        threads.append(threading.Thread(target=cast, args=(voter,)))
        threads[-1].start()
    while len(group._queue) < 6:  # all six are waiting for the verifier
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(30)
    assert sizes == [1, 6]
    assert group.largest_batch == 6
    assert {v: o for v, o in outcomes.items() if o != "ok"}.keys() == {"voter-3"}
    assert "0/1 proof of candidate 3" in str(outcomes["voter-3"])
    assert len(outcomes) == 7


def test_the_verifier_thread_survives_a_bug_and_reports_it(pk: PublicKey, monkeypatch: pytest.MonkeyPatch) -> None:
    group = GroupVerifier()

    def broken(jobs: list[_Job]) -> float:
        raise RuntimeError("boom")

    monkeypatch.setattr(verification, "check_jobs", broken)
    ballot = _ballot(pk, "a", [1, 0, 0, 0, 0])
    with pytest.raises(RuntimeError, match="boom"):
        group.verify(_statement(pk, "a"), ballot)
    monkeypatch.undo()
    group.verify(_statement(pk, "a"), ballot)  # the same thread goes on


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = verification.check_jobs

    def recorded(jobs: list[_Job]) -> float:
        sizes.append(len(jobs))
        return real(jobs)

    monkeypatch.setattr(verification, "check_jobs", recorded)
    return sizes


def test_a_lone_cast_is_checked_at_once_however_long_the_linger(
        pk: PublicKey, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = _recording(monkeypatch)
    group = GroupVerifier(min_batch=3, linger=5.0)
    ballot = _ballot(pk, "alone", [0, 0, 1, 0, 0])
    started = time.monotonic()
    with group.cast_in_progress():
        group.verify(_statement(pk, "alone"), ballot)
    assert time.monotonic() - started < 2.5  # nobody else is casting: no waiting for a batch
    assert sizes == [1]


def test_under_load_the_verifier_waits_for_casts_on_their_way(
        pk: PublicKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three casts in progress: the first ballot is not checked alone while the other two are
    still being parsed; all three go in one batch."""
    sizes = _recording(monkeypatch)
    group = GroupVerifier(min_batch=3, linger=5.0)
    voters = ["first", "second", "third"]
    ballots = {v: _ballot(pk, v, [1, 0, 0, 0, 1]) for v in voters}
    entered = threading.Barrier(3)
    outcomes: dict[str, str] = {}

    def cast(voter: str, parse_seconds: float) -> None:
        with group.cast_in_progress():
            entered.wait(10)
            time.sleep(parse_seconds)  # receiving and parsing the ballot
            group.verify(_statement(pk, voter), ballots[voter])
            outcomes[voter] = "ok"

    threads = [threading.Thread(target=cast, args=(v, d)) for v, d in zip(voters, (0.0, 0.3, 0.6))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == {v: "ok" for v in voters}
    assert sizes == [3]
    assert group._active == group._coming == 0


def test_the_linger_is_bounded_and_a_refused_cast_is_not_waited_for(
        pk: PublicKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cast still in progress that never reaches verification (refused early, or slow) holds
    a ballot back at most ``linger`` seconds; once it leaves, nobody waits for it."""
    sizes = _recording(monkeypatch)
    group = GroupVerifier(min_batch=3, linger=0.4)
    other_entered, other_may_leave = threading.Event(), threading.Event()

    def refused_later() -> None:
        with group.cast_in_progress():
            other_entered.set()
            other_may_leave.wait(10)

    other = threading.Thread(target=refused_later)
    other.start()
    assert other_entered.wait(10)
    ballot = _ballot(pk, "waiting", [0, 1, 0, 0, 0])
    started = time.monotonic()
    with group.cast_in_progress():
        group.verify(_statement(pk, "waiting"), ballot)
    waited = time.monotonic() - started
    assert 0.3 <= waited < 3.0
    other_may_leave.set()
    other.join(10)
    assert group._active == group._coming == 0
    started = time.monotonic()
    with group.cast_in_progress():
        group.verify(_statement(pk, "waiting"), ballot)
    assert time.monotonic() - started < 0.3  # alone again: checked at once
    assert sizes == [1, 1]


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"min_batch": 0}, {"max_batch": 2, "min_batch": 3},
                                    {"linger": -0.1}, {"linger": 60}])
def test_batching_policy_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GroupVerifier(**kwargs)
