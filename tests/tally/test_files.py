"""tally.files.iter_line_spans: where each line of a board file is, without reading it into lines."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.errors import TallyError
from tally.files import iter_line_spans, iter_lines

_LINE = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x"))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, max_size=30), block_size=st.integers(min_value=1, max_value=64))
def test_spans_locate_every_line_whatever_the_block_size(tmp_path_factory: pytest.TempPathFactory,
                                                         lines: list[bytes], block_size: int) -> None:
    path = tmp_path_factory.mktemp("spans") / "lines"
    data = b"".join(line + b"\n" for line in lines)
    path.write_bytes(data)
    spans = list(iter_line_spans(path, "test file", block_size=block_size))
    assert [number for number, _, _ in spans] == list(range(1, len(lines) + 1))
    assert [data[offset:offset + length] for _, offset, length in spans] == lines
    assert [(number, data[offset:offset + length]) for number, offset, length in spans] == list(iter_lines(path, "test file"))


@pytest.mark.parametrize("block_size", [1, 3, 1 << 22])
def test_a_last_line_without_newline_is_refused(tmp_path: Path, block_size: int) -> None:
    path = tmp_path / "lines"
    path.write_bytes(b"first\nsecond\nno newline")
    with pytest.raises(TallyError, match="line 3 does not end with a newline"):
        list(iter_line_spans(path, "board ballots", block_size=block_size))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TallyError, match="board ballots: file .* is missing"):
        list(iter_line_spans(tmp_path / "absent", "board ballots"))
