"""Canonical encodings (docs/protocol.md §2)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.encoding import canonical_json, hex_to_int, int_to_hex, lp_encode, parse_json, require_object
from crypto.errors import InvalidInput


@given(st.integers(min_value=0, max_value=2**4000))
def test_hex_round_trip(value: int) -> None:
    assert hex_to_int(int_to_hex(value), "x") == value


@pytest.mark.parametrize("bad", ["", "0x1f", "1F", "01", "-1", " 1", "1 ", "g", 17, None, "1" * 5000])
def test_hex_rejects_non_canonical(bad: object) -> None:
    with pytest.raises(InvalidInput, match="field"):
        hex_to_int(bad, "field")


def test_hex_bounds_named() -> None:
    with pytest.raises(InvalidInput, match="ciphertext 3: above"):
        hex_to_int("10", "ciphertext 3", upper=16)
    with pytest.raises(InvalidInput, match="below"):
        hex_to_int("0", "z", lower=1)


def test_lp_encode_exact_bytes() -> None:
    # §2.2 worked example
    assert lp_encode("ab", 255, b"\x00", ["x", 0]) == (
        b"s\x00\x00\x00\x02ab" b"i\x00\x00\x00\x02ff" b"b\x00\x00\x00\x01\x00"
        b"l\x00\x00\x00\x02" b"s\x00\x00\x00\x01x" b"i\x00\x00\x00\x010"
    )


def test_lp_encode_is_unambiguous() -> None:
    assert lp_encode("ab", "c") != lp_encode("a", "bc")
    assert lp_encode(["a"], "b") != lp_encode(["a", "b"])
    assert lp_encode(10) != lp_encode("a")


def test_canonical_json_sorted_compact() -> None:
    assert canonical_json({"b": 1, "a": ["x", "ก"]}) == '{"a":["x","ก"],"b":1}'.encode()


def test_parse_json_rejects_duplicates_and_nan() -> None:
    with pytest.raises(InvalidInput, match="duplicate key"):
        parse_json('{"a":1,"a":2}')
    with pytest.raises(InvalidInput, match="non-finite"):
        parse_json('{"a":NaN}')
    with pytest.raises(InvalidInput, match="not valid JSON"):
        parse_json("{")


def test_require_object_names_keys() -> None:
    with pytest.raises(InvalidInput, match=r"missing keys \['b'\], unexpected keys \['c'\]"):
        require_object({"a": 1, "c": 2}, {"a", "b"}, "thing")
