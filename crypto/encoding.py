"""Canonical encodings (docs/protocol.md §2).

Two encodings are defined once, here:

* canonical JSON (§2.1) — UTF-8, object keys sorted, no insignificant white space, big integers
  as lowercase hexadecimal strings without prefix or leading zeros ("0" for zero).  Used for
  every published object (manifest, keys, ballots, proofs, shares) and for hashing them.
* typed length-prefixed byte strings (§2.2) — used only inside hash inputs (Fiat–Shamir
  challenges, KDF context) where an unambiguous byte encoding is needed.

Strict parsing helpers (§2.3) turn untrusted JSON values into Python values or raise
:class:`~crypto.errors.InvalidInput` naming the offending field.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping, Sequence, Union

from .errors import InvalidInput

_HEX_RE = re.compile(r"\A(?:0|[1-9a-f][0-9a-f]*)\Z")

#: Upper bound on the length of any hex string we parse: a 16384-bit integer.  Keeps hostile
#: inputs from making us parse megabyte integers before the range check (§2.3).
MAX_HEX_DIGITS = 4096

LpItem = Union[bytes, str, int, Sequence[Any]]


def canonical_json(obj: Any) -> bytes:
    """Serialize ``obj`` to canonical JSON bytes (docs/protocol.md §2.1)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


#: Longest JSON number accepted (digits and signs): far beyond any field's range, far below
#: Python's own 4300-digit limit, so a hostile number is refused with a clear message.
MAX_NUMBER_CHARS = 100


def strict_loads(data: Union[bytes, str], what: str = "JSON document") -> Any:
    """``json.loads`` for untrusted input (§2.3): duplicate keys, non-finite numbers, numbers
    longer than :data:`MAX_NUMBER_CHARS` and nesting too deep for the parser raise
    :class:`InvalidInput` naming the problem; a syntax error raises ``json.JSONDecodeError``
    (with its line and column)."""

    def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise InvalidInput(f"{what}: duplicate key {key!r}")
            out[key] = value
        return out

    def _no_constants(name: str) -> Any:
        raise InvalidInput(f"{what}: non-finite number {name}")

    def _number(text: str) -> str:
        if len(text) > MAX_NUMBER_CHARS:
            raise InvalidInput(f"{what}: a number of {len(text)} characters (at most "
                               f"{MAX_NUMBER_CHARS})")
        return text

    def _float(text: str) -> float:
        value = float(_number(text))
        if value in (float("inf"), float("-inf")):
            raise InvalidInput(f"{what}: number {text[:20]} is out of range")
        return value

    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                          parse_int=lambda text: int(_number(text)), parse_float=_float)
    except RecursionError:
        raise InvalidInput(f"{what}: nested too deeply") from None


def parse_json(data: Union[bytes, str], what: str = "JSON document") -> Any:
    """Parse untrusted JSON; duplicate keys, non-finite or overlong numbers, too deep nesting
    and malformed JSON raise :class:`InvalidInput` (§2.3)."""
    try:
        return strict_loads(data, what)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(f"{what}: not valid JSON") from None


def int_to_hex(value: int) -> str:
    """Encode a non-negative integer as canonical hex (docs/protocol.md §2.1)."""
    if value < 0:
        raise ValueError("only non-negative integers have a canonical encoding")
    return format(value, "x")


def hex_to_int(text: Any, what: str, *, lower: int = 0, upper: int | None = None) -> int:
    """Parse canonical hex strictly and check ``lower <= value < upper`` (§2.3).

    Rejects non-strings, upper case, ``0x`` prefixes, signs, white space and leading zeros, so
    that every integer has exactly one accepted encoding (ballot hashes are then unique).
    """
    if not isinstance(text, str):
        raise InvalidInput(f"{what}: expected a hex string")
    if len(text) > MAX_HEX_DIGITS or not _HEX_RE.match(text):
        raise InvalidInput(f"{what}: not a canonical lowercase hex integer")
    value = int(text, 16)
    if value < lower:
        raise InvalidInput(f"{what}: below the allowed range")
    if upper is not None and value >= upper:
        raise InvalidInput(f"{what}: above the allowed range")
    return value


def lp_encode(*items: LpItem) -> bytes:
    """Typed length-prefixed encoding of ``items`` (docs/protocol.md §2.2).

    ``b``/``s``/``i`` + 4-byte big-endian length + payload for bytes / UTF-8 strings / integers
    (as canonical hex ASCII); ``l`` + 4-byte big-endian element count + encoded elements for
    lists.  The encoding is injective, so distinct hash inputs never collide by concatenation.
    """
    out = bytearray()
    _lp_into(out, items, top=True)
    return bytes(out)


def _lp_into(out: bytearray, items: Iterable[Any], *, top: bool = False) -> None:
    for item in items:
        if isinstance(item, bool):
            raise TypeError("booleans have no length-prefixed encoding")
        if isinstance(item, (bytes, bytearray)):
            out += b"b" + len(item).to_bytes(4, "big") + bytes(item)
        elif isinstance(item, str):
            raw = item.encode("utf-8")
            out += b"s" + len(raw).to_bytes(4, "big") + raw
        elif isinstance(item, int) or type(item).__name__ == "mpz":
            raw = int_to_hex(int(item)).encode("ascii")
            out += b"i" + len(raw).to_bytes(4, "big") + raw
        elif isinstance(item, (list, tuple)):
            out += b"l" + len(item).to_bytes(4, "big")
            _lp_into(out, item)
        else:
            raise TypeError(f"cannot length-prefix encode {type(item).__name__}")


# ---------------------------------------------------------------------------------------------
# Strict dict parsing (§2.3)


def require_object(obj: Any, keys: set[str], what: str) -> Mapping[str, Any]:
    """Check ``obj`` is a JSON object with exactly ``keys``; name missing/unknown keys."""
    if not isinstance(obj, dict):
        raise InvalidInput(f"{what}: expected a JSON object")
    have = set(obj)
    if have != keys:
        missing = sorted(keys - have)
        extra = sorted(have - keys)
        raise InvalidInput(f"{what}: missing keys {missing}, unexpected keys {extra}")
    return obj


def require_list(obj: Any, what: str, *, length: int | None = None, max_length: int = 100_000) -> list[Any]:
    """Check ``obj`` is a JSON array of the given length (or at most ``max_length``)."""
    if not isinstance(obj, list):
        raise InvalidInput(f"{what}: expected a JSON array")
    if length is not None and len(obj) != length:
        raise InvalidInput(f"{what}: expected {length} elements, got {len(obj)}")
    if len(obj) > max_length:
        raise InvalidInput(f"{what}: more than {max_length} elements")
    return obj


def require_int(obj: Any, what: str, *, lower: int = 0, upper: int = 2**31) -> int:
    """Check ``obj`` is a JSON integer (not bool) with ``lower <= obj < upper``."""
    if isinstance(obj, bool) or not isinstance(obj, int):
        raise InvalidInput(f"{what}: expected an integer")
    if not lower <= obj < upper:
        raise InvalidInput(f"{what}: out of range [{lower}, {upper})")
    return obj


def require_str(obj: Any, what: str, *, max_length: int = 256) -> str:
    """Check ``obj`` is a non-empty JSON string of at most ``max_length`` characters."""
    if not isinstance(obj, str) or not obj or len(obj) > max_length:
        raise InvalidInput(f"{what}: expected a non-empty string of at most {max_length} characters")
    return obj
