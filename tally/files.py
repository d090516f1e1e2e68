"""File helpers: atomic writes, canonical JSON, streaming JSON lines, hashing.

Every output is written to a temporary file in the same folder and renamed into place, so a
killed run leaves either the old complete file or the new complete file, never a partial one.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Union

from crypto.encoding import canonical_json
from election import export
from election.errors import ExportUnreadable
from election.record import sha256_file

from .errors import TallyError

__all__ = ["AtomicWriter", "atomic_copy", "atomic_write_bytes", "atomic_write_json", "iter_line_spans", "iter_lines",
           "read_json", "sha256_file"]

TMP_SUFFIX = ".tally-tmp"
PathLike = Union[str, Path]


def _tmp(path: Path) -> Path:
    return path.with_name(path.name + TMP_SUFFIX)


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: PathLike, obj: Any) -> None:
    """Canonical JSON, no trailing newline (docs/record.md §4 byte rules)."""
    atomic_write_bytes(path, canonical_json(obj))


class AtomicWriter:
    """Context manager writing a binary stream to ``path`` atomically (for large outputs)."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = _tmp(self.path)

    def __enter__(self) -> Any:
        self.handle = open(self.tmp, "wb")
        return self.handle

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.path)
        else:
            self.handle.close()
            self.tmp.unlink(missing_ok=True)


def atomic_copy(src: PathLike, dst: PathLike, *, link: bool = False) -> None:
    """Copy ``src`` to ``dst`` byte for byte; with ``link``, hard-link when possible instead
    (for very large boards: then the files must never be modified in place)."""
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(dst)
    tmp.unlink(missing_ok=True)
    if dst.exists() and os.path.samefile(src, dst):
        return  # already linked (a re-run); rename() onto the same inode would be a no-op
    try:
        if not link:
            raise OSError
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def read_json(path: PathLike, what: str) -> Any:
    """Strictly parsed JSON (duplicate keys refused) or TallyError naming the file."""
    try:
        return export.read_json(path, what)
    except ExportUnreadable as exc:
        raise TallyError(str(exc)) from None


def iter_lines(path: PathLike, what: str) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, raw line without the final LF), streaming."""
    try:
        yield from export.iter_lines(path, what)
    except ExportUnreadable as exc:
        raise TallyError(str(exc)) from None


def iter_line_spans(path: PathLike, what: str, block_size: int = 1 << 22) -> Iterator[tuple[int, int, int]]:
    """(line number from 1, byte offset, length without the final LF) of each line, streaming in
    blocks: for files of ~1 MB lines whose bytes the caller does not need (the tally's parent
    only tells its workers where their ballots are)."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise TallyError(f"{what}: file {path} is missing") from None
    number = 0
    buffer_offset = 0  # file offset of buffer[0]
    buffer = b""
    with handle:
        for block in iter(lambda: handle.read(block_size), b""):
            buffer = buffer + block if buffer else block
            start = 0
            while (end := buffer.find(b"\n", start)) >= 0:
                number += 1
                yield number, buffer_offset + start, end - start
                start = end + 1
            buffer_offset += start
            buffer = buffer[start:]
    if buffer:
        raise TallyError(f"{what}: line {number + 1} does not end with a newline")
