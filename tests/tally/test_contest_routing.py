"""Contests routed by roll attributes (docs/manifest.md §4, record.md version 4) through the
tally: a format-2 board with two insured contests of one electorate is counted per contest and
elects ``seats``; a server that moves a ballot to the other contest of the voter's electorate
(re-labelling its ``contest`` and re-signing everything it can — even the voter's signature, as a
colluding device would) is refused by prepare: the credential is not on that contest's list
(record.md §6.2, check 19)."""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tally.errors import BoardRefused
from tests.support.board_builder import (BoardFixture, build_board_export, builder_manifest, read_jsonl,
                                         rewrite_board)

from .helpers import run_finish, run_prepare, trustee_shares


def sections_manifest() -> dict[str, Any]:
    """insured-33 (1 vote, 2 seats) and insured-39 (1 vote, 1 seat) of the insured electorate,
    routed by ``section``; the employer contest 1 vote, 2 seats."""
    m = builder_manifest()
    insured, employer = m["contests"]
    m["format"] = "ssbvote-manifest/2"
    m["election"] = "sections-tally"
    m["roll_attributes"] = {"insured": [{"name": "section", "title": {"th": "มาตรา", "en": "Section"},
                                         "values": ["33", "39"]}]}
    i33 = dict(copy.deepcopy(insured), id="insured-33", eligibility={"section": ["33"]},
               max_selections=1, seats=2)
    i39 = dict(copy.deepcopy(insured), id="insured-39", eligibility={"section": ["39"]},
               max_selections=1, seats=1)
    employer.update(max_selections=1, seats=2)
    m["contests"] = [i33, i39, employer]
    return m


@pytest.fixture(scope="module")
def sections_board(tmp_path_factory: pytest.TempPathFactory) -> BoardFixture:
    root = tmp_path_factory.mktemp("sections")
    return build_board_export(root / "export", manifest=sections_manifest(), insured=8, employers=6,
                              revote_rate=0.3, revoked=1, trustees=3, threshold=2, seed=21)


def test_sections_board_is_counted_per_contest_and_elects_seats(sections_board: BoardFixture,
                                                                 tmp_path: Path) -> None:
    listed = json.loads(sections_board.credentials_path.read_bytes())
    assert sorted(listed["contests"]) == ["employer", "insured-33", "insured-39"]
    summary = run_prepare(sections_board, tmp_path / "work")
    assert sorted(summary.counted) == ["employer", "insured-33", "insured-39"]
    shares = trustee_shares(sections_board, tmp_path / "work", tmp_path / "shares", [1, 2])
    done = run_finish(tmp_path / "work", shares, tmp_path / "record")
    results = json.loads((tmp_path / "record" / "results.json").read_bytes())
    assert json.loads((tmp_path / "record" / "FORMAT.json").read_bytes())["version"] == 4
    for contest in sections_manifest()["contests"]:
        got = results["contests"][contest["id"]]
        assert (got["seats"], got["max_selections"]) == (contest["seats"], 1)
        assert len(got["elected"]) == contest["seats"]
        votes = sections_board.intended_by_id()[contest["id"]]
        assert {c["id"]: c["votes"] for c in got["candidates"]} == votes
        ranked = sorted(contest["candidates"], key=lambda c: (-votes[c["id"]], c["number"]))
        assert got["elected"] == [c["id"] for c in ranked[: contest["seats"]]]
    assert done.results == results


def test_server_moving_a_ballot_to_the_other_contest_of_the_electorate_is_refused(
        sections_board: BoardFixture, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(sections_board.path, tmp_path / "export")
    board = dataclasses.replace(sections_board, path=tmp_path / "export")
    entries = read_jsonl(board.entries_path)
    moved = next(e for e in entries if e["contest"] == "insured-33")
    moved["contest"] = "insured-39"  # same ballot shape (both 1 of 5): only the route differs
    rewrite_board(board, entries=entries)  # chain, checkpoints and signatures redone
    with pytest.raises(BoardRefused) as info:
        run_prepare(board, tmp_path / "work")
    message = str(info.value)
    assert f"board entry {moved['seq']}: credential {moved['credential']} is not one of contest insured-39" in message
    assert "it is of contest insured-33" in message
