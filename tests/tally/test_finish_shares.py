"""finish: share verification, t of n, fewer than t, tie rule (docs/record.md §4.3–§4.4)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.encoding import canonical_json
from tally.errors import TallyError
from tally.finish import _rank
from tests.support.board_builder import BoardFixture

from .helpers import resign_share_file, run_finish, run_prepare, trustee_shares


@pytest.fixture
def prepared(board: BoardFixture, tmp_path: Path) -> tuple[BoardFixture, Path]:
    run_prepare(board, tmp_path / "work")
    return board, tmp_path / "work"


def _votes(record: Path) -> dict[str, list[int]]:
    results = json.loads((record / "results.json").read_bytes())
    return {c: [x["votes"] for x in v["candidates"]] for c, v in results["contests"].items()}


def test_t_of_n_with_absent_trustees(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    for subset in ([1, 3], [2, 3], [3, 1]):
        record = tmp_path / f"record-{subset[0]}{subset[1]}"
        summary = run_finish(work, trustee_shares(board, work, tmp_path, subset), record)
        assert summary.trustees_used == sorted(subset)
        assert _votes(record) == board.intended
        shares_dir = record / "tally" / "decryption_shares"
        assert sorted(p.name for p in shares_dir.iterdir()) == [f"trustee-{i}.json" for i in sorted(subset)]


def test_fewer_than_t_fails_clearly(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    with pytest.raises(TallyError, match=r"need 2 valid decryption shares of the 3 trustees, got 1"):
        run_finish(work, trustee_shares(board, work, tmp_path, [2]), tmp_path / "record")
    assert not (tmp_path / "record" / "HASHES.json").exists()


def test_bad_share_rejected_naming_the_trustee(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    s1, s2, s3 = trustee_shares(board, work, tmp_path, [1, 2, 3])
    doc = json.loads(s1.read_bytes())
    share = doc["contests"]["insured"]["shares"]
    share[0] = format(int(share[0], 16) * 4 % int(board.election_key.public_key.n_square), "x")
    resign_share_file(board, s1, doc)  # the trustee itself signed a bad share: its proof fails
    warnings: list[str] = []
    summary = run_finish(work, [s1, s2, s3], tmp_path / "record", warnings)
    assert summary.valid == [2, 3] and summary.trustees_used == [2, 3]
    assert len(warnings) == 1 and "trustee 'trustee-1'" in warnings[0] and "insured" in warnings[0]
    assert _votes(tmp_path / "record") == board.intended
    assert not (tmp_path / "record" / "tally" / "decryption_shares" / "trustee-1.json").exists()
    # With the bad share and only one good one there is no result.
    with pytest.raises(TallyError, match="got 1"):
        run_finish(work, [s1, s3], tmp_path / "record2")


def test_share_with_wrong_name_or_for_another_tally_rejected(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    s1, s2 = trustee_shares(board, work, tmp_path, [1, 2])
    doc = json.loads(s1.read_bytes())
    doc["trustee"] = "trustee-2"
    s1.write_bytes(canonical_json(doc))
    s2.write_bytes(b"{not json")
    warnings: list[str] = []
    with pytest.raises(TallyError, match="got 0"):
        run_finish(work, [s1, s2], tmp_path / "record", warnings)
    assert any("not trustee 1" in w for w in warnings) and any("not valid JSON" in w for w in warnings)


def test_duplicate_trustee_rejected(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    s1, = trustee_shares(board, work, tmp_path, [1])
    again = tmp_path / "again.json"
    again.write_bytes(s1.read_bytes())
    warnings: list[str] = []
    with pytest.raises(TallyError, match="got 1"):
        run_finish(work, [s1, again], tmp_path / "record", warnings)
    assert "already gave a valid share" in warnings[0]


def test_finish_before_prepare(tmp_path: Path) -> None:
    with pytest.raises(TallyError, match="run `tally prepare` first"):
        run_finish(tmp_path, [], tmp_path / "record")


def test_elected_rank_and_tie_rule() -> None:
    cands = [{"id": "a", "number": 3, "votes": 5}, {"id": "b", "number": 1, "votes": 7},
             {"id": "c", "number": 2, "votes": 5}, {"id": "d", "number": 4, "votes": 1}]
    assert _rank(cands, 2) == (["b", "c"], True)  # c (number 2) beats a (number 3); tie flagged
    assert _rank(cands, 3) == (["b", "c", "a"], False)
    assert _rank(cands, 4) == (["b", "c", "a", "d"], False)
