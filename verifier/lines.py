"""Reading a .jsonl file a block at a time — docs/record.md §5 (memory note).

Both readers split lines at b"\\n" exactly as ``bytes.split`` does, after dropping one final
empty piece (a final newline ends the last line; it does not start an empty one), and feed every
block they read to ``digest`` (the file's SHA-256 for check 2) if one is given.  Memory: one
block and the current line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

READ_BLOCK = 1 << 20  # bytes read at a time (a line may span blocks)


def _blocks(path: str | Path, digest: Any) -> Iterator[bytes]:
    """The file's bytes, ``READ_BLOCK`` at a time, each also fed to ``digest`` (if given)."""
    with open(path, "rb") as handle:
        while block := handle.read(READ_BLOCK):
            if digest is not None:
                digest.update(block)
            yield block


def iter_lines(path: str | Path, digest: Any = None) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, the line's bytes without its b"\\n") of every line of ``path``."""
    number = 0
    tail = b""
    for block in _blocks(path, digest):
        parts = (tail + block if tail else block).split(b"\n")
        tail = parts.pop()
        for raw in parts:
            number += 1
            yield number, raw
    if tail:
        yield number + 1, tail


def iter_spans(path: str | Path, digest: Any = None) -> Iterator[tuple[int, int, int]]:
    """(line number, byte offset, length) of every line of ``path``, without keeping any line
    (a board/ballots.jsonl line is ~0.7 MB)."""
    number = 0
    start = 0     # file offset of the current line
    pos = 0       # file offset of ``block[0]``
    tail = 0      # bytes of the current line seen in earlier blocks
    for block in _blocks(path, digest):
        i = 0
        while True:
            j = block.find(b"\n", i)
            if j < 0:
                tail += len(block) - i
                break
            number += 1
            yield number, start, tail + j - i
            start = pos + j + 1
            tail = 0
            i = j + 1
        pos += len(block)
    if tail:
        yield number + 1, start, tail
