"""Killed and re-run, the tally produces the byte-identical record (architecture: resumable)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tally.prepare as prepare_mod
from tally.prepare import COUNTED, ENCRYPTED_TALLY
from tests.support.board_builder import BoardFixture

from .helpers import die_after_chunks, run_finish, run_prepare, trustee_shares, tree_bytes

ROOT = Path(__file__).resolve().parents[2]


def _reference(board: BoardFixture, tmp_path: Path) -> tuple[Path, list[Path], dict[str, bytes]]:
    work = tmp_path / "ref-work"
    run_prepare(board, work)
    shares = trustee_shares(board, work, tmp_path, [1, 2, 3])  # trustees' outputs are inputs to finish
    run_finish(work, shares, tmp_path / "ref-record")
    return work, shares, tree_bytes(tmp_path / "ref-record")


def test_interrupted_prepare_resumes_from_saved_chunks(board: BoardFixture, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ref_work, shares, ref_record = _reference(board, tmp_path)
    calls = die_after_chunks(monkeypatch, 2)  # as if killed after two chunks
    monkeypatch.setattr(prepare_mod, "CHUNK_SIZE", 8)  # several chunks on the small test board
    work = tmp_path / "work"
    with pytest.raises(KeyboardInterrupt):
        run_prepare(board, work)
    assert not (work / ENCRYPTED_TALLY).exists()
    saved = list((work / "tally").glob(".prepare-*/chunk-*.json"))
    assert len(saved) == 2
    calls["n"] = -100
    run_prepare(board, work)
    total_chunks = -(-board.num_entries // prepare_mod.CHUNK_SIZE)
    assert calls["n"] == -100 + total_chunks - 2  # the two saved chunks were not recomputed
    assert tree_bytes(work) == tree_bytes(ref_work)
    run_finish(work, shares, tmp_path / "record")
    assert tree_bytes(tmp_path / "record") == ref_record


def test_deleted_partial_outputs_and_leftovers_give_same_bytes(board: BoardFixture, tmp_path: Path) -> None:
    ref_work, shares, ref_record = _reference(board, tmp_path)
    (ref_work / ENCRYPTED_TALLY).unlink()
    (ref_work / COUNTED).write_bytes(b"{partial")
    (ref_work / "board" / "ballots.jsonl.tally-tmp").write_bytes(b"junk")
    run_prepare(board, ref_work)
    (ref_work / "board" / "ballots.jsonl.tally-tmp").unlink(missing_ok=True)
    record = tmp_path / "ref-record"
    (record / "results.json").unlink()
    (record / "HASHES.json").unlink()
    (record / "tally" / "decryption_shares" / "trustee-9.json").write_bytes(b"stale")
    (record / "tally" / "counted.json.tally-tmp").write_bytes(b"half")
    run_finish(ref_work, shares, record)
    assert tree_bytes(record) == ref_record


def test_killed_subprocess_rerun_is_byte_identical(board: BoardFixture, tmp_path: Path) -> None:
    ref_work, shares, ref_record = _reference(board, tmp_path)
    env = dict(os.environ, SSBVOTE_ALLOW_INSECURE_TEST_KEYS="1", PYTHONPATH=str(ROOT))
    work, record = tmp_path / "work", tmp_path / "record"
    prepare_cmd = [sys.executable, "-m", "tally", "prepare", str(board.path), "--work", str(work),
                   "--processes", "2", "--quiet"]
    finish_cmd = [sys.executable, "-m", "tally", "finish", "--work", str(work), "--record", str(record)]
    for s in shares:
        finish_cmd += ["--shares", str(s)]
    for cmd, delay in ((prepare_cmd, 0.6), (finish_cmd, 0.5)):
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: pool workers too
        proc.wait()
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert tree_bytes(work) == tree_bytes(ref_work)
    assert tree_bytes(record) == ref_record


def test_chunk_size_keeps_every_process_busy_within_bounds() -> None:
    assert prepare_mod.chunk_size(8 * prepare_mod.CHUNK_SIZE, 8) == prepare_mod.CHUNK_SIZE
    assert prepare_mod.chunk_size(1_000_000, 8) == 1017  # 984 chunks = 123 rounds of 8
    assert prepare_mod.chunk_size(3000, 2, 1024) == 750  # 4 chunks, not 1024 + 1024 + 952
    assert prepare_mod.chunk_size(300, 2) == 150  # two chunks: both processes verify
    assert prepare_mod.chunk_size(10, 2) == prepare_mod.MIN_CHUNK_SIZE  # tiny boards: one batch
    assert prepare_mod.chunk_size(0, 4) == prepare_mod.MIN_CHUNK_SIZE
    for ballots in (1, 33, 511, 512, 513, 5000):
        for processes in (1, 2, 3, 8):
            size = prepare_mod.chunk_size(ballots, processes)
            assert prepare_mod.MIN_CHUNK_SIZE <= size <= prepare_mod.CHUNK_SIZE
            chunks = -(-ballots // size)
            if ballots <= processes * prepare_mod.CHUNK_SIZE:
                assert chunks >= min(processes, -(-ballots // prepare_mod.MIN_CHUNK_SIZE))
            if size > prepare_mod.MIN_CHUNK_SIZE:  # whole rounds: the last round keeps every process busy
                assert chunks % processes == 0


def test_batch_size_caps_the_chunks_and_does_not_change_the_outputs(board: BoardFixture, tmp_path: Path) -> None:
    from tally.prepare import prepare

    assert prepare_mod.chunk_size(1_000_000, 8, 100) == 100
    assert prepare_mod.chunk_size(1_000_000, 8, 5) == prepare_mod.MIN_CHUNK_SIZE  # never below
    default = prepare(board.path, tmp_path / "default", processes=1, allow_insecure_test_key=True,
                      show_progress=False)
    small = prepare(board.path, tmp_path / "small", processes=1, allow_insecure_test_key=True,
                    show_progress=False, batch_size=32)
    assert small.chunks_computed == -(-board.num_entries // 32) > default.chunks_computed == 1
    assert (tmp_path / "small" / ENCRYPTED_TALLY).read_bytes() == (tmp_path / "default" / ENCRYPTED_TALLY).read_bytes()
    assert small.invalid == default.invalid
