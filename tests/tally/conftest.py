"""Fixtures: one built board export per session, copied per test so tests may tamper with it."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from tests.support.board_builder import BoardFixture, build_board_export


@pytest.fixture(scope="session")
def base_board(tmp_path_factory: pytest.TempPathFactory) -> BoardFixture:
    root = tmp_path_factory.mktemp("board")
    return build_board_export(root / "export", insured=24, employers=10, revote_rate=0.35, paper=2,
                              invalid_ballots=1, revoked=1, revoked_final=1, trustees=3, threshold=2, seed=7,
                              audits=3)


def copy_board(base: BoardFixture, dest: Path) -> BoardFixture:
    shutil.copytree(base.path, dest / "export")
    shares = dest / "trustees"
    shutil.copytree(base.share_files[0].parent, shares)
    return dataclasses.replace(base, path=dest / "export",
                               share_files=[shares / p.name for p in base.share_files])


@pytest.fixture
def board(base_board: BoardFixture, tmp_path: Path) -> BoardFixture:
    return copy_board(base_board, tmp_path)
