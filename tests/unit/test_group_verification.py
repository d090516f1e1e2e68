"""The cast API's verifier thread (app/services/verification.py): concurrent casts are checked in
one batch; a bad ballot in a batch is refused on its own, with its reason, and never takes a
valid ballot down with it."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from app.services import verification
from app.services.verification import GroupVerifier, _Job, check_jobs
from crypto.ballot import EncryptedContest, encrypt_contest
from crypto.errors import InvalidInput
from crypto.paillier import PublicKey
from crypto.threshold import ElectionPublicKey
from tests.crypto.forge import forge_ballot

E, C = "election-group", "insured"
N, K = 5, 2
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@pytest.fixture(scope="module")
def pk() -> PublicKey:
    data = json.loads((VECTORS / "test_key.json").read_text())
    return ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True).public_key


def _ballot(pk: PublicKey, voter: str, selections: list[int]) -> EncryptedContest:
    return encrypt_contest(pk, E, C, voter, selections, K, bytes([len(voter)] * 32))


def _job(pk: PublicKey, voter: str, ballot: EncryptedContest) -> _Job:
    return _Job(pk, (E, C, voter, N, K, ballot))


def test_a_batch_of_valid_ballots_passes(pk: PublicKey) -> None:
    jobs = [_job(pk, f"voter-{i}", _ballot(pk, f"voter-{i}", [1, 0, 0, 1, 0])) for i in range(4)]
    check_jobs(jobs)
    assert [job.error for job in jobs] == [None] * 4


def test_a_bad_ballot_is_refused_alone_with_its_reason(pk: PublicKey) -> None:
    good = [_job(pk, f"voter-{i}", _ballot(pk, f"voter-{i}", [0, 1, 0, 0, 1])) for i in range(3)]
    forged = _job(pk, "cheater", forge_ballot(pk, E, C, "cheater", [0, 2, 0, 0, 0], K))  # (V2) fails
    copied = _job(pk, "copier", good[0].args[5])  # another voter's ballot: challenges differ (V1)
    other_shape = _job(pk, "voter-x", _ballot(pk, "voter-x", [1, 0, 0, 0, 0]))
    other_shape.args = (E, C, "voter-x", N + 1, K, other_shape.args[5])  # 5 ciphertexts for 6
    jobs = [good[0], forged, good[1], copied, other_shape, good[2]]
    check_jobs(jobs)
    assert [job.error for job in good] == [None] * 3
    assert isinstance(forged.error, InvalidInput) and "0/1 proof of candidate 1" in str(forged.error)
    assert isinstance(copied.error, InvalidInput) and "Fiat–Shamir" in str(copied.error)
    assert isinstance(other_shape.error, InvalidInput) and "expected 6 ciphertexts" in str(other_shape.error)


def test_a_lone_bad_ballot_is_named(pk: PublicKey) -> None:
    forged = _job(pk, "cheater", forge_ballot(pk, E, C, "cheater", [1, 1, 1, 0, 0], K))  # sum 3 > k
    check_jobs([forged])
    assert isinstance(forged.error, InvalidInput) and "sum proof" in str(forged.error)


def test_ballots_under_different_keys_are_batched_apart(pk: PublicKey) -> None:
    import gmpy2
    p, q = gmpy2.next_prime(3 * 2**254 + 12345), gmpy2.next_prime(3 * 2**254 + 98765)
    other = PublicKey(int(p * q), allow_insecure_test_key=True)
    jobs = [_job(pk, "a", _ballot(pk, "a", [1, 0, 0, 0, 0])),
            _Job(other, (E, C, "b", N, K, _ballot(other, "b", [0, 0, 0, 0, 1]))),
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

    def held(jobs: list[_Job]) -> None:
        sizes.append(len(jobs))
        if len(sizes) == 1:
            first_batch_started.set()
            release.wait(10)
        real(jobs)

    monkeypatch.setattr(verification, "check_jobs", held)
    voters = [f"voter-{i}" for i in range(7)]
    ballots = {v: _ballot(pk, v, [1, 0, 1, 0, 0]) for v in voters}
    ballots["voter-3"] = forge_ballot(pk, E, C, "voter-3", [0, 0, 0, 3, 0], K)
    outcomes: dict[str, Any] = {}

    def cast(voter: str) -> None:
        try:
            group.verify(pk, E, C, voter, N, K, ballots[voter])
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

    def broken(jobs: list[_Job]) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(verification, "check_jobs", broken)
    ballot = _ballot(pk, "a", [1, 0, 0, 0, 0])
    with pytest.raises(RuntimeError, match="boom"):
        group.verify(pk, E, C, "a", N, K, ballot)
    monkeypatch.undo()
    group.verify(pk, E, C, "a", N, K, ballot)  # the same thread goes on


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupVerifier(max_batch=0)
