"""The proof process (crypto/proof_process.py): a child process checks the cast API's batches from
the ballots' canonical JSON, with exactly the verdicts crypto.verify_many gives in the parent;
a child that dies is replaced, one that keeps dying makes the batch undecided (never accepted),
and a child never outlives its parent."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

import pytest

from crypto import ContestStatement, ElectionPublicKey, EncryptedContest, InvalidInput, PublicKey, encrypt_contest
from crypto import verify_many
from crypto.proof_process import Item, ProofProcess, ProofProcessLost, check_items, item, serve
from tests.crypto.forge import forge_ballot

E, C = "election-proof-process", "insured"
N, K = 5, 2
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"


@pytest.fixture(scope="module")
def pk() -> PublicKey:
    data = json.loads((VECTORS / "test_key.json").read_text())
    return ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True).public_key


@pytest.fixture(scope="module")
def proofs() -> Iterator[ProofProcess]:
    process = ProofProcess()
    yield process
    process.stop()


def _statement(pk: PublicKey, voter: str, n: int = N) -> ContestStatement:
    return ContestStatement(pk, E, C, voter, n, K)


def _ballot(pk: PublicKey, voter: str, selections: list[int]) -> EncryptedContest:
    return encrypt_contest(_statement(pk, voter, len(selections)), selections, bytes([len(voter)] * 32))


def _mixed(pk: PublicKey) -> tuple[list[tuple[ContestStatement, EncryptedContest]], list[Item]]:
    """Valid ballots with a forged one, a copied one and one of another shape among them."""
    good = [(_statement(pk, f"voter-{i}"), _ballot(pk, f"voter-{i}", [0, 1, 0, 0, 1])) for i in range(3)]
    forged = (_statement(pk, "cheater"), forge_ballot(_statement(pk, "cheater"), [0, 2, 0, 0, 0]))
    copied = (_statement(pk, "copier"), good[0][1])
    other_shape = (_statement(pk, "voter-x", N + 1), _ballot(pk, "voter-x", [1, 0, 0, 0, 0]))
    pairs = [good[0], forged, good[1], copied, other_shape, good[2]]
    return pairs, [item(s, b.to_json()) for s, b in pairs]


def _messages(errors: dict[int, InvalidInput]) -> dict[int, tuple[type, str]]:
    return {position: (type(error), str(error)) for position, error in errors.items()}


def test_the_child_gives_the_verdicts_of_verify_many_in_the_parent(pk: PublicKey, proofs: ProofProcess) -> None:
    pairs, items = _mixed(pk)
    expected = _messages(verify_many(pairs))
    assert sorted(expected) == [1, 3, 4]  # the forged, the copied and the wrong-shape ballot
    assert "0/1 proof of candidate 1" in expected[1][1] and "expected 6 ciphertexts" in expected[4][1]
    assert _messages(check_items(items)) == expected  # in this process, from the bytes
    errors, cpu = proofs.check(items)  # in the child
    assert _messages(errors) == expected
    assert cpu > 0 and proofs.pid not in (None, os.getpid())


def test_bytes_that_are_not_canonical_are_parsed_strictly_and_garbage_is_named(
        pk: PublicKey, proofs: ProofProcess) -> None:
    statement = _statement(pk, "voter-spaces")
    ballot = _ballot(pk, "voter-spaces", [1, 0, 0, 1, 0])
    spaced = json.dumps(ballot.to_dict(), indent=1).encode()  # the same ballot, not canonical JSON
    truncated = ballot.to_json()[:-2]
    errors, _ = proofs.check([item(statement, spaced), item(statement, truncated), item(statement, b"[]")])
    assert sorted(errors) == [1, 2]
    assert all(isinstance(e, InvalidInput) and "ballot" in str(e) for e in errors.values())


def test_a_killed_child_is_replaced(pk: PublicKey, proofs: ProofProcess) -> None:
    statement = _statement(pk, "voter-k")
    ballot = _ballot(pk, "voter-k", [0, 0, 1, 0, 0])
    assert proofs.check([item(statement, ballot.to_json())])[0] == {}
    first = proofs.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    time.sleep(0.2)
    assert proofs.check([item(statement, ballot.to_json())])[0] == {}
    assert proofs.pid not in (None, first)


def _serve_after_dying_once(connection: Connection) -> None:
    """Dies on its first batch the first time it runs (a marker file), then serves normally."""
    marker = Path(os.environ["SSBVOTE_TEST_DIED_ONCE"])
    if not marker.exists():
        connection.recv()
        marker.write_text("died")
        os._exit(9)
    serve(connection)


def test_a_child_lost_mid_batch_is_replaced_and_the_batch_checked_again(
        pk: PublicKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSBVOTE_TEST_DIED_ONCE", str(tmp_path / "died"))
    proofs = ProofProcess(target=_serve_after_dying_once)
    try:
        pairs, items = _mixed(pk)
        errors, _ = proofs.check(items)
        assert (tmp_path / "died").exists()  # the first child took the batch and died with it
        assert _messages(errors) == _messages(verify_many(pairs))
    finally:
        proofs.stop()


def _dying_serve(connection: Connection) -> None:
    """A proof process that dies on its first batch (module level: the spawned child imports it)."""
    connection.recv()
    os._exit(3)


def test_a_child_that_keeps_dying_leaves_the_batch_undecided(pk: PublicKey) -> None:
    proofs = ProofProcess(target=_dying_serve)
    try:
        with pytest.raises(ProofProcessLost, match="stopped while checking"):
            proofs.check([item(_statement(pk, "v"), _ballot(pk, "v", [1, 0, 0, 0, 0]).to_json())])
    finally:
        proofs.stop()


def test_a_child_never_outlives_its_parent(tmp_path: Path) -> None:
    """The parent is killed (SIGKILL: no atexit, no cleanup); its child sees the pipe close and exits."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from crypto.proof_process import ProofProcess\n"
        "if __name__ == '__main__':\n"
        "    p = ProofProcess()\n"
        "    p.check([])\n"
        "    print(p.pid, flush=True)\n"
        "    time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert Path(f"/proc/{child}").exists()
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child)
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie — exited, not yet reaped by init — counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
