"""``tally prepare --scheduler``: the chunks run on a Dask distributed cluster (here a local one
with two worker processes); outputs are byte-identical to a local run, and a run interrupted
locally resumes on the cluster from the saved chunks (and the other way round)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

import tally.prepare as prepare_mod
from tally.cli import tally_cli
from tally.errors import TallyError
from tally.prepare import ENCRYPTED_TALLY, prepare
from tests.support.board_builder import BoardFixture

from .helpers import die_after_chunks, run_prepare, tree_bytes

try:
    from distributed import LocalCluster
except ImportError:  # pragma: no cover - depends on the installation
    if os.environ.get("CI"):
        raise  # CI installs the test extra, which includes dask[distributed]
    pytest.skip('dask[distributed] is not installed (pip install -e ".[scale]")', allow_module_level=True)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _prepare_on(board: BoardFixture, work: Path, scheduler: str) -> prepare_mod.PrepareSummary:
    return prepare(board.path, work, allow_insecure_test_key=True, show_progress=False, scheduler=scheduler)


def test_dask_outputs_are_byte_identical(board: BoardFixture, tmp_path: Path, scheduler: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare_mod, "CHUNK_SIZE", 8)  # several chunks on the small test board
    local = run_prepare(board, tmp_path / "local", processes=2)
    summary = _prepare_on(board, tmp_path / "dask", scheduler)
    assert summary.chunks_computed == -(-board.num_entries // 8) and summary.chunks_reused == 0
    assert summary.invalid and summary.invalid == local.invalid  # the board's invalid ballot, found by bisection
    assert (summary.counted, summary.excluded) == (local.counted, local.excluded)
    assert tree_bytes(tmp_path / "dask") == tree_bytes(tmp_path / "local")


def test_interrupted_local_run_resumes_on_dask(board: BoardFixture, tmp_path: Path, scheduler: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare_mod, "CHUNK_SIZE", 8)
    reference = tmp_path / "reference"
    run_prepare(board, reference)
    die_after_chunks(monkeypatch, 2)  # as if killed after two chunks
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        run_prepare(board, work)
    assert not (work / ENCRYPTED_TALLY).exists()
    summary = _prepare_on(board, work, scheduler)
    total = -(-board.num_entries // 8)
    assert (summary.chunks_reused, summary.chunks_computed) == (2, total - 2)
    assert tree_bytes(work) == tree_bytes(reference)


def test_cli_scheduler_option(board: BoardFixture, tmp_path: Path, scheduler: str) -> None:
    reference = tmp_path / "reference"
    run_prepare(board, reference)
    result = CliRunner().invoke(tally_cli, [
        "prepare", str(board.path), "--work", str(tmp_path / "work"), "--scheduler", scheduler,
        "--quiet", "--allow-insecure-test-key",
    ])
    assert result.exit_code == 0, result.output
    assert "EXCLUDED invalid ballot" in result.output
    assert tree_bytes(tmp_path / "work") == tree_bytes(reference)


def test_unreachable_scheduler_is_a_clear_error(board: BoardFixture, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare_mod, "SCHEDULER_TIMEOUT", 2)
    result = CliRunner().invoke(tally_cli, [
        "prepare", str(board.path), "--work", str(tmp_path / "work"), "--scheduler", "tcp://127.0.0.1:9",
        "--quiet", "--allow-insecure-test-key",
    ])
    assert result.exit_code == 1
    assert "cannot connect to the Dask scheduler" in result.output


def test_workers_that_cannot_read_the_board_give_a_clear_error(board: BoardFixture, tmp_path: Path, scheduler: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import tally.verify as verify_mod

    real = verify_mod.VerifyContext

    def elsewhere(*args, **kwargs):  # type: ignore[no-untyped-def]
        context = real(*args, **kwargs)
        return dataclasses.replace(context, ballots_path=str(tmp_path / "not-shared" / "ballots.jsonl"))

    monkeypatch.setattr(prepare_mod, "VerifyContext", elsewhere)
    with pytest.raises(TallyError, match="workers must see"):
        _prepare_on(board, tmp_path / "work", scheduler)
