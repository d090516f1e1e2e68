"""Who may sign a ballot (docs/record.md §6.2–§6.3, §5 check 19), as the board reader needs it:
the credential authority's public list, packed, and its revocations.

``credentials.json`` lists every voter of the rolls (~12 million insured persons, 67 bytes each),
so it is not parsed into Python objects: :func:`parse_credential_list` reads the CA's canonical
bytes (the opening pins their SHA-256, record.md §2.0) and keeps each contest's credentials
as one packed, sorted run of 32-byte keys per contest (version 4) (:class:`KeyList`, binary search).  Revocations are
few; :class:`Voters` adds them: the revoked credentials, the replacements (who may also sign)
and each replacement's predecessor, so that every credential of one voter leads back to the
voter's first (:meth:`Voters.root`).

Every function raises ValueError with a message naming the problem; the export reader
(:mod:`election.export`) turns it into :class:`~election.errors.BoardInvalid`.
"""
from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any, Collection, Iterator, Mapping, Optional, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import authority
from .signed import verify

KEY_BYTES = 32
_RECORD = 2 * KEY_BYTES + 3  # '"' + 64 hex + '",' in the canonical list
_BLOCK = 65536  # records validated and unpacked at once
_HEX_DIGITS = b"0123456789abcdef"

_HEAD = re.compile(rb'\{"at":("(?:[^"\\\x00-\x1f]|\\.)*"),"contests":\{')
_TAIL = re.compile(rb'\},"election_id":"([0-9a-f]{64})","signature":"([0-9a-f]{128})","type":"'
                   + authority.CREDENTIALS_TYPE.encode() + rb'"\}\Z')
_NAME = re.compile(rb'"([A-Za-z0-9][A-Za-z0-9_-]{0,63})":\[')  # a contest id (manifest.md §1)

Buffer = Union[bytes, bytearray]


class KeyList:
    """Sorted, unique 32-byte keys packed in one bytes object (32 bytes per key); membership
    by binary search."""

    def __init__(self, packed: bytes) -> None:
        if len(packed) % KEY_BYTES:
            raise ValueError("packed keys: not a multiple of 32 bytes")
        self._data = packed

    @classmethod
    def of(cls, keys: "list[bytes] | set[bytes]") -> "KeyList":
        return cls(b"".join(sorted(set(keys))))

    def __len__(self) -> int:
        return len(self._data) // KEY_BYTES

    def __iter__(self) -> Iterator[bytes]:
        data = self._data
        for i in range(0, len(data), KEY_BYTES):
            yield data[i:i + KEY_BYTES]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            return False
        data, lo, hi = self._data, 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            probe = data[mid * KEY_BYTES:(mid + 1) * KEY_BYTES]
            if probe < key:
                lo = mid + 1
            elif probe > key:
                hi = mid
            else:
                return True
        return False


@dataclass
class CredentialList:
    """``credentials.json`` as read: its ``at`` and each contest's credentials, packed
    (record.md §6.2, version 4: keyed by contest id)."""

    election_id: str
    at: str
    contests: dict[str, KeyList]


def _unpack(raw: Buffer, start: int, end: int, name: str) -> bytes:
    """The 32-byte keys of the canonical list body ``raw[start:end]`` (between the brackets:
    ``"<64 hex>","<64 hex>",…``), checked strictly increasing (sorted, unique)."""
    length = end - start
    if length == 0:
        return b""
    if (length + 1) % _RECORD:
        raise ValueError(f"credentials.json: the {name} list is not a list of 64 lowercase hex digits")
    count = (length + 1) // _RECORD
    packed = bytearray()
    view = memoryview(raw)
    for first in range(0, count, _BLOCK):
        m = min(_BLOCK, count - first)
        lo = start + first * _RECORD
        block = bytes(view[lo:lo + m * _RECORD - (1 if first + m == count else 0)])
        if first + m == count:
            block += b","
        hexes = block.translate(None, b'",')
        if (block[0::_RECORD] != b'"' * m or block[_RECORD - 2::_RECORD] != b'"' * m
                or block[_RECORD - 1::_RECORD] != b"," * m or len(hexes) != 2 * KEY_BYTES * m
                or hexes.translate(None, _HEX_DIGITS)):
            raise ValueError(f"credentials.json: the {name} list is not a list of 64 lowercase hex digits")
        packed += binascii.unhexlify(hexes)
    data = bytes(packed)
    del packed
    previous = b""
    for i in range(0, len(data), KEY_BYTES):
        key = data[i:i + KEY_BYTES]
        if key <= previous:
            raise ValueError(f"credentials.json: the {name} list is not sorted and unique "
                             f"(at {key.hex()})")
        previous = key
    return data


def parse_credential_list(raw: bytearray, election_id: str, ca_key: str,
                          contests: Optional[Collection[str]] = None) -> CredentialList:
    """``credentials.json`` (record.md §6.2, version 4) from its bytes, which must be the
    canonical JSON the CA signed: the keys and shapes of §6.2, contest ids sorted (and, given
    ``contests``, each one of them: the manifest's contest ids), every list sorted and unique,
    credentials in one contest only, this election, signed by ``ca_key`` (64 hex).

    ``raw`` is a bytearray (as read with :func:`election.export.read_bytearray`): the signature
    is checked over it with its ``signature`` member cut out in place, so that a list of
    millions of voters is not copied; afterwards ``raw`` is no longer the file's bytes."""
    head = _HEAD.match(raw)
    tail = _TAIL.search(raw, max(0, len(raw) - 512))
    if head is None or tail is None or tail.start() < head.end():
        raise ValueError("credentials.json: not the canonical JSON of a credential list "
                         '({"at", "contests", "election_id", "signature", "type"})')
    at = json.loads(head.group(1))
    if tail.group(1).decode() != election_id:
        raise ValueError(f"credentials.json: of election {tail.group(1).decode()}, not {election_id}")
    lists: dict[str, KeyList] = {}
    pos, stop = head.end(), tail.start()
    while pos < stop:
        if lists:
            if raw[pos:pos + 1] != b",":
                raise ValueError("credentials.json: not canonical JSON (contests)")
            pos += 1
        name_match = _NAME.match(raw, pos, stop)
        if name_match is None:
            raise ValueError("credentials.json: not canonical JSON (contests)")
        name = name_match.group(1).decode()
        if contests is not None and name not in contests:
            raise ValueError(f"credentials.json: {name!r} is not a contest of the manifest")
        if lists and name <= max(lists):
            raise ValueError("credentials.json: contests not sorted and unique")
        close = raw.find(b"]", name_match.end(), stop)
        if close < 0:
            raise ValueError("credentials.json: not canonical JSON (contests)")
        lists[name] = KeyList(_unpack(raw, name_match.end(), close, name))
        pos = close + 1
    if not lists:
        raise ValueError("credentials.json: contests is empty")
    names = sorted(lists)
    for i, name in enumerate(names):
        for other in names[i + 1:]:
            small, big = sorted((lists[name], lists[other]), key=len)
            for key in small:
                if key in big:
                    raise ValueError(f"credentials.json: credential {key.hex()} is in two contests")
    signature = tail.group(2).decode()
    cut = tail.end() - len(b',"signature":"","type":"' + authority.CREDENTIALS_TYPE.encode() + b'"}') \
        - len(signature)  # the member ,"signature":"…" after the election id
    del raw[cut:cut + len(b',"signature":""') + len(signature)]  # only the short tail moves
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(ca_key)).verify(bytes.fromhex(signature), raw)
    except (ValueError, InvalidSignature):
        raise ValueError("credentials.json: not signed by the CA key of the opening") from None
    return CredentialList(election_id, at, lists)


@dataclass
class Voters:
    """The credentials that may sign a ballot, per contest (the CA's list and the
    replacements of its revocations), and the revoked ones (record.md §6.3)."""

    lists: dict[str, KeyList]
    replacements: dict[str, set[bytes]] = field(default_factory=dict)
    replaced: dict[bytes, bytes] = field(default_factory=dict)  # replacement → the revoked
    revoked: set[bytes] = field(default_factory=set)
    revocations: int = 0

    def member(self, credential: bytes, contest: str) -> bool:
        """May ``credential`` sign ballots of ``contest`` (listed, or a replacement)?"""
        listed = self.lists.get(contest)
        return (listed is not None and credential in listed) or credential in self.replacements.get(contest, ())

    def contest_of(self, credential: bytes) -> Optional[str]:
        for name in sorted(set(self.lists) | set(self.replacements)):
            if self.member(credential, name):
                return name
        return None

    def root(self, credential: bytes) -> bytes:
        """The voter's first credential: follow the revocations back (replacements are new,
        so there is no cycle)."""
        for _ in range(len(self.replaced) + 1):
            earlier = self.replaced.get(credential)
            if earlier is None:
                break
            credential = earlier
        return credential

    def add_revocation(self, obj: Any, election_id: str, ca_key: str) -> None:
        """Apply one revocation (record.md §6.3) after checking it: its shape, this election,
        the CA's signature, a live credential of its contest revoked (listed or a replacement,
        not revoked before), a replacement (if any) that is new."""
        problems = authority.check_revocation(obj)
        if problems:
            raise ValueError("; ".join(problems))
        if obj["election_id"] != election_id:
            raise ValueError(f"revocation of election {obj['election_id']}, not {election_id}")
        if not verify(obj, ca_key):
            raise ValueError("not signed by the CA key of the opening")
        contest: str = obj["contest"]
        old = bytes.fromhex(obj["revoked"])
        if not self.member(old, contest) or old in self.revoked:
            raise ValueError(f"revokes {obj['revoked']}, which is not a live credential of "
                             f"contest {contest}")
        if obj["replacement"] is not None:
            new = bytes.fromhex(obj["replacement"])
            if self.contest_of(new) is not None or new in self.revoked:
                raise ValueError(f"the replacement {obj['replacement']} is not a new credential")
            self.replacements.setdefault(contest, set()).add(new)
            self.replaced[new] = old
        self.revoked.add(old)
        self.revocations += 1


def pins_problems(opening: Mapping[str, Any], *, election_key_sha256: str, board_key: str,
                  credentials_sha256: str) -> list[str]:
    """Which pins of the opening (record.md §2.0) differ from the files they pin."""
    problems = []
    if opening["election_key"] != election_key_sha256:
        problems.append("election_key is not the SHA-256 of election_key.json")
    if opening["board_key"] != board_key:
        problems.append("board_key is not the key of board_key.json")
    if opening["credentials"] != credentials_sha256:
        problems.append("credentials is not the SHA-256 of credentials.json")
    return problems
