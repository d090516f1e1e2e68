"""Canonical JSON, strict parsing and the typed length-prefixed encoding LP.

docs/protocol.md §2.1 (canonical JSON, hex integers), §2.2 (LP), §2.3 (strict parsing).
"""
from __future__ import annotations

import binascii
import json
import re
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from verifier.errors import InvalidInput

HEX_INT_RE = re.compile(r"^(0|[1-9a-f][0-9a-f]*)\Z")  # \Z: "$" would pass a final "\n"
HEX_BYTES_RE = re.compile(r"^([0-9a-f]{2})*\Z")
MAX_HEX_DIGITS = 4096


# --- canonical JSON (§2.1) ------------------------------------------------------------------

def canonical_json(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no white space, UTF-8, non-ASCII literal."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON, rejecting duplicate keys and NaN/Infinity (§2.3).  Raises ValueError."""
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            raise ValueError("byte-order mark is not allowed")
        data = data.decode("utf-8")
    return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


#: The decoder of :func:`loads_strict`, for parsing one value at a time (verifier.jsonstream).
STRICT_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates,
                                  parse_constant=_no_constant)


# --- field parsing (§2.1, §2.3) -------------------------------------------------------------

def parse_hex_int(value: Any, what: str) -> int:
    """A canonical lowercase-hex big integer (no leading zeros, ≤ 4096 digits)."""
    if not isinstance(value, str) or not HEX_INT_RE.match(value):
        raise InvalidInput(f"{what}: not a canonical hex integer")
    if len(value) > MAX_HEX_DIGITS:
        raise InvalidInput(f"{what}: longer than {MAX_HEX_DIGITS} hex digits")
    return int(value, 16)


def canonical_hex_ints(texts: Sequence[Any], convert: Callable[[bytes], Any]) -> list[Any] | None:
    """``convert`` (big-endian bytes → integer) of each text if every one is a canonical hex
    integer that :func:`parse_hex_int` accepts, else None — in bulk, for the many values of a
    ballot; on None the caller parses one by one to name the culprit."""
    try:
        joined = "".join(texts)  # TypeError: not all strings
    except TypeError:
        return None
    if not joined.isascii() or any(c in joined for c in "ABCDEF"):
        return None  # unhexlify takes upper case too
    out = []
    unhexlify = binascii.unhexlify
    try:
        for t in texts:
            size = len(t)
            if not 0 < size <= MAX_HEX_DIGITS or (size > 1 and t[0] == "0"):
                return None
            out.append(convert(unhexlify(t if not size & 1 else "0" + t)))
    except ValueError:  # a non-hex digit (binascii.Error)
        return None
    return out


def parse_hex_bytes(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str) or not HEX_BYTES_RE.match(value):
        raise InvalidInput(f"{what}: not lowercase hex of even length")
    raw = bytes.fromhex(value)
    if length is not None and len(raw) != length:
        raise InvalidInput(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def parse_count(value: Any, what: str, lo: int = 0, hi: int | None = None) -> int:
    """A small JSON number (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what}: not an integer")
    if value < lo or (hi is not None and value > hi):
        raise InvalidInput(f"{what}: {value} out of range")
    return value


def expect_object(value: Any, keys: Iterable[str], what: str) -> Mapping[str, Any]:
    """An object with exactly ``keys`` (§2.3: key sets are exact)."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{what}: not an object")
    want = set(keys)
    have = set(value)
    if have != want:
        missing = sorted(want - have)
        extra = sorted(have - want)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise InvalidInput(f"{what}: " + "; ".join(parts))
    return value


def key_paths(value: Any, name: str, path: str = "") -> Iterator[str]:
    """The paths (``a.b[2].name``) of every object key ``name`` inside ``value``, at any depth."""
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else k
            if k == name:
                yield here
            yield from key_paths(v, name, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from key_paths(v, name, f"{path}[{i}]")


def expect_list(value: Any, what: str, length: int | None = None) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what}: not a list")
    if length is not None and len(value) != length:
        raise InvalidInput(f"{what}: expected {length} entries, got {len(value)}")
    return value


def expect_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what}: not a string")
    return value


# --- LP (§2.2) ------------------------------------------------------------------------------

def int_hex(v: int) -> str:
    """Canonical hex of a non-negative integer (§2.1)."""
    if v < 0:
        raise ValueError("LP integers are non-negative")
    return format(int(v), "x")


def _item(x: Any, out: list[bytes]) -> None:
    if isinstance(x, (bytes, bytearray)):
        out.append(b"b" + len(x).to_bytes(4, "big") + bytes(x))
    elif isinstance(x, str):
        raw = x.encode("utf-8")
        out.append(b"s" + len(raw).to_bytes(4, "big") + raw)
    elif isinstance(x, bool):
        raise TypeError("booleans have no LP encoding")
    elif isinstance(x, (list, tuple)):
        out.append(b"l" + len(x).to_bytes(4, "big"))
        for y in x:
            _item(y, out)
    else:
        # int or gmpy2.mpz
        h = int_hex(int(x)).encode("ascii")
        out.append(b"i" + len(h).to_bytes(4, "big") + h)


def lp(*items: Any) -> bytes:
    """LP(x_1, …, x_k) = item(x_1) ‖ … ‖ item(x_k) (docs/protocol.md §2.2)."""
    out: list[bytes] = []
    for x in items:
        _item(x, out)
    return b"".join(out)
