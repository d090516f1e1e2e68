"""The streaming helpers of the verifier: packed tables (verifier/tables.py), the bounded-memory
JSON reader (verifier/jsonstream.py) and the streamed shape check of tally/counted.json
(verifier/counted.py), each against the plain whole-object code it replaces."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from verifier import counted, jsonstream
from verifier.encoding import expect_list, expect_object, expect_str, loads_strict, parse_count
from verifier.errors import InvalidInput
from verifier.jsonstream import JsonReader
from verifier.tables import (BallotIndex, BallotLine, EntryTable, IntColumn, KeySet, RowMap,
                             SeqMap, SeqSet)

P1, P2 = "0123456789abcdef" * 2, "f" * 32
H1, H2 = "ab" * 32, "cd" * 32
C1, C2 = "12" * 32, "9f" * 32


# --- tables -----------------------------------------------------------------------------------

@pytest.mark.parametrize("pairs", [
    [(1, 0), (2, 1), (3, 2)],                 # a well-formed board: nothing stored per seq
    [(1, 0), (3, 1), (2, 2), (0, 3)],         # a gap, then out of order and 0
    [(5, 0)], [], [(1, 0), (2, 1), (10 ** 20, 2), (-4, 3)],
])
def test_seq_map_is_a_dict(pairs: list[tuple[int, int]]) -> None:
    m = SeqMap(-1)
    want: dict[int, int] = {}
    for seq, row in pairs:
        m.add(seq, row)
        want[seq] = row
        assert m.get(seq) == row
    assert len(m) == len(want)
    assert list(m.items()) == sorted(want.items())
    assert list(m.items(reverse=True)) == sorted(want.items(), reverse=True)
    for seq in (-5, -4, 0, 1, 2, 3, 4, 5, 10 ** 20):
        assert m.get(seq) == want.get(seq) and (seq in m) == (seq in want)
    assert (m._map is None) == (pairs == [(k, k - 1) for k in range(1, len(pairs) + 1)])


def test_seq_set_is_a_set() -> None:
    rng = random.Random(5)
    s, want = SeqSet(), set()
    for _ in range(3000):
        x = rng.choice([rng.randrange(-10, 5000), rng.randrange(10 ** 6), 10 ** 30])
        s.add(x)
        want.add(x)
    for x in list(want) + list(range(-20, 6000)) + [10 ** 30 + 1]:
        assert (x in s) == (x in want)
    assert len(s._bits) <= 2 * 3000 + 65536  # bounded by the elements, not by their values


def test_int_column_keeps_any_int() -> None:
    col = IntColumn()
    values = [1, 2, (1 << 63) - 1, -(1 << 63), 3]
    for v in values:
        col.append(v)
    assert list(col) == values and len(col) == 5 and col[2] == (1 << 63) - 1
    col.append(1 << 63)  # does not fit 64 bits: becomes a list, same values
    assert list(col) == values + [1 << 63] and col[5] == 1 << 63


def _entry(seq: int, pseudonym: str, ballot_hash: str, contest: str,
           credential: str = C1) -> dict[str, Any]:
    return {"seq": seq, "pseudonym": pseudonym, "ballot_hash": ballot_hash, "contest": contest,
            "credential": credential, "entry_hash": f"h{seq}"}


def test_entry_table_gives_back_the_values() -> None:
    rows = [_entry(1, P1, H1, "insured"), _entry(2, P2, H2, "employer", C2),
            _entry(4, P1 + "\n", H1, "insured", C2 + "\n"),
            _entry(3, P2, H2 + "\n", "ผู้ประกันตน", C2)]
    table = EntryTable({2, 3, 99})
    for e in rows:
        table.add(e["seq"], e)
    assert table.heads == {2: "h2", 3: "h3"}
    assert [seq for seq, _ in table.items()] == [1, 2, 3, 4]
    for e in rows:
        row = table.row(e["seq"])
        assert row is not None and e["seq"] in table
        assert table.pseudonym(row) == e["pseudonym"]
        assert table.ballot_hash(row) == e["ballot_hash"]
        assert table.credential(row) == e["credential"]
        assert table.seq(row) == e["seq"]
        assert table.contest(row) == e["contest"]
        assert table.contest_index(e["contest"]) == table.contest_id(row)
    keys = [table.pseudonym_key(table.row(s) or 0) for s in (1, 2, 3, 4)]
    assert keys[0] != keys[3] and keys[1] == keys[2]  # equal exactly when the pseudonyms are
    creds = [table.credential_key(table.row(s) or 0) for s in (1, 2, 3, 4)]
    assert creds[1] == creds[2] and len(set(creds)) == 3
    hashes = [table.ballot_hash_key(table.row(s) or 0) for s in (1, 2, 3, 4)]
    assert hashes[0] == hashes[3] and len(set(hashes)) == 3
    assert not table.packed
    assert table.row(5) is None and table.contest_index("nope") is None


@pytest.mark.parametrize("count", [0, 1, 5, 40, 2000])
def test_row_map_is_a_dict_of_the_rows_keys(count: int) -> None:
    rng = random.Random(count)
    keys = [rng.randbytes(4) if rng.random() < 0.7 else rng.choice("abc") for _ in range(count)]
    rows = RowMap(lambda row: keys[row])
    want: dict[Any, int] = {}
    for row, k in enumerate(keys):
        assert rows.get(k) == want.get(k)
        if row % 3:
            rows.put(k, row)
            want[k] = row
        else:
            assert rows.setdefault(k, row) == want.setdefault(k, row)
    assert len(rows) == len(want)
    for k, row in want.items():
        assert rows.get(k) == row
    assert rows.get(b"not a key") is None


@pytest.mark.parametrize("count", [0, 1, 2, 7, 300])
def test_key_set_is_a_set(count: int) -> None:
    rng = random.Random(count)
    keys = [rng.randbytes(32) for _ in range(count)]
    for order in (sorted(keys), keys):  # added in order (no sort) or not (sorted once)
        ks = KeySet()
        for k in order:
            ks.add(k)
        assert len(ks) == count and sorted(ks) == sorted(keys)
        for k in keys:
            assert k in ks and bytearray(k) in ks
        for _ in range(20):
            assert rng.randbytes(32) not in ks
        assert b"short" not in ks and "x" * 32 not in ks


def test_ballot_index_gives_back_every_line() -> None:
    lines = [
        BallotLine(1, 0, 10, {"seq": 1, "pseudonym": P1, "contest": "insured",
                              "ballot": None}, H1),
        BallotLine(2, 11, 5, None, None),
        BallotLine(3, 17, 9, {"contest": "x", "ballot": None, "pseudonym": P1.upper(),
                              "seq": 3}, H2),
        BallotLine(4, 27, 9, {"seq": True, "pseudonym": P2, "contest": "c", "ballot": None}, H2),
        BallotLine(5, 37, 9, {"seq": 1 << 70, "pseudonym": P2, "contest": "c", "ballot": None},
                   H2),
        BallotLine(6, 47, 9, {"seq": 6, "pseudonym": P2, "contest": "c"}, None),
        BallotLine(7, 57, 1 << 40, {"seq": 0, "pseudonym": P2, "contest": "employer",
                                    "ballot": None}, H2),
    ]
    index = BallotIndex()
    for line in lines:
        index.append(line)
    assert len(index) == len(lines) and list(index) == lines
    assert index.span(7) == (57, 1 << 40)
    assert not index.packed


# --- the JSON reader --------------------------------------------------------------------------

DOCS = [
    b'{"contests":{"a":{"counted":[{"pseudonym":"p","seq":1}],"excluded":[]}}}',
    b' \n{ "a" : [ 1 , 2.5e-3 , -0 , 1E+2 , "x\\u00e9\\"y" , true , false , null , {} , [] ] } \n',
    b'[]', b'[1]', b'0', b'-12.5e10', b'"\xe0\xb8\x81"', b'null', b'{"k":{"k":{"k":[[1,[2]]]}}}',
    b'{"a":123456789012345678901234567890,"b":"' + b"x" * 3000 + b'"}',
    b'[' + b",".join(str(i).encode() for i in range(2000)) + b']',
]
BAD = [b'', b' ', b'{', b'{"a":1,}', b'[1,]', b'[1 2]', b'{"a" 1}', b'{"a":1}x', b'{} {}',
       b'{"a":1,"a":2}', b'[NaN]', b'[Infinity]', b'\xef\xbb\xbf{}', b'["\xff"]', b'{1:2}',
       b'[01]', b'["a\tb"]', b'[tru]', b'{"a":[1,2}', b'"abc', b'-', b'[1.]', b'[.5]']


def _walk(reader: JsonReader, depth: int) -> Any:
    """Rebuild a document through the reader's keys/elements down to ``depth``."""
    char = reader.peek()
    if depth > 0 and char == "{":
        return {k: _walk(reader, depth - 1) for k in reader.keys()}
    if depth > 0 and char == "[":
        return [_walk(reader, depth - 1) for _ in reader.elements()]
    return reader.value()


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("doc", DOCS)
def test_reader_reads_what_json_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      doc: bytes, block: int) -> None:
    monkeypatch.setattr(jsonstream, "READ_BLOCK", block)
    monkeypatch.setattr(jsonstream, "LOOKAHEAD", min(block, 16))
    path = tmp_path / "x.json"
    path.write_bytes(doc)
    for depth in (0, 1, 2, 5):
        with JsonReader(path) as reader:
            assert _walk(reader, depth) == loads_strict(doc)
            reader.finish()
    with JsonReader(path) as reader:
        reader.skip(4)
        reader.finish()


@pytest.mark.parametrize("block", [1, 5, 1 << 20])
@pytest.mark.parametrize("doc", BAD)
def test_reader_refuses_what_strict_json_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 doc: bytes, block: int) -> None:
    monkeypatch.setattr(jsonstream, "READ_BLOCK", block)
    monkeypatch.setattr(jsonstream, "LOOKAHEAD", min(block, 16))
    with pytest.raises(ValueError):
        loads_strict(doc)
    path = tmp_path / "x.json"
    path.write_bytes(doc)
    with pytest.raises(ValueError):
        with JsonReader(path) as reader:
            reader.skip(4)
            reader.finish()


def test_reader_restarts_at_an_offset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "READ_BLOCK", 3)
    path = tmp_path / "x.json"
    path.write_bytes('{"é": [1, 2], "ก": [[3], "ข"]}'.encode())
    offsets = {}
    with JsonReader(path) as reader:
        for key in reader.keys():
            reader.peek()
            offsets[key] = reader.offset
            reader.value()
    for key, want in (("é", [1, 2]), ("ก", [[3], "ข"])):
        with JsonReader(path, start=offsets[key]) as reader:
            assert [reader.value() for _ in reader.elements()] == want


# --- tally/counted.json -----------------------------------------------------------------------

def _reference(obj: Any, contest_ids: set[str]) -> str | dict[str, Any]:
    """check 11's validation of the whole parsed object (before streaming): the error message,
    or per contest (counted seqs, counts, sortedness)."""
    try:
        expect_object(obj, ("contests",), "counted")
        if not isinstance(obj["contests"], dict):
            raise InvalidInput("counted.contests: not an object")
        if set(obj["contests"]) != contest_ids:
            raise InvalidInput("counted.contests: keys differ from the manifest's contest ids")
        out = {}
        for cid, c in obj["contests"].items():
            w = f"counted.contests.{cid}"
            expect_object(c, ("counted", "excluded"), w)
            lists = []
            for name in ("counted", "excluded"):
                seqs = []
                for x in expect_list(c[name], f"{w}.{name}"):
                    keys = ("pseudonym", "seq", "reason") if name == "excluded" else (
                        "pseudonym", "seq")
                    expect_object(x, keys, f"{w}.{name}[]")
                    seqs.append(parse_count(x["seq"], f"{w}.{name}[].seq", 1))
                    expect_str(x["pseudonym"], f"{w}.{name}[].pseudonym")
                    if name == "excluded":
                        expect_str(x["reason"], f"{w}.{name}[].reason")
                lists.append(seqs)
            out[cid] = {"seqs": lists[0], "counts": [len(x) for x in lists],
                        "in_order": [x == sorted(x) for x in lists]}
        return out
    except InvalidInput as exc:
        return str(exc)


def _streamed(path: Path, contest_ids: set[str]) -> str | dict[str, Any]:
    try:
        shape = counted.read_shape(path, contest_ids)
    except InvalidInput as exc:
        return str(exc)
    for cid, c in shape.items():
        for lst, excluded in ((c.counted, False), (c.excluded, True)):
            items = list(counted.listed(path, lst, excluded))
            assert len(items) == lst.count
            if not excluded:
                assert all(reason == "counted" for _, _, reason in items)
    return {cid: {"seqs": list(c.seqs), "counts": [c.counted.count, c.excluded.count],
                  "in_order": [c.counted.in_order, c.excluded.in_order]}
            for cid, c in shape.items()}


def _mutations(rng: random.Random, doc: dict[str, Any]) -> Any:
    values: list[Any] = [None, 0, 1, -1, True, 2.5, "x", [], {}, [1], {"a": 1}, 10 ** 30]
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 3)):
        cid = rng.choice(["a", "b"])
        if not isinstance(doc.get("contests"), dict) or not isinstance(
                doc["contests"].get(cid), dict):
            break
        c = doc["contests"][cid]
        kind = rng.randrange(9)
        if kind == 0:
            doc[rng.choice(["contests", "x"])] = rng.choice(values)
        elif kind == 1:
            doc["contests"][rng.choice(["a", "b", "z"])] = rng.choice(values + [{}])
        elif kind == 2:
            c[rng.choice(["counted", "excluded", "q"])] = rng.choice(values)
        elif kind in (3, 4):
            name = "counted" if kind == 3 else "excluded"
            items = [x for x in c.get(name) or [] if isinstance(x, dict)] if isinstance(
                c.get(name), list) else []
            if items:
                x = rng.choice(items)
                x[rng.choice(["seq", "pseudonym", "reason"])] = rng.choice(values)
                if rng.random() < 0.3:
                    del x[rng.choice(list(x))]
        elif kind == 5:
            doc["contests"][cid] = {k: c[k] for k in reversed(list(c))}  # excluded first
        elif kind == 6 and isinstance(c.get("counted"), list):
            rng.shuffle(c["counted"])
        elif kind == 7:
            doc = {k: doc[k] for k in reversed(list(doc))} if rng.random() < 0.5 else [doc]
            if isinstance(doc, list):
                return doc
        elif kind == 8:
            doc["contests"] = {k: doc["contests"][k] for k in reversed(list(doc["contests"]))}
    return doc


def test_counted_shape_streamed_as_the_whole_object_is_validated(tmp_path: Path) -> None:
    rng = random.Random(11)
    valid = {"contests": {cid: {
        "counted": [{"pseudonym": f"p{i}", "seq": 3 * i + k} for i in range(1, 6)],
        "excluded": [{"pseudonym": f"p{i}", "seq": 3 * i + k + 20, "reason": "superseded"}
                     for i in range(1, 4)]} for k, cid in enumerate(("a", "b"))}}
    path = tmp_path / "counted.json"
    docs = [valid] + [_mutations(rng, valid) for _ in range(400)]
    messages = set()
    for doc in docs:
        raw = json.dumps(doc, indent=rng.choice([None, 1])).encode()
        path.write_bytes(raw)
        if counted.is_null(path):
            continue
        want = _reference(doc, {"a", "b"})
        assert _streamed(path, {"a", "b"}) == want, raw
        messages.add(want if isinstance(want, str) else "ok")
    assert len(messages) > 20  # the mutations reach many different errors


def test_keyset_starting_with_partitions_the_sorted_keys() -> None:
    """check 18 reads the per-contest lists 1/256 at a time (verifier/checks/credentials.py)."""
    import os

    from verifier.tables import KeySet
    keys = sorted({os.urandom(32) for _ in range(3000)} | {bytes([0] * 32), bytes([255] * 32)})
    ks = KeySet()
    for k in reversed(keys):  # added out of order: starting_with sorts first
        ks.add(k)
    parts = [ks.starting_with(b) for b in range(256)]
    assert [k for part in parts for k in part] == keys
    assert all(k[0] == b for b, part in enumerate(parts) for k in part)


def test_shared_credentials_names_every_list_holding_a_key() -> None:
    import os

    from verifier.checks.credentials import shared_credentials
    from verifier.tables import KeySet
    common, pair = os.urandom(32), os.urandom(32)
    lists = {}
    for name, extra in (("a", [common, pair]), ("b", [common]), ("c", [common, pair]), ("d", [])):
        ks = KeySet()
        for k in sorted([os.urandom(32) for _ in range(500)] + extra):
            ks.add(k)
        lists[name] = ks
    assert sorted(shared_credentials(lists)) == sorted([(common, ["a", "b", "c"]),
                                                        (pair, ["a", "c"])])
