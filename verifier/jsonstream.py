"""Strict JSON read from a file in bounded memory — docs/protocol.md §2.3, docs/record.md §5.

tally/counted.json lists every ballot of the board (~60 bytes each): it is not held whole.
:class:`JsonReader` walks the containers near the top of a document itself — an object's keys
(:meth:`JsonReader.keys`), an array's elements (:meth:`JsonReader.elements`) — and hands every
other value to the json module's scanner whole (:meth:`JsonReader.value`), with the hooks of
:func:`verifier.encoding.loads_strict` (duplicate keys, NaN/Infinity refused).  Memory: one
block of text and the value being parsed.

The scanner needs the whole value in its buffer: a value that fails to parse, or ends within a
few characters of the buffer's end (a number cut short parses as a shorter number), is parsed
again with twice the text, until the end of the file.
"""
from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator

from verifier.encoding import STRICT_DECODER

WS_RE = re.compile(r"[ \t\n\r]*")  # JSON white space, as the json module skips it
READ_BLOCK = 1 << 20  # bytes
LOOKAHEAD = 1 << 16   # characters in the buffer past a value's start before parsing it
MARGIN = 16           # a parsed value must end this far from the buffer's end (or at EOF)
PLAIN_DECODER = json.JSONDecoder()


class JsonStreamError(ValueError):
    """The text is not valid JSON (the caller may re-parse it whole for the json module's
    message)."""


class JsonReader:
    """Reads one JSON document from ``path``, from character ``start`` (an :attr:`offset`
    seen earlier) if given.  ``strict=False`` parses values without the strict hooks: for a
    file that was validated already (same values, faster).  ``digest``: fed every byte read."""

    def __init__(self, path: str | Path, start: int = 0, strict: bool = True,
                 digest: Any = None) -> None:
        self._handle = open(path, "rb")
        self._text = codecs.getincrementaldecoder("utf-8")("strict")
        # the scanner under JSONDecoder.raw_decode: (value, end) or StopIteration
        self._scan: Any = getattr(STRICT_DECODER if strict else PLAIN_DECODER, "scan_once")
        self._digest = digest
        self._buf = ""
        self._pos = 0    # in _buf
        self._base = 0   # character offset of _buf[0] in the file
        self._eof = False
        try:
            while self._base + len(self._buf) < start and self._read():
                self._pos = min(start - self._base, len(self._buf))  # drop what is skipped
            self._pos = start - self._base
            if self._pos > len(self._buf):
                raise JsonStreamError(f"offset {start} is past the end")
        except BaseException:
            self._handle.close()
            raise

    def __enter__(self) -> JsonReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._handle.close()

    @property
    def offset(self) -> int:
        """The character offset of the reader in the file."""
        return self._base + self._pos

    def _read(self) -> bool:
        """Append one more block of text to the buffer (dropping what was read); False at
        the end of the file."""
        if self._eof:
            return False
        block = self._handle.read(READ_BLOCK)
        if self._digest is not None:
            self._digest.update(block)
        text = self._text.decode(block, final=not block)
        self._eof = not block
        self._buf = self._buf[self._pos:] + text
        self._base += self._pos
        self._pos = 0
        return True

    def _error(self, what: str) -> JsonStreamError:
        return JsonStreamError(f"{what} at character {self.offset}")

    def peek(self) -> str:
        """The next character after white space ("" at the end of the file)."""
        while True:
            match = WS_RE.match(self._buf, self._pos)
            assert match is not None  # the pattern matches the empty string
            self._pos = match.end()
            if self._pos < len(self._buf) or not self._read():
                break
        return self._buf[self._pos] if self._pos < len(self._buf) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self._error(f"expected {char!r}")
        self._pos += 1

    def value(self) -> Any:
        """Parse the next value whole."""
        self.peek()
        want = LOOKAHEAD
        while True:
            while len(self._buf) - self._pos < want and self._read():
                pass
            try:
                value, end = self._scan(self._buf, self._pos)
            except (StopIteration, ValueError):  # ValueError: also duplicate keys, NaN
                if self._eof:
                    raise self._error("invalid value") from None
            else:
                if self._eof or end <= len(self._buf) - MARGIN:
                    self._pos = end
                    return value
            want = 2 * max(want, len(self._buf) - self._pos)

    def keys(self) -> Iterator[str]:
        """The keys of the object at the reader, in order; after each, the caller reads its
        value (:meth:`value`, :meth:`skip`, :meth:`keys` or :meth:`elements`)."""
        self.expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        seen: set[str] = set()
        while True:
            if self.peek() != '"':
                raise self._error("expected a key")
            key = self.value()
            if key in seen:
                raise self._error(f"duplicate key {key!r}")
            seen.add(key)
            self.expect(":")
            yield key
            char = self.peek()
            self._pos += 1
            if char == "}":
                return
            if char != ",":
                raise self._error("expected ',' or '}'")

    def elements(self) -> Iterator[None]:
        """Once per element of the array at the reader; the caller reads each element."""
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield None
            char = self.peek()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                raise self._error("expected ',' or ']'")

    def skip(self, depth: int = 0) -> None:
        """Read the next value, walking containers ``depth`` levels deep and parsing the
        values below whole (and dropping them)."""
        char = self.peek()
        if depth > 0 and char == "{":
            for _ in self.keys():
                self.skip(depth - 1)
        elif depth > 0 and char == "[":
            for _ in self.elements():
                self.skip(depth - 1)
        else:
            self.value()

    def finish(self) -> None:
        """Only white space may follow (reads to the end of the file)."""
        if self.peek() != "":
            raise self._error("extra data")
