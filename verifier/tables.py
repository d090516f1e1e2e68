"""Compact per-entry tables — docs/record.md §5 (memory note).

What the checks keep of each board entry and each line of board/ballots.jsonl, so that memory
grows by a few dozen bytes per entry (packed digests and integers), not by the entries:

- :class:`EntryTable` (check 6 → 7, 8, 9, 11, 19, 20, 23, 29–31): per well-formed entry its
  pseudonym (16 bytes), ballot hash (32 bytes), credential (32 bytes), contest (an index into
  the contest names) and kind (one byte: cast ballot or audit); the entry hash only at the seqs
  a checkpoint names.
- :class:`BallotIndex` (record loading → 7, 9, 12): per line its offset, length, ``seq``,
  pseudonym, contest and the ballot's object hash.
- :class:`SeqMap`, :class:`SeqSet`, :class:`IntColumn`: seq → row, a set of seqs, a list of
  seqs; no Python object per element while the seqs are those of a well-formed board.
- :class:`RowMap` (checks 11, 19, 20): a value of the entry table (credential, pseudonym,
  ballot hash) → a row that has it, 8–16 bytes per key: the keys are not held, they are read
  back from the table.
- :class:`KeySet` (credentials.json → 18, 19, 23): the CA's credentials, 32 bytes each.

A value that does not fit the packed form (e.g. a pseudonym that is a string but not 32 hex
digits) is kept as it is, on the side, so every check sees exactly the value of the record.
"""
from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterator

HEX32_RE = re.compile(r"[0-9a-f]{32}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
BALLOT_LINE_KEYS = frozenset(("seq", "pseudonym", "contest", "ballot"))
INT64 = (-(1 << 63), 1 << 63)


class SeqMap:
    """seq → int.  While seqs 1, 2, 3, … are added in order, each with value ``seq + delta``,
    nothing is stored per element; the first other pair turns it into a dict."""

    def __init__(self, delta: int) -> None:
        self._delta = delta
        self._count = 0
        self._map: dict[int, int] | None = None

    def add(self, seq: int, value: int) -> None:
        """Add ``seq`` (the caller checked it is not already in)."""
        if self._map is None and (seq != self._count + 1 or value != seq + self._delta):
            self._map = {k: k + self._delta for k in range(1, self._count + 1)}
        if self._map is not None:
            self._map[seq] = value
        self._count += 1

    def get(self, seq: int) -> int | None:
        if self._map is not None:
            return self._map.get(seq)
        return seq + self._delta if 1 <= seq <= self._count else None

    def __contains__(self, seq: int) -> bool:
        return self.get(seq) is not None

    def __len__(self) -> int:
        return self._count

    def items(self, reverse: bool = False) -> Iterator[tuple[int, int]]:
        """(seq, value) in seq order."""
        if self._map is None:
            seqs = range(1, self._count + 1)
            for seq in reversed(seqs) if reverse else seqs:
                yield seq, seq + self._delta
        else:
            yield from sorted(self._map.items(), reverse=reverse)


class SeqSet:
    """A set of integers: one byte each for 0 ≤ seq < ~2 × (elements added) + 65536, a set for
    the others."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self._added = 0
        self._other: set[int] = set()

    def add(self, seq: int) -> None:
        self._added += 1
        if 0 <= seq < len(self._bits):
            self._bits[seq] = 1
        elif 0 <= seq < 2 * self._added + 65536:
            size = max(seq + 1, min(2 * len(self._bits), 2 * self._added + 65536))
            self._bits.extend(bytes(size - len(self._bits)))
            self._bits[seq] = 1
        else:
            self._other.add(seq)

    def __contains__(self, seq: int) -> bool:
        # the bitmap may have grown over a seq added to the set before
        return (0 <= seq < len(self._bits) and self._bits[seq] == 1) or seq in self._other


class IntColumn:
    """A list of integers packed as 64-bit values (a Python list once one does not fit)."""

    def __init__(self) -> None:
        self._values: array[int] | list[int] = array("q")

    def append(self, value: int) -> None:
        if isinstance(self._values, array) and not INT64[0] <= value < INT64[1]:
            self._values = list(self._values)
        self._values.append(value)

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, i: int) -> int:
        return self._values[i]

    def __iter__(self) -> Iterator[int]:
        return iter(self._values)


class Interner:
    """Strings (contest ids) ↔ small integers."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._ids: dict[str, int] = {}

    def get(self, name: str) -> int | None:
        return self._ids.get(name)

    def id(self, name: str) -> int:
        found = self._ids.get(name)
        if found is None:
            found = self._ids[name] = len(self.names)
            self.names.append(name)
        return found


class EntryTable:
    """The well-formed entries of board/entries.jsonl (check 6), by seq; the first of a
    duplicated seq, as check 6 keeps it.  Rows are numbered in file order."""

    def __init__(self, head_seqs: set[int]) -> None:
        self.rows = SeqMap(-1)
        self._seqs = IntColumn()  # row → seq
        self.heads: dict[int, str] = {}  # seq → entry_hash, for the seqs in ``head_seqs``
        self._head_seqs = head_seqs
        self._pseudonyms = bytearray()      # 16 bytes per row
        self._ballot_hashes = bytearray()   # 32 bytes per row
        self._credentials = bytearray()     # 32 bytes per row
        self._contests = array("I")
        self._audits = bytearray()          # 1 per row: 1 for an audit entry (record.md §2.1)
        self.audit_count = 0
        self._interner = Interner()
        # row → the value as found, when it is not packed (e.g. a trailing newline, which the
        # checks' `$` lets through)
        self._odd_pseudonyms: dict[int, str] = {}
        self._odd_hashes: dict[int, str] = {}
        self._odd_credentials: dict[int, str] = {}

    def add(self, seq: int, entry: Any) -> None:
        """Add a well-formed entry (check 6 validated its fields) whose seq is new."""
        row = len(self.rows)
        self.rows.add(seq, row)
        self._seqs.append(seq)
        pseudonym, ballot_hash = entry["pseudonym"], entry["ballot_hash"]
        if HEX32_RE.fullmatch(pseudonym):
            self._pseudonyms += bytes.fromhex(pseudonym)
        else:
            self._pseudonyms += bytes(16)
            self._odd_pseudonyms[row] = pseudonym
        if HEX64_RE.fullmatch(ballot_hash):
            self._ballot_hashes += bytes.fromhex(ballot_hash)
        else:
            self._ballot_hashes += bytes(32)
            self._odd_hashes[row] = ballot_hash
        credential = entry["credential"]
        if HEX64_RE.fullmatch(credential):
            self._credentials += bytes.fromhex(credential)
        else:
            self._credentials += bytes(32)
            self._odd_credentials[row] = credential
        self._contests.append(self._interner.id(entry["contest"]))
        audit = entry.get("kind") == "audit"
        self._audits.append(audit)
        self.audit_count += audit
        if seq in self._head_seqs:
            self.heads[seq] = entry["entry_hash"]

    def row(self, seq: int) -> int | None:
        return self.rows.get(seq)

    def seq(self, row: int) -> int:
        return self._seqs[row]

    def __contains__(self, seq: int) -> bool:
        return seq in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def items(self, reverse: bool = False) -> Iterator[tuple[int, int]]:
        """(seq, row) in seq order."""
        return self.rows.items(reverse)

    @property
    def packed(self) -> bool:
        """Every value is packed (none kept on the side)."""
        return not self._odd_pseudonyms and not self._odd_hashes and not self._odd_credentials

    def pseudonym(self, row: int) -> str:
        odd = self._odd_pseudonyms.get(row)
        return odd if odd is not None else self._pseudonyms[16 * row:16 * row + 16].hex()

    def pseudonym_key(self, row: int) -> bytes | str:
        """Equal for two rows exactly when their pseudonyms are equal."""
        odd = self._odd_pseudonyms.get(row)
        return odd if odd is not None else bytes(self._pseudonyms[16 * row:16 * row + 16])

    def ballot_hash(self, row: int) -> str:
        odd = self._odd_hashes.get(row)
        return odd if odd is not None else self._ballot_hashes[32 * row:32 * row + 32].hex()

    def ballot_hash_key(self, row: int) -> bytes | str:
        """Equal for two rows exactly when their ballot hashes are equal."""
        odd = self._odd_hashes.get(row)
        return odd if odd is not None else bytes(self._ballot_hashes[32 * row:32 * row + 32])

    def credential(self, row: int) -> str:
        odd = self._odd_credentials.get(row)
        return odd if odd is not None else self._credentials[32 * row:32 * row + 32].hex()

    def credential_key(self, row: int) -> bytes | str:
        """Equal for two rows exactly when their credentials are equal."""
        odd = self._odd_credentials.get(row)
        return odd if odd is not None else bytes(self._credentials[32 * row:32 * row + 32])

    def contest_id(self, row: int) -> int:
        return self._contests[row]

    def is_audit(self, row: int) -> bool:
        """The entry is an audit entry (kind ``audit``), not a cast ballot."""
        return self._audits[row] == 1

    def contest(self, row: int) -> str:
        return self._interner.names[self._contests[row]]

    def contest_index(self, name: str) -> int | None:
        """The contest id's index in :meth:`contest_id` terms (None if no entry has it)."""
        return self._interner.get(name)


@dataclass(frozen=True, slots=True)
class BallotLine:
    """What is kept of one line of board/ballots.jsonl (the line itself is not).

    ``value`` is the line's object with only its small fields (``seq``, ``pseudonym``,
    ``contest``) and every other key mapped to None — enough for the shape checks — or None if
    the line is not an object; ``ballot_hash`` is the object hash of its ``ballot`` (None if it
    has none).  ``offset``/``length``: where the line's bytes are, for ``record.read_line``.
    """

    number: int
    offset: int
    length: int
    value: dict[str, Any] | None
    ballot_hash: str | None
    #: the paths of any ``seed`` key in the line, at any depth (docs/record.md §5, check 31)
    seeds: tuple[str, ...] = ()


class BallotIndex:
    """Every line of board/ballots.jsonl as a :class:`BallotLine`, packed: offset, length,
    seq, pseudonym (16 bytes), contest (an index) and ballot hash (32 bytes) per line; a line
    of another shape is kept as its BallotLine."""

    def __init__(self) -> None:
        self._spans = array("Q")             # offset, length per line
        self._seqs = array("q")
        self._pseudonyms = bytearray()
        self._hashes = bytearray()
        self._contests = array("I")
        self._interner = Interner()
        self._odd: dict[int, BallotLine] = {}  # line number → the line as found
        self._seeds: dict[int, tuple[str, ...]] = {}  # line number → its seed keys (check 31)

    def append(self, line: BallotLine) -> None:
        """Add the next line (``line.number`` = len(self) + 1)."""
        self._spans.extend((line.offset, line.length))
        if line.seeds:
            self._seeds[line.number] = line.seeds
        v = line.value
        if (v is not None and v.keys() == BALLOT_LINE_KEYS and type(v["seq"]) is int
                and INT64[0] <= v["seq"] < INT64[1] and type(v["pseudonym"]) is str
                and HEX32_RE.fullmatch(v["pseudonym"]) and type(v["contest"]) is str
                and line.ballot_hash is not None):
            self._seqs.append(v["seq"])
            self._pseudonyms += bytes.fromhex(v["pseudonym"])
            self._hashes += bytes.fromhex(line.ballot_hash)
            self._contests.append(self._interner.id(v["contest"]))
        else:
            self._seqs.append(0)
            self._pseudonyms += bytes(16)
            self._hashes += bytes(32)
            self._contests.append(0)
            self._odd[line.number] = line

    def __len__(self) -> int:
        return len(self._seqs)

    @property
    def packed(self) -> bool:
        """Every line is packed (none kept as its BallotLine)."""
        return not self._odd

    def seed_fields(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """(line number, the paths of its ``seed`` keys) of every line that has one."""
        yield from sorted(self._seeds.items())

    def span(self, number: int) -> tuple[int, int]:
        """(byte offset, length) of line ``number``."""
        return self._spans[2 * number - 2], self._spans[2 * number - 1]

    def line(self, number: int) -> BallotLine:
        odd = self._odd.get(number)
        if odd is not None:
            return odd
        i = number - 1
        value = {"seq": self._seqs[i], "pseudonym": self._pseudonyms[16 * i:16 * i + 16].hex(),
                 "contest": self._interner.names[self._contests[i]], "ballot": None}
        return BallotLine(number, self._spans[2 * i], self._spans[2 * i + 1], value,
                          self._hashes[32 * i:32 * i + 32].hex(), self._seeds.get(number, ()))

    def __iter__(self) -> Iterator[BallotLine]:
        for number in range(1, len(self) + 1):
            yield self.line(number)


class KeySet:
    """A set of 32-byte keys (public credentials), packed: 32 bytes each.  Keys are added in
    any order; :meth:`freeze` sorts them (when they were not added in order) for the binary
    search of ``in``."""

    SIZE = 32

    def __init__(self) -> None:
        self._keys = bytearray()
        self._in_order = True
        self._last = b""

    def add(self, key: bytes) -> None:
        assert len(key) == self.SIZE
        if key <= self._last:
            self._in_order = False
        self._last = key
        self._keys += key

    def freeze(self) -> None:
        if not self._in_order:
            size = self.SIZE
            keys = sorted(bytes(self._keys[i:i + size]) for i in range(0, len(self._keys), size))
            self._keys = bytearray(b"".join(keys))
            self._in_order = True

    def __len__(self) -> int:
        return len(self._keys) // self.SIZE

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, (bytes, bytearray)) or len(key) != self.SIZE:
            return False
        self.freeze()
        size, keys = self.SIZE, self._keys
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            found = keys[mid * size:mid * size + size]
            if found == key:
                return True
            if found < key:
                lo = mid + 1
            else:
                hi = mid
        return False

    def __iter__(self) -> Iterator[bytes]:
        size = self.SIZE
        for i in range(0, len(self._keys), size):
            yield bytes(self._keys[i:i + size])

    def _first_at_least(self, first_byte: int) -> int:
        """The index of the first key whose first byte is ≥ ``first_byte`` (keys sorted)."""
        size, keys = self.SIZE, self._keys
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if keys[mid * size] < first_byte:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def starting_with(self, first_byte: int) -> list[bytes]:
        """The keys whose first byte is ``first_byte``: one slice of the sorted keys, so that a
        caller can hold 1/256 of the set at a time."""
        self.freeze()
        size = self.SIZE
        lo = self._first_at_least(first_byte)
        hi = self._first_at_least(first_byte + 1) if first_byte < 255 else len(self)
        chunk = bytes(self._keys[lo * size:hi * size])
        return [chunk[i:i + size] for i in range(0, len(chunk), size)]


class RowMap:
    """key → row, for keys that are a function of the row (``key_of``, e.g. an entry table's
    credential): open addressing over a packed array of rows, so that no key object is held —
    8 to 16 bytes per key, where a dict of bytes keys takes ~130.  Slots are chosen by
    Python's ``hash`` (SipHash, randomly keyed per process: a record cannot be made to collide
    on purpose)."""

    EMPTY = -1

    def __init__(self, key_of: Callable[[int], bytes | str]) -> None:
        self._key_of = key_of
        self._slots = array("q", [self.EMPTY]) * 16
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _find(self, key: bytes | str) -> int:
        """The slot holding ``key``, or the empty slot where it goes."""
        slots, key_of = self._slots, self._key_of
        mask = len(slots) - 1
        i = hash(key) & mask
        while True:
            row = slots[i]
            if row < 0 or key_of(row) == key:
                return i
            i = (i + 1) & mask

    def get(self, key: bytes | str) -> int | None:
        row = self._slots[self._find(key)]
        return None if row < 0 else row

    def put(self, key: bytes | str, row: int) -> None:
        """Map ``key`` (= ``key_of(row)``) to ``row``, replacing the row it had."""
        i = self._find(key)
        if self._slots[i] < 0:
            self._count += 1
            if 2 * self._count > len(self._slots):
                self._grow()
                i = self._find(key)
        self._slots[i] = row

    def setdefault(self, key: bytes | str, row: int) -> int:
        """The row of ``key``; ``row`` (added) if it has none."""
        found = self.get(key)
        if found is None:
            self.put(key, row)
            return row
        return found

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("q", [self.EMPTY]) * (2 * len(old))
        for row in old:
            if row >= 0:
                self._slots[self._find(self._key_of(row))] = row
