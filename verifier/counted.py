"""tally/counted.json read as a stream — docs/record.md §4.1, check 11 (`tally.counted_set`).

The file lists every ballot of the board, so check 11 does not hold it: :func:`read_shape`
validates its shape in one pass, keeping per contest where its two lists start, their lengths,
whether their seqs are in order and the counted seqs (packed, for check 12); :func:`listed`
then reads one list again.

:func:`read_shape` raises :class:`InvalidInput` with the message the validation of the whole
parsed object would raise first: the top object's keys, then ``contests`` being an object and
its keys, then per contest in file order its keys, its ``counted`` list, its ``excluded`` list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterator

from verifier.encoding import expect_list, expect_object, expect_str, parse_count
from verifier.errors import InvalidInput
from verifier.jsonstream import JsonReader
from verifier.tables import IntColumn

LISTS = ("counted", "excluded")


@dataclass
class CountedList:
    """One of a contest's two lists: where its ``[`` is (a character offset), its length and
    whether its seqs are in non-decreasing order."""

    offset: int = -1
    count: int = 0
    in_order: bool = True


@dataclass
class CountedContest:
    counted: CountedList = field(default_factory=CountedList)
    excluded: CountedList = field(default_factory=CountedList)
    seqs: IntColumn = field(default_factory=IntColumn)  # of ``counted``, as listed


def is_null(path: Path) -> bool:
    """The document is JSON ``null`` (check 11 then lacks its input, as for a missing file)."""
    with JsonReader(path, strict=False) as reader:
        return reader.peek() == "n"


def parse_item(x: Any, what: str, excluded: bool) -> tuple[int, str, str]:
    """(seq, pseudonym, reason) of one element of a list (reason "counted" in ``counted``)."""
    if excluded:
        expect_object(x, ("pseudonym", "seq", "reason"), f"{what}[]")
        return (parse_count(x["seq"], f"{what}[].seq", 1),
                expect_str(x["pseudonym"], f"{what}[].pseudonym"),
                expect_str(x["reason"], f"{what}[].reason"))
    expect_object(x, ("pseudonym", "seq"), f"{what}[]")
    return (parse_count(x["seq"], f"{what}[].seq", 1),
            expect_str(x["pseudonym"], f"{what}[].pseudonym"), "counted")


def _error(func: Any, *args: Any) -> InvalidInput | None:
    try:
        func(*args)
    except InvalidInput as exc:
        return exc
    return None


def _read_list(reader: JsonReader, what: str, out: CountedList,
               seqs: IntColumn | None) -> InvalidInput | None:
    """Read one list; its first error (None if it has none)."""
    if reader.peek() != "[":
        reader.value()
        return _error(expect_list, None, what)
    out.offset = reader.offset
    error = None
    last: int | None = None
    for _ in reader.elements():
        x = reader.value()
        out.count += 1
        if error is not None:
            continue
        try:
            seq = parse_item(x, what, seqs is None)[0]
        except InvalidInput as exc:
            error = exc
            continue
        if last is not None and seq < last:
            out.in_order = False
        last = seq
        if seqs is not None:
            seqs.append(seq)
    return error


def _read_contest(reader: JsonReader, cid: str) -> tuple[CountedContest, InvalidInput | None]:
    w = f"counted.contests.{cid}"
    shape = CountedContest()
    if reader.peek() != "{":
        reader.value()
        return shape, _error(expect_object, None, LISTS, w)
    keys = []
    errors: dict[str, InvalidInput | None] = {}
    for key in reader.keys():
        keys.append(key)
        if key == "counted":
            errors[key] = _read_list(reader, f"{w}.counted", shape.counted, shape.seqs)
        elif key == "excluded":
            errors[key] = _read_list(reader, f"{w}.excluded", shape.excluded, None)
        else:
            reader.value()
    error = _error(expect_object, dict.fromkeys(keys), LISTS, w)
    return shape, error or errors.get("counted") or errors.get("excluded")


def read_shape(path: Path, contest_ids: Collection[str]) -> dict[str, CountedContest]:
    """Validate counted.json's shape (see the module docstring); contest id → its lists, in
    file order."""
    top_keys: list[str] = []
    contests_not_object = False
    out: dict[str, CountedContest] = {}
    first: InvalidInput | None = None
    with JsonReader(path, strict=False) as reader:
        if reader.peek() != "{":
            expect_object(None, ("contests",), "counted")
        for key in reader.keys():
            top_keys.append(key)
            if key != "contests":
                reader.value()
            elif reader.peek() != "{":
                reader.value()
                contests_not_object = True
            else:
                for cid in reader.keys():
                    out[cid], error = _read_contest(reader, cid)
                    first = first or error
    expect_object(dict.fromkeys(top_keys), ("contests",), "counted")
    if contests_not_object:
        raise InvalidInput("counted.contests: not an object")
    if set(out) != set(contest_ids):
        raise InvalidInput("counted.contests: keys differ from the manifest's contest ids")
    if first is not None:
        raise first
    return out


def listed(path: Path, lst: CountedList, excluded: bool) -> Iterator[tuple[int, str, str]]:
    """(seq, pseudonym, reason) of each element of a list :func:`read_shape` validated."""
    with JsonReader(path, start=lst.offset, strict=False) as reader:
        for _ in reader.elements():
            x = reader.value()
            yield x["seq"], x["pseudonym"], x["reason"] if excluded else "counted"
