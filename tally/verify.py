"""Verification and aggregation of one chunk of board lines (runs in worker processes).

A chunk is a run of consecutive board positions.  For each position the worker checks that the
ballot line matches its entry (docs/record.md §3: seq, pseudonym, contest, ballot hash) and, for
a ballot that would be counted, verifies its proofs — bound to the ballot party
``<pseudonym>/<credential>`` (docs/protocol.md §13.4) — with **one batch across all ballots of the
chunk** (crypto.verify_many, docs/protocol.md §7.3); if the batch fails, it is bisected down to
the ballots that fail alone, so that each invalid one is named with its reason.  The worker
returns the per-candidate product of the valid ballots' ciphertexts, so the parent only
multiplies a few vectors.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Optional

import gmpy2

from crypto import ContestStatement, EncryptedContest, InvalidInput, PublicKey, verify_many
from crypto.ballot import ballot_from_canonical_values, canonical_ballot_values
from crypto.credential import ballot_party
from crypto.encoding import canonical_json, parse_json

from .preverified import ballot_key

BALLOT_LINE_KEYS = {"seq", "pseudonym", "contest", "ballot"}


@dataclass(frozen=True)
class VerifyContext:
    """Everything a worker needs, picklable: n, election id, contest shapes (N, k)."""

    n: int
    allow_insecure_test_key: bool
    election_id: str
    shapes: dict[str, tuple[int, int]]
    ballots_path: str  # board/ballots.jsonl: workers read their chunk's lines themselves


@dataclass(frozen=True)
class Item:
    """One board position: the entry's fields and where its ballot line is in ballots.jsonl
    (byte offset and length without the LF), so that no ballot passes through the parent."""

    seq: int
    pseudonym: str
    contest: str
    ballot_hash: str
    count: bool  # True when this is its credential's current ballot, not revoked, not overridden
    offset: int
    length: int
    known_valid: bool = False  # its proofs were verified before (tally/preverified.py): not again
    credential: str = ""  # the public credential that signed it (64 hex)

    @property
    def party(self) -> str:
        """The ballot party (docs/protocol.md §13.4): the Fiat–Shamir party of its proofs."""
        return ballot_party(self.pseudonym, self.credential)


@dataclass
class ChunkResult:
    board_error: Optional[str]
    invalid: dict[int, str]  # seq → reason text (without the "invalid: " prefix)
    products: dict[str, list[int]]  # contest → per-candidate product of valid counted ballots
    counts: dict[str, int]  # contest → number of valid counted ballots
    #: tally/preverified.py keys of the ballots whose proofs this chunk verified valid
    verified: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "invalid": {str(k): v for k, v in sorted(self.invalid.items())},
            "products": {c: [format(x, "x") for x in v] for c, v in self.products.items()},
            "counts": self.counts,
            "verified": self.verified,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "ChunkResult":
        return cls(None, {int(k): v for k, v in obj["invalid"].items()},
                   {c: [int(x, 16) for x in v] for c, v in obj["products"].items()}, dict(obj["counts"]),
                   list(obj["verified"]))


_CONTEXT: Optional[tuple[VerifyContext, PublicKey]] = None


def init_worker(context: VerifyContext) -> None:
    global _CONTEXT
    _CONTEXT = (context, PublicKey(context.n, context.allow_insecure_test_key))


_PREFIX = b'{"ballot":'


def _read_lines(path: str, items: list[Item]) -> Iterator[bytes]:
    """The chunk's ballot lines (consecutive in the file), one at a time: a worker holds one raw
    line (~1 MB at 2048 bits) at once, not the chunk's."""
    with open(path, "rb") as handle:
        handle.seek(items[0].offset)
        position = items[0].offset
        for item in items:
            if item.offset != position:
                handle.seek(item.offset)
            yield handle.read(item.length)
            position = item.offset + item.length


def _ballot_bytes_check(item: Item, line: bytes, shape: tuple[int, int]) -> tuple[Optional[tuple[bytes, ...]], bytes]:
    """Check the ballot line against its entry (docs/record.md §3); return the ballot's value
    strings if the fast canonical parse applies (else None) and the ballot's bytes.

    The line must be the canonical JSON of {"ballot", "contest", "pseudonym", "seq"}; with
    sorted keys that is ``{"ballot":`` + canonical ballot + the other fields, so the ballot's
    bytes are sliced out and hashed as they are (no re-encoding of the whole line), then checked
    to be canonical: by the skeleton of the contest's ballot shape (crypto.ballot.
    canonical_ballot_values) or, for any other shape, by parsing and re-encoding.
    """
    what = f"board ballot on line {item.seq}"
    suffix = (b',"contest":' + canonical_json(item.contest) + b',"pseudonym":' + canonical_json(item.pseudonym)
              + b',"seq":' + str(item.seq).encode() + b"}")
    if not (line.startswith(_PREFIX) and line.endswith(suffix) and len(line) > len(_PREFIX) + len(suffix)):
        obj = parse_json(line, what)  # for a precise message
        if not isinstance(obj, dict) or set(obj) != BALLOT_LINE_KEYS:
            raise ValueError(f"{what}: expected exactly the keys {sorted(BALLOT_LINE_KEYS)}")
        if (obj["seq"], obj["pseudonym"], obj["contest"]) != (item.seq, item.pseudonym, item.contest):
            raise ValueError(f"{what}: seq, pseudonym or contest differs from board entry {item.seq}")
        raise ValueError(f"{what}: not canonical JSON")
    ballot_bytes = line[len(_PREFIX):-len(suffix)]
    if hashlib.sha256(ballot_bytes).hexdigest() != item.ballot_hash:
        raise ValueError(f"{what}: the ballot's hash differs from the entry's ballot_hash")
    values = canonical_ballot_values(ballot_bytes, *shape)
    if values is not None:
        return values, ballot_bytes
    try:
        canonical = canonical_json(json.loads(ballot_bytes)) == ballot_bytes  # also refuses NaN, duplicate keys
    except ValueError:
        canonical = False
    if not canonical:
        raise ValueError(f"{what}: the ballot is not canonical JSON")
    return None, ballot_bytes


def _parse_ballot(values: Optional[tuple[bytes, ...]], ballot_bytes: bytes, pk: PublicKey,
                  shape: tuple[int, int]) -> EncryptedContest:
    """The ballot of a canonical line: fast from its value strings, else (other shape, value out
    of range) the strict parse, which raises InvalidInput naming the field."""
    if values is not None:
        ballot = ballot_from_canonical_values(values, pk, *shape)
        if ballot is not None:
            return ballot
    return EncryptedContest.from_dict(json.loads(ballot_bytes), pk)


def process_chunk(items: list[Item]) -> ChunkResult:
    """Verify and aggregate one chunk in a worker set up by :func:`init_worker` (process pool)."""
    assert _CONTEXT is not None, "init_worker not called"
    context, pk = _CONTEXT
    return _process(context, pk, items)


@lru_cache(maxsize=4)
def _public_key(n: int, allow_insecure_test_key: bool) -> PublicKey:
    return PublicKey(n, allow_insecure_test_key)


def process_chunk_with_context(context: VerifyContext, items: list[Item]) -> ChunkResult:
    """The same as :func:`process_chunk` with the context passed along: the task a Dask worker
    runs (``tally prepare --scheduler``).  No global state, so a worker may serve several runs."""
    return _process(context, _public_key(context.n, context.allow_insecure_test_key), items)


class _BoardLineError(Exception):
    """A ballot line does not match its board entry: the chunk's board error."""


def _process(context: VerifyContext, pk: PublicKey, items: list[Item]) -> ChunkResult:
    n2 = pk.n_square
    invalid: dict[int, str] = {}
    pending: list[tuple[Item, EncryptedContest]] = []  # counted ballots, in board order
    to_verify: list[Item] = []  # those whose proofs are checked here, in the order given to verify_many

    def ballots() -> Iterator[tuple[ContestStatement, EncryptedContest]]:
        """The chunk's counted ballots to verify, read one line at a time; verify_many checks each
        as it comes, so that only its integers stay in memory (not its ~1 MB line)."""
        for item, line in zip(items, _read_lines(context.ballots_path, items)):
            shape = context.shapes[item.contest]
            try:
                values, ballot_bytes = _ballot_bytes_check(item, line, shape)
            except ValueError as exc:  # includes InvalidInput from parse_json
                raise _BoardLineError(str(exc)) from None
            if not item.count:
                continue
            try:
                ballot = _parse_ballot(values, ballot_bytes, pk, shape)
                statement = None if item.known_valid else ContestStatement(
                    pk, context.election_id, item.contest, item.party, *shape)
            except InvalidInput as exc:
                invalid[item.seq] = str(exc)
                continue
            if statement is not None:
                to_verify.append(item)
                yield statement, ballot  # verify_many runs the cheap checks now
            # the hex text served the challenge hashes; drop it (~0.7 MB per ballot at 2048 bits)
            pending.append((item, dataclasses.replace(ballot, hex_cache=None) if ballot.hex_cache else ballot))

    try:
        failing = verify_many(ballots())
    except _BoardLineError as exc:
        return ChunkResult(str(exc), {}, {}, {})
    for position, error in failing.items():
        invalid[to_verify[position].seq] = str(error)
    products: dict[str, list[Any]] = {}
    counts: dict[str, int] = {}
    for item, ballot in pending:
        if item.seq in invalid:
            continue
        acc = products.get(item.contest)
        if acc is None:
            products[item.contest] = [gmpy2.mpz(c) for c in ballot.ciphertexts]
        else:
            for i, c in enumerate(ballot.ciphertexts):
                acc[i] = acc[i] * c % n2
        counts[item.contest] = counts.get(item.contest, 0) + 1
    verified = [ballot_key(item.contest, item.party, item.ballot_hash)
                for item in to_verify if item.seq not in invalid]
    return ChunkResult(None, invalid, {c: [int(x) for x in v] for c, v in products.items()}, counts, verified)
