"""The credential authority's objects (docs/record.md §2.0, §6): constructors and shape checks.

The CA tool (``python -m ca``) builds and signs them; the voting server imports the mapping,
the credential list and the revocations and checks the opening against its own pins.  The
constructors return *unsigned* objects; sign them with :func:`election.signed.sign` and the CA
key.  The ``check_*`` functions list every shape problem (empty list: well formed); signatures
are checked with :func:`election.signed.verify`.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable, Mapping, Optional, Sequence

from crypto.encoding import canonical_json

OPENING_TYPE = "ssbvote-opening"  # record.md §2.0
MAPPING_TYPE = "ssbvote-credential-mapping"  # record.md §6.1 (b)
CREDENTIALS_TYPE = "ssbvote-credentials"  # record.md §6.2
REVOCATION_TYPE = "ssbvote-revocation"  # record.md §6.3
ELECTORATES = ("insured", "employer")

_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_CONTEST = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")  # a contest id (manifest.md §1)
_SIGNATURE = re.compile(r"\A[0-9a-f]{128}\Z")
_USERNAME = re.compile(r"\A[^\s]{1,64}\Z")
_WITNESS_NAME = re.compile(r"\A[a-z0-9][a-z0-9-]{0,31}\Z")  # record.md §2.0: witnesses/<name>.json


def is_hex64(value: Any) -> bool:
    """32 bytes as 64 lowercase hex digits: a public key, a public credential, a SHA-256."""
    return isinstance(value, str) and bool(_HEX64.match(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def object_hash(obj: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the whole (signed) object: the opening hash
    (record.md §2.0) and the ``credentials`` pin of the credential list."""
    return sha256_hex(canonical_json(obj))


# --- constructors (unsigned) -----------------------------------------------------------------


def is_contest_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_CONTEST.match(value))


def mapping(election_id: str, electorate: str, credentials: Mapping[str, str],
            contests: Mapping[str, str]) -> dict[str, Any]:
    """voter key → public credential of one electorate, and voter key → the voter's route
    (contest id, docs/manifest.md §4.2) (record.md §6.1 (b), version 4; not signed)."""
    return {"type": MAPPING_TYPE, "election_id": election_id, "electorate": electorate,
            "credentials": dict(sorted(credentials.items())),
            "contests": dict(sorted(contests.items()))}


def credential_list(election_id: str, at: str,
                    contests: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """The public credential list (record.md §6.2, version 4), keyed by contest id, each
    contest's list sorted."""
    return {"type": CREDENTIALS_TYPE, "election_id": election_id, "at": at,
            "contests": {c: sorted(creds) for c, creds in sorted(contests.items())}}


def revocation(election_id: str, contest: str, revoked: str, replacement: Optional[str],
               at: str) -> dict[str, Any]:
    """A revocation in ``contest`` (the voter's route), with the replacement credential or None
    (record.md §6.3, version 4)."""
    return {"type": REVOCATION_TYPE, "election_id": election_id, "contest": contest,
            "revoked": revoked, "replacement": replacement, "at": at}


def opening(election_id: str, election_key: str, board_key: str, ca_key: str, credentials: str,
            officials: Sequence[Mapping[str, str]], at: str,
            witnesses: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The opening object (record.md §2.0): ``election_key`` and ``credentials`` are the SHA-256
    hex of election_key.json and credentials.json; officials sorted by username, witnesses
    (§3.5) by name."""
    return {"type": OPENING_TYPE, "election_id": election_id, "election_key": election_key,
            "board_key": board_key, "ca_key": ca_key, "credentials": credentials,
            "officials": sorted(({"username": o["username"], "public_key": o["public_key"]}
                                 for o in officials), key=lambda o: o["username"]),
            "witnesses": sorted(({"name": w["name"], "public_key": w["public_key"]}
                                 for w in witnesses), key=lambda w: w["name"]),
            "at": at}


# --- shape checks ----------------------------------------------------------------------------


def _fields(obj: Any, what: str, fields: set[str], problems: list[str]) -> bool:
    if not isinstance(obj, dict):
        problems.append(f"{what}: not a JSON object")
        return False
    for name in sorted(set(obj) - fields):
        problems.append(f"{what}: unknown field {name!r}")
    for name in sorted(fields - set(obj)):
        problems.append(f"{what}: missing field {name!r}")
    return fields <= set(obj)


def _common(obj: Mapping[str, Any], what: str, type_: str, problems: list[str],
            signed: bool = True) -> None:
    if obj["type"] != type_:
        problems.append(f"{what}: type is {obj['type']!r}, not {type_!r}")
    if not is_hex64(obj["election_id"]):
        problems.append(f"{what}: election_id is not 64 lowercase hex digits")
    if "at" in obj and not isinstance(obj["at"], str):
        problems.append(f"{what}: at is not a timestamp")
    if signed and not (isinstance(obj["signature"], str) and _SIGNATURE.match(obj["signature"])):
        problems.append(f"{what}: signature is not 64 bytes of lowercase hex")


def check_mapping(obj: Any) -> list[str]:
    problems: list[str] = []
    if _fields(obj, "mapping", {"type", "election_id", "electorate", "credentials", "contests"},
               problems):
        _common(obj, "mapping", MAPPING_TYPE, problems, signed=False)
        if obj["electorate"] not in ELECTORATES:
            problems.append(f"mapping: unknown electorate {obj['electorate']!r}")
        creds = obj["credentials"]
        if not isinstance(creds, dict) or not creds:
            problems.append("mapping: credentials is not a non-empty object")
        else:
            bad = [k for k, v in creds.items() if not is_hex64(v)]
            problems += [f"mapping: credential of {k} is not 64 lowercase hex digits" for k in bad[:10]]
            if len(set(creds.values())) != len(creds):
                problems.append("mapping: a public credential is given to two voters")
        routes = obj["contests"]
        if not isinstance(routes, dict):
            problems.append("mapping: contests is not an object (voter key → contest id)")
        elif isinstance(creds, dict) and set(routes) != set(creds):
            problems.append("mapping: contests does not name the contest of exactly the voters "
                            "of credentials")
        else:
            bad = [k for k, v in routes.items() if not is_contest_id(v)]
            problems += [f"mapping: contest of {k} is not a contest id" for k in bad[:10]]
    return problems


def check_credential_list(obj: Any) -> list[str]:
    problems: list[str] = []
    if _fields(obj, "credentials", {"type", "election_id", "at", "contests", "signature"}, problems):
        _common(obj, "credentials", CREDENTIALS_TYPE, problems)
        contests = obj["contests"]
        if not isinstance(contests, dict) or not contests:
            problems.append("credentials: contests is not a non-empty object")
            return problems
        seen: set[str] = set()
        for name, creds in contests.items():
            if not is_contest_id(name):
                problems.append(f"credentials: {name!r} is not a contest id")
            if not isinstance(creds, list) or not all(is_hex64(c) for c in creds):
                problems.append(f"credentials: {name} is not a list of 64 lowercase hex digits")
                continue
            if creds != sorted(creds):
                problems.append(f"credentials: {name} is not sorted")
            if seen & set(creds) or len(set(creds)) != len(creds):
                problems.append(f"credentials: {name} repeats a public credential")
            seen |= set(creds)
    return problems


def check_revocation(obj: Any) -> list[str]:
    problems: list[str] = []
    if _fields(obj, "revocation", {"type", "election_id", "contest", "revoked", "replacement",
                                   "at", "signature"}, problems):
        _common(obj, "revocation", REVOCATION_TYPE, problems)
        if not is_contest_id(obj["contest"]):
            problems.append(f"revocation: {obj['contest']!r} is not a contest id")
        if not is_hex64(obj["revoked"]):
            problems.append("revocation: revoked is not 64 lowercase hex digits")
        if obj["replacement"] is not None and not is_hex64(obj["replacement"]):
            problems.append("revocation: replacement is neither null nor 64 lowercase hex digits")
        if obj["replacement"] == obj["revoked"]:
            problems.append("revocation: the replacement is the revoked credential")
    return problems


def check_officials(officials: Any) -> list[str]:
    """``[{"username", "public_key"}]``, usernames unique (record.md §2.0)."""
    if not isinstance(officials, list) or not officials:
        return ["officials: not a non-empty list"]
    problems: list[str] = []
    names: set[str] = set()
    for i, o in enumerate(officials):
        if not isinstance(o, dict) or set(o) != {"username", "public_key"}:
            problems.append(f"officials[{i}]: must be exactly {{\"username\", \"public_key\"}}")
            continue
        if not isinstance(o["username"], str) or not _USERNAME.match(o["username"]):
            problems.append(f"officials[{i}].username: not a user name")
        elif o["username"] in names:
            problems.append(f"officials[{i}].username: {o['username']!r} appears twice")
        else:
            names.add(o["username"])
        if not is_hex64(o["public_key"]):
            problems.append(f"officials[{i}].public_key: not 64 lowercase hex digits")
    return problems


def check_witnesses(witnesses: Any) -> list[str]:
    """``[{"name", "public_key"}]`` sorted by name, names unique and file-safe, keys distinct
    (record.md §2.0; the empty list when the election has no witness)."""
    if not isinstance(witnesses, list):
        return ["witnesses: not a list"]
    problems: list[str] = []
    names: list[str] = []
    for i, w in enumerate(witnesses):
        if not isinstance(w, dict) or set(w) != {"name", "public_key"}:
            problems.append(f"witnesses[{i}]: must be exactly {{\"name\", \"public_key\"}}")
            continue
        if not isinstance(w["name"], str) or not _WITNESS_NAME.match(w["name"]):
            problems.append(f"witnesses[{i}].name: not of the form [a-z0-9][a-z0-9-]{{0,31}}")
        else:
            names.append(w["name"])
        if not is_hex64(w["public_key"]):
            problems.append(f"witnesses[{i}].public_key: not 64 lowercase hex digits")
    if not problems and names != sorted(set(names)):
        problems.append("witnesses: not sorted by name, or a name twice")
    keys = [w["public_key"] for w in witnesses if isinstance(w, dict) and "public_key" in w]
    if not problems and len(set(keys)) != len(keys):
        problems.append("witnesses: two witnesses share a key")
    return problems


def check_opening(obj: Any) -> list[str]:
    problems: list[str] = []
    if _fields(obj, "opening", {"type", "election_id", "election_key", "board_key", "ca_key",
                                "credentials", "officials", "witnesses", "at", "signature"},
               problems):
        _common(obj, "opening", OPENING_TYPE, problems)
        for name in ("election_key", "board_key", "ca_key", "credentials"):
            if not is_hex64(obj[name]):
                problems.append(f"opening: {name} is not 64 lowercase hex digits")
        problems += check_officials(obj["officials"])
        problems += check_witnesses(obj["witnesses"])
        if isinstance(obj["officials"], list) and not problems:
            names = [o["username"] for o in obj["officials"]]
            if names != sorted(names):
                problems.append("opening: officials are not sorted by username")
    return problems
