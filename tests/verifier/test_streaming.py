"""board/ballots.jsonl, board/entries.jsonl, tally/counted.json and credentials.json are
streamed: the verifier's memory does not grow with the board beyond a packed index
(docs/record.md §5 notes).  No ballot or entry is kept in memory, those files are never read
whole, and the line readers split lines exactly as ``bytes.split(b"\\n")`` did."""
from __future__ import annotations

import builtins
import hashlib
import pathlib
from pathlib import Path
from typing import Any

import pytest

from verifier import batch, checks, jsonstream, lines as lines_mod, record as record_mod
from verifier.checks import pins as checks_pins
from verifier.checks import tally as checks_tally
from verifier.checks import Options, verify_record
from verifier.lines import iter_lines
from tests.verifier.conftest import ca_key_file
from verifier.record import BALLOTS, COUNTED, CREDENTIALS, ENTRIES, line_spans
from verifier.signatures import read_key_option
from verifier.tables import BallotIndex, BallotLine, EntryTable, SeqMap

STREAMED = (BALLOTS, ENTRIES, COUNTED, CREDENTIALS)


class _CountingFile:
    """A file proxy that remembers the size of every read."""

    def __init__(self, handle: Any, reads: list[int]) -> None:
        self._handle, self._reads = handle, reads

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._reads.append(-1 if size is None or size < 0 else len(data))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> "_CountingFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()


@pytest.mark.parametrize("processes", [1, 2])
def test_no_ballot_or_entry_is_held_and_the_board_is_never_read_whole(
        record: Path, monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    streamed = {(record / rel).resolve() for rel in STREAMED}
    ballots_file = (record / BALLOTS).resolve()
    longest = max(len(x) for x in ballots_file.read_bytes().split(b"\n"))
    reads: list[int] = []
    real_read_bytes = pathlib.Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        assert self.resolve() not in streamed, f"{self} read whole"
        return real_read_bytes(self)

    def counting_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = builtins.open(file, mode, *args, **kwargs)
        if Path(file).resolve() in streamed:
            return _CountingFile(handle, reads)
        return handle

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    for module in (record_mod, checks_tally, batch, lines_mod, jsonstream, checks_pins):
        monkeypatch.setattr(module, "open", counting_open, raising=False)
    contexts: list[checks.Context] = []
    wrapped = []
    for check in checks.CHECKS:
        def run(ctx: checks.Context, _check: Any = check) -> checks.CheckResult:
            contexts.append(ctx)
            return _check(ctx)
        run.__name__ = check.__name__
        wrapped.append(run)
    monkeypatch.setattr(checks, "CHECKS", tuple(wrapped))

    ca_key = read_key_option(str(ca_key_file(record)))
    verification = verify_record(record, Options(allow_test_key=True, processes=processes,
                                                 ca_key=ca_key))
    assert verification.ok, [(r.name, r.failures[:2]) for r in verification.results
                             if not r.passed]
    ctx = contexts[-1]
    rec = ctx.record
    for rel in STREAMED:  # not held, only streamed
        assert rel not in rec.files and rel not in rec.lines and rel not in rec.json
        assert rel in rec.names() and rec.has(rel)
    assert isinstance(rec.ballot_lines, BallotIndex) and isinstance(ctx.ballots, SeqMap)
    assert isinstance(ctx.entries, EntryTable) and len(ctx.entries) == ctx.board_size
    assert len(ctx.ballots) == len(rec.ballot_lines) == ctx.board_size
    for seq, number in ctx.ballots.items():  # only the small fields of a line are kept
        line = rec.ballot_lines.line(number)
        assert isinstance(line, BallotLine) and line.value is not None
        assert line.value["ballot"] is None and line.value["seq"] == seq
        assert set(line.value) == {"seq", "pseudonym", "contest", "ballot"}
    assert rec.ballot_lines.packed and ctx.entries.packed  # nothing kept on the side
    if processes == 1:  # the reads happen in this process: none is unbounded or huge
        assert reads and -1 not in reads
        assert max(reads) <= max(lines_mod.READ_BLOCK, jsonstream.READ_BLOCK, longest)


#: Files around the block edges, for the line splitters (read in blocks of SPLIT_BLOCKS bytes).
SPLIT_CASES = [b"", b"\n", b"a", b"a\n", b"a\nbc", b"a\nbc\n", b"a\n\nb", b"a\n\n", b"\n\n\n",
               b"abc\ndefgh\nij\n" * 5]
SPLIT_BLOCKS = [1, 2, 3, 7, 1 << 16]


@pytest.mark.parametrize("data", SPLIT_CASES)
@pytest.mark.parametrize("block", SPLIT_BLOCKS)
def test_line_spans_split_like_bytes_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           data: bytes, block: int) -> None:
    monkeypatch.setattr(lines_mod, "READ_BLOCK", block)
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    digest, spans = line_spans(path)
    want = data.split(b"\n")
    if want and want[-1] == b"":
        want.pop()
    assert [data[o:o + n] for _, o, n in spans] == want
    assert [k for k, _, _ in spans] == list(range(1, len(want) + 1))
    assert digest == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("data", SPLIT_CASES)
@pytest.mark.parametrize("block", SPLIT_BLOCKS)
def test_iter_lines_split_like_bytes_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           data: bytes, block: int) -> None:
    monkeypatch.setattr(lines_mod, "READ_BLOCK", block)
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    digest = hashlib.sha256()
    got = list(iter_lines(path, digest))
    want = data.split(b"\n")
    if want and want[-1] == b"":
        want.pop()
    assert [raw for _, raw in got] == want
    assert [k for k, _ in got] == list(range(1, len(want) + 1))
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
