"""The golden record is reproduced byte for byte, and the independent verifier accepts it
(issue 14: behaviour and record bytes stay the same through refactoring)."""
from __future__ import annotations

from pathlib import Path

from tests.vectors.golden_record import CA_KEY, GOLDEN, GOLDEN_CA_KEY, build, files
from verifier import cli


def test_golden_record_is_reproduced_byte_for_byte(tmp_path: Path) -> None:
    record = build(tmp_path)
    expected = dict(files(GOLDEN))
    produced = dict(files(record))
    assert sorted(produced) == sorted(expected)
    differing = [name for name in expected if produced[name] != expected[name]]
    assert differing == [], f"record files differ from tests/vectors/golden-record/: {differing}"
    assert (tmp_path / CA_KEY).read_bytes() == GOLDEN_CA_KEY.read_bytes()


def test_verifier_accepts_the_golden_record() -> None:
    assert cli.main([str(GOLDEN), "--allow-test-key", "--progress", "never", "--processes", "1",
                     "--ca-key", str(GOLDEN_CA_KEY)]) == 0
