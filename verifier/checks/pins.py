"""The pinned objects of a version-2 record and check 17 (docs/record.md §2.0, §5).

Several checks need the opening object (8: the opening hash of the checkpoints and the pinned
board key; 17; 19: the opening hash in every ballot statement; 22: the officials), the credential
list (18, 19, 23, 35, 38: per contest in version 4) and the revocations (11: ballots of a
revoked credential; 18; 19; 38) — in an order
unlike the checks'.  The loaders here parse them once, leniently, and keep what they parsed in
``ctx.loaded``: a check that uses a pinned value takes it as found; only check 17 (the opening)
and check 18 (the list and the revocations) report what is malformed.

``credentials.json`` lists every voter (~67 bytes each, ~12 million insured persons): it is
streamed like the board (verifier/record.py), and only the credentials are kept, packed, 32
bytes each (:class:`~verifier.tables.KeySet`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from verifier.checks.context import HEX64_RE, CheckResult, Context, record_json
from verifier.encoding import (canonical_json, expect_list, expect_object, expect_str,
                               loads_strict)
from verifier.errors import InvalidInput
from verifier.hashing import object_hash
from verifier.jsonstream import JsonReader
from verifier.record import (BOARD_KEY, CHECKPOINTS, CREDENTIALS, ELECTION_KEY, OPENING,
                             OVERRIDES, REVOCATIONS)
from verifier.signatures import parse_public_key_json, signature_valid
from verifier.tables import KeySet

OPENING_TYPE = "ssbvote-opening"
CREDENTIALS_TYPE = "ssbvote-credentials"
REVOCATION_TYPE = "ssbvote-revocation"
OPENING_KEYS = ("type", "election_id", "election_key", "board_key", "ca_key", "credentials",
                "officials", "witnesses", "at", "signature")  # witnesses: §2.0, check 34
#: version 4 (record.md §6.2–§6.3): the lists and the revocations are per contest
CREDENTIALS_KEYS = ("type", "election_id", "at", "contests", "signature")
REVOCATION_KEYS = ("type", "election_id", "contest", "revoked", "replacement", "at",
                   "signature")
LISTS = "contests"  # the credential list's field holding the per-contest lists
KEY_RE = re.compile(r"^[0-9a-f]{64}\Z")  # a public key (credential, board, CA, official)


def _key(value: Any) -> bytes | None:
    """32 raw bytes of a 64-hex public key, else None."""
    return bytes.fromhex(value) if isinstance(value, str) and KEY_RE.match(value) else None


# --- the opening object (record.md §2.0) ----------------------------------------------------------------

@dataclass
class Pins:
    """What the opening object pins, as found (None where a value is missing or malformed;
    check 17 says which)."""

    obj: dict[str, Any]
    hash: str  # the opening hash: SHA-256 of the canonical JSON of the whole signed object
    board_key: bytes | None
    ca_key: bytes | None
    officials: dict[str, bytes] = field(default_factory=dict)  # username → public key


def opening(ctx: Context) -> Pins | None:
    """The opening object of the record, or None if opening.json is absent or not an
    object."""
    if "opening" not in ctx.loaded:
        obj = record_json(ctx, OPENING)
        pins = None
        if isinstance(obj, dict):
            officials: dict[str, bytes] = {}
            if isinstance(obj.get("officials"), list):
                for o in obj["officials"]:
                    if (isinstance(o, dict) and isinstance(o.get("username"), str)
                            and _key(o.get("public_key")) is not None
                            and o["username"] not in officials):
                        officials[o["username"]] = bytes.fromhex(o["public_key"])
            pins = Pins(obj, object_hash(obj), _key(obj.get("board_key")),
                        _key(obj.get("ca_key")), officials)
        ctx.loaded["opening"] = pins
    result: Pins | None = ctx.loaded["opening"]
    return result


def opening_shape(obj: Any) -> None:
    """The exact shape of record.md §2.0; raises InvalidInput naming the field."""
    expect_object(obj, OPENING_KEYS, "opening")
    if obj["type"] != OPENING_TYPE:
        raise InvalidInput(f"opening.type: not {OPENING_TYPE}")
    for k in ("election_id", "election_key", "credentials"):
        if not isinstance(obj[k], str) or not HEX64_RE.match(obj[k]):
            raise InvalidInput(f"opening.{k}: not a SHA-256 hex digest")
    for k in ("board_key", "ca_key"):
        if _key(obj[k]) is None:
            raise InvalidInput(f"opening.{k}: not 64 lowercase hex digits")
    expect_str(obj["at"], "opening.at")
    names = []
    for i, o in enumerate(expect_list(obj["officials"], "opening.officials")):
        expect_object(o, ("username", "public_key"), f"opening.officials[{i}]")
        names.append(expect_str(o["username"], f"opening.officials[{i}].username"))
        if _key(o["public_key"]) is None:
            raise InvalidInput(f"opening.officials[{i}].public_key: not 64 lowercase hex "
                               "digits")
    if names != sorted(set(names)):
        raise InvalidInput("opening.officials: not sorted by username, or a username twice")


# --- the credential list (§6.2) ---------------------------------------------------------------

@dataclass
class CredentialList:
    """credentials.json, streamed: its small fields as found, and per contest (version 4,
    §6.2) its credentials packed.  ``problems``: (message, contest) of what is malformed inside the
    lists (reported by check 18); ``exact``: the lists were well formed, sorted and unique, so
    that their canonical JSON can be rebuilt from the packed credentials."""

    fields: dict[str, Any]  # every key but "contests", with its value
    contests: dict[str, KeySet] | None  # None: "contests" is absent or not an object
    problems: list[tuple[str, str | None]] = field(default_factory=list)
    exact: bool = True

    def size(self, contest: str) -> int | None:
        if self.contests is None or contest not in self.contests:
            return None
        return len(self.contests[contest])


def _read_list(reader: JsonReader, name: str, out: CredentialList) -> KeySet:
    keys = KeySet()
    if reader.peek() != "[":
        reader.value()
        out.problems.append((f"credentials.contests.{name}: not a list", name))
        out.exact = False
        return keys
    last = ""
    for _ in reader.elements():
        value = reader.value()
        raw = _key(value)
        if raw is None:
            if out.exact or not any(p[1] == name for p in out.problems):
                out.problems.append((f"credentials.contests.{name}[]: {value!r:.80} is not "
                                     "64 lowercase hex digits", name))
            out.exact = False
            continue
        if value <= last:
            if out.exact or not any(p[1] == name and "sorted" in p[0] for p in out.problems):
                out.problems.append((f"credentials.contests.{name}: not sorted, or a "
                                     f"credential twice ({value})", name))
            out.exact = False
        last = value
        keys.add(raw)
    keys.freeze()
    return keys


def credential_list(ctx: Context) -> CredentialList | None:
    """credentials.json, or None if it is absent or not an object."""
    if "credentials" not in ctx.loaded:
        result = None
        if ctx.record.has(CREDENTIALS):
            with JsonReader(ctx.record.root / CREDENTIALS, strict=False) as reader:
                if reader.peek() == "{":
                    result = CredentialList({}, None)
                    for key in reader.keys():
                        if key != LISTS:
                            result.fields[key] = reader.value()
                        elif reader.peek() != "{":
                            result.fields[key] = reader.value()
                            result.exact = False
                        else:
                            result.contests = {}
                            for name in reader.keys():
                                result.contests[name] = _read_list(reader, name, result)
        ctx.loaded["credentials"] = result
    out: CredentialList | None = ctx.loaded["credentials"]
    return out


def credentials_body(ctx: Context, lst: CredentialList) -> bytes | bytearray:
    """The canonical JSON of credentials.json without ``signature`` (what the CA signed),
    rebuilt from the packed credentials in bounded memory when the lists are exact, else from
    the file parsed whole."""
    if not lst.exact or lst.contests is None:
        obj = loads_strict((ctx.record.root / CREDENTIALS).read_bytes())
        return canonical_json({k: v for k, v in obj.items() if k != "signature"})
    out = bytearray(b"{")
    keys = sorted([k for k in lst.fields if k != "signature"] + [LISTS])
    for i, key in enumerate(keys):
        if i:
            out += b","
        out += canonical_json(key) + b":"
        if key != LISTS:
            out += canonical_json(lst.fields[key])
            continue
        out += b"{"
        for j, name in enumerate(sorted(lst.contests)):
            if j:
                out += b","
            out += canonical_json(name) + b":["
            for m, raw in enumerate(lst.contests[name]):
                if m:
                    out += b","
                out += b'"' + raw.hex().encode("ascii") + b'"'
            out += b"]"
        out += b"}"
    out += b"}"
    return out  # not copied: ~67 bytes per credential


# --- revocations (§6.3) -----------------------------------------------------------------------

@dataclass(frozen=True)
class Revocation:
    line: int
    obj: dict[str, Any]
    contest: str  # version 4 (§6.3): the contest of the revoked credential and its replacement
    revoked: bytes
    replacement: bytes | None


def revocations(ctx: Context) -> list[Revocation]:
    """The revocations that count (§6.3): of this election, with usable contest, revoked
    and replacement fields, and signed by the pinned CA key — a revocation the CA did not sign
    neither excludes a ballot (check 11) nor lets a replacement vote (check 19); check 18
    reports it.  In file order."""
    if "revocations" not in ctx.loaded:
        pins = opening(ctx)
        ca = pins.ca_key if pins is not None else None
        out = []
        for line in ctx.record.jsonl(REVOCATIONS):
            r = line.value
            if not isinstance(r, dict) or not isinstance(r.get("contest"), str):
                continue
            revoked = _key(r.get("revoked"))
            replacement = _key(r.get("replacement"))
            if revoked is None or (replacement is None and r.get("replacement") is not None):
                continue
            if (ca is None or r.get("election_id") != ctx.election_id
                    or not signature_valid(r, ca)):
                continue
            out.append(Revocation(line.number, r, r["contest"], revoked, replacement))
        ctx.loaded["revocations"] = out
    result: list[Revocation] = ctx.loaded["revocations"]
    return result


def revoked_credentials(ctx: Context) -> set[bytes]:
    """Every credential a revocation revokes (its ballots are excluded as ``revoked``)."""
    return {r.revoked for r in revocations(ctx)}


# --- check 17 ---------------------------------------------------------------------------------

def _pinned_board_key(ctx: Context) -> bytes | None:
    obj = record_json(ctx, BOARD_KEY)
    try:
        return parse_public_key_json(obj, "board_key")
    except InvalidInput:
        return None


def check_17_pins_opening(ctx: Context) -> CheckResult:
    res = CheckResult(17, "pins.opening")
    item = {"file": OPENING}
    pins = opening(ctx)
    if pins is None:
        res.fail("dependency", input=OPENING)
        return res
    obj = pins.obj
    try:
        opening_shape(obj)
    except InvalidInput as exc:
        res.fail("pins.shape", item, error=str(exc))
    given = ctx.options.ca_key
    if given is None:
        res.fail("pins.no_ca_key", item)
    else:
        if pins.ca_key != given:
            res.fail("pins.ca_key", item, given=given.hex(), found=str(obj.get("ca_key")))
        if not signature_valid(obj, given):
            res.fail("pins.signature", item, key=given.hex())
    if ctx.election_id is not None and obj.get("election_id") != ctx.election_id:
        res.fail("pins.election_id", item)
    pinned = {"election_key": (ELECTION_KEY, ctx.record.sha256(ELECTION_KEY)
                               if ctx.record.has(ELECTION_KEY) else None),
              "credentials": (CREDENTIALS, ctx.record.sha256(CREDENTIALS)
                              if ctx.record.has(CREDENTIALS) else None)}
    board_key = _pinned_board_key(ctx)
    for name, (rel, digest) in pinned.items():
        if obj.get(name) != digest:
            res.fail("pins.file", {"file": rel}, pin=name)
    if board_key is None or obj.get("board_key") != board_key.hex():
        res.fail("pins.board_key", {"file": BOARD_KEY})
    for line in ctx.record.lines.get(CHECKPOINTS, []):
        cp = line.value
        if isinstance(cp, dict) and cp.get("opening") != pins.hash:
            res.fail("pins.opening_hash", {"file": CHECKPOINTS, "line": line.number})
    paper = record_json(ctx, OVERRIDES)
    if isinstance(paper, dict) and paper.get("opening") != pins.hash:
        res.fail("pins.opening_hash", {"file": OVERRIDES})
    res.note("pins.hash", hash=pins.hash, officials=len(pins.officials))
    return res
