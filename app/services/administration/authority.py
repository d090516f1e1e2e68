"""The credential authority's work, as the voting server takes it in (docs/record.md §2.0, §6).

The CA (``python -m ca``, an independent body) issues the voters' credentials offline and gives
the server:

* ``mapping-<electorate>.json`` — voter key → public credential and voter key → contest
  (:func:`import_mapping`): the server keeps, per roll entry, its public credential and the
  CA's route (``voter_credential``), refusing a route that differs from its own roll import's;
* ``credentials.json`` — the CA-signed public list (:func:`import_list`), kept byte for byte (the
  opening pins its SHA-256); it must list exactly the imported mappings' credentials;
* revocations (:func:`import_revocations`), also while polls are open: the revoked credential
  can no longer cast, its replacement (if any) becomes the voter's live credential;
* the opening object (:func:`pin`), which pins the election key, the server's board key, the
  credential list and the officials' keys; polls open only with a valid one
  (:func:`opening_problems`).

Everything the CA signed is checked with the CA key the server was *configured* with
(``SSBVOTE_CA_KEY``, :mod:`app.services.platform.ca_key`), never with a key from the database or
from the files themselves.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from sqlalchemy import bindparam, func, insert, select

from app.extensions import db
from app.models import CredentialList, CredentialRevocation, Election, Official, RollEntry, VoterCredential
from app.services.administration import audit
from app.services.errors import Conflict, InputFileError, NotReady
from app.services.platform import ca_key, signing
from crypto.encoding import canonical_json, parse_json
from crypto.errors import InvalidInput
from election import authority
from election.lifecycle import Status
from election.signed import verify
from election.voters import parse_credential_list, pins_problems

#: Roll entries looked up (and credentials written) per database round trip.
CHUNK = 2000


# --- reading what the CA gave ----------------------------------------------------------------


def _json(data: bytes, what: str) -> Any:
    try:
        return parse_json(data, what)
    except InvalidInput as exc:
        raise InputFileError(what, [str(exc)]) from None


def election_key_hash(election: Election) -> str:
    """SHA-256 hex of the stored canonical election key JSON: ``election_key.json`` of the
    export, the opening's ``election_key`` pin (record.md §2.0)."""
    if not election.election_key:
        raise NotReady("this election has no key yet (run the key ceremony first)")
    return hashlib.sha256(election.election_key.encode()).hexdigest()


def board_key() -> str:
    """The server's board key (64 hex), the opening's ``board_key`` pin."""
    return signing.public_key_dict()["public_key"]


def officials_keys() -> list[dict[str, str]]:
    """``[{"username", "public_key"}]`` of the active officials with an official credential,
    sorted by username: officials.json for the CA's ``pin`` (record.md §2.0)."""
    rows = db.session.scalars(select(Official).where(Official.active.is_(True),
                                                     Official.public_key.is_not(None))
                              .order_by(Official.username))
    return [{"username": o.username, "public_key": o.public_key or ""} for o in rows]


def officials_without_key() -> list[str]:
    """Active officials who have no official credential (made before version 2)."""
    return list(db.session.scalars(select(Official.username).where(
        Official.active.is_(True), Official.public_key.is_(None)).order_by(Official.username)))


# --- credentials ------------------------------------------------------------------------------


@dataclass
class MappingImport:
    electorate: str
    added: int = 0
    unchanged: int = 0
    #: Roll entries of the electorate that still have no credential (they cannot vote).
    without_credential: int = 0


def _electorates(election: Election) -> set[str]:
    return {c.electorate for c in election.contests}


def _contest_codes(election: Election) -> set[str]:
    return {c.code for c in election.contests}


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def stored_list(election: Election) -> CredentialList | None:
    return db.session.get(CredentialList, election.id)


def import_mapping(election: Election, data: bytes, actor: str = "cli",
                   source: str = "mapping") -> MappingImport:
    """Import the CA's ``mapping-<electorate>.json`` (record.md §6.1 (b)): one public credential
    per roll entry.  Every voter key must be on this election's roll of that electorate; all or
    nothing.  Idempotent: a voter who already has this credential (or had it, before a
    revocation replaced it) is left alone; a voter with another credential is refused, as is a
    credential given to two voters.  Once the credential list is imported, a new credential
    comes only with a revocation."""
    obj = _json(data, source)
    problems = authority.check_mapping(obj)
    if problems:
        raise InputFileError(source, problems)
    if obj["election_id"] != election.election_id:
        raise InputFileError(source, [f"election_id {obj['election_id']} is not this election's "
                                      f"({election.election_id})"])
    electorate: str = obj["electorate"]
    if electorate not in _electorates(election):
        raise InputFileError(source, [f"this election has no {electorate} contest"])
    if election.status not in (Status.DRAFT.value, Status.OPEN.value):
        raise Conflict("credentials can be imported only before polls close")
    mapping: dict[str, str] = obj["credentials"]
    routes: dict[str, str] = obj["contests"]
    codes = {c.id: c.code for c in election.contests}
    listed = stored_list(election)
    result = MappingImport(electorate)
    problems = []
    rows: list[dict[str, Any]] = []
    for keys in _chunks(sorted(mapping)):
        entries = {e.voter_key: e for e in db.session.scalars(select(RollEntry).where(
            RollEntry.election_pk == election.id, RollEntry.electorate == electorate,
            RollEntry.voter_key.in_(keys)))}
        wanted = [mapping[k] for k in keys]
        known = {c.credential: c for c in db.session.scalars(select(VoterCredential).where(
            VoterCredential.election_pk == election.id, VoterCredential.credential.in_(wanted)))}
        held: dict[int, list[VoterCredential]] = {}
        for c in db.session.scalars(select(VoterCredential).where(
                VoterCredential.roll_entry_pk.in_([e.id for e in entries.values()]))):
            held.setdefault(c.roll_entry_pk, []).append(c)
        for key in keys:
            credential = mapping[key]
            entry = entries.get(key)
            if entry is None:
                problems.append(f"voter {key} is not on this election's {electorate} roll")
                continue
            # record.md §6.1 (b): the CA's route must be the server's own (manifest.md §4.2)
            own = codes.get(entry.contest_pk) if entry.contest_pk is not None else None
            if routes[key] != own:
                problems.append(f"voter {key}: the CA routes the voter to contest {routes[key]}, "
                                f"the roll import to {own or 'no contest'}")
                continue
            same = known.get(credential)
            if same is not None:
                if same.roll_entry_pk != entry.id:
                    problems.append(f"voter {key}: credential {credential} is another voter's")
                else:
                    result.unchanged += 1
                continue
            if held.get(entry.id):
                problems.append(f"voter {key} already has another credential (a new one comes "
                                "only with a revocation: 'ssbvote credentials revoke')")
                continue
            if listed is not None:
                problems.append(f"voter {key}: credential {credential} is not in the imported "
                                "credential list")
                continue
            rows.append({"election_pk": election.id, "roll_entry_pk": entry.id,
                         "credential": credential, "revoked": False, "contest": routes[key]})
    if problems:
        db.session.rollback()
        raise InputFileError(source, problems)
    for chunk in _chunks(rows):
        db.session.execute(insert(VoterCredential), [
            {**row, "created_at": _now()} for row in chunk])
    result.added = len(rows)
    on_roll = db.session.scalar(select(func.count()).select_from(RollEntry).where(
        RollEntry.election_pk == election.id, RollEntry.electorate == electorate)) or 0
    with_credential = db.session.scalar(
        select(func.count(func.distinct(VoterCredential.roll_entry_pk))).join(
            RollEntry, RollEntry.id == VoterCredential.roll_entry_pk).where(
            VoterCredential.election_pk == election.id, RollEntry.electorate == electorate)) or 0
    result.without_credential = on_roll - with_credential
    audit.record(actor, "credentials.import_mapping", election.slug,
                 {"electorate": electorate, "added": result.added, "unchanged": result.unchanged})
    db.session.commit()
    return result


def _now() -> Any:
    from app.models.base import utcnow

    return utcnow()


@dataclass
class ListImport:
    sha256: str
    contests: dict[str, int] = field(default_factory=dict)  # contest id → credentials
    unchanged: bool = False


def import_list(election: Election, data: bytes, actor: str = "cli",
                source: str = "credentials.json") -> ListImport:
    """Store the CA-signed credential list (record.md §6.2) byte for byte, after checking it:
    the canonical JSON the CA signed, this election, signed with the configured CA key, and
    listing, per electorate, exactly the credentials of the imported mappings."""
    digest = hashlib.sha256(data).hexdigest()
    existing = stored_list(election)
    if existing is not None and existing.sha256 == digest:
        return ListImport(digest, _list_counts(election), unchanged=True)
    if existing is not None and election.opening:
        raise Conflict("the opening pins the credential list imported before: it cannot change now")
    if election.status != Status.DRAFT.value:
        raise Conflict("the credential list can be imported only before polls open")
    codes = _contest_codes(election)
    try:
        listed = parse_credential_list(bytearray(data), election.election_id, ca_key.required(), codes)
    except ValueError as exc:
        raise InputFileError(source, [str(exc)]) from None
    problems: list[str] = []
    for name, keys in sorted(listed.contests.items()):  # record.md §6.2: per contest
        count = 0
        missing = 0
        for credential in db.session.scalars(
                select(VoterCredential.credential)
                .where(VoterCredential.election_pk == election.id, VoterCredential.contest == name,
                       VoterCredential.replaces.is_(None)).execution_options(yield_per=CHUNK)):
            count += 1
            if bytes.fromhex(credential) not in keys:
                missing += 1
                if missing <= 10:
                    problems.append(f"{name}: the imported credential {credential} is not in the list")
        if missing > 10:
            problems.append(f"{name}: … {missing - 10} more imported credentials are not in the list")
        if count - missing != len(keys):
            problems.append(f"{name}: the list has {len(keys)} credentials, the imported mappings "
                            f"{count - missing} of them: import the mapping files first")
    for name in sorted(codes - set(listed.contests)):
        count = _credential_count(election, name)
        if count:
            problems.append(f"{name}: {count} credentials are imported but the list has none")
    if problems:
        raise InputFileError(source, problems)
    if existing is None:
        existing = CredentialList(election_pk=election.id)
        db.session.add(existing)
    existing.body = data.decode("ascii")
    existing.sha256 = digest
    existing.imported_at = _now()
    audit.record(actor, "credentials.import_list", election.slug, {"sha256": digest})
    db.session.commit()
    return ListImport(digest, {name: len(keys) for name, keys in listed.contests.items()})


def _credential_count(election: Election, contest: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(VoterCredential).where(
            VoterCredential.election_pk == election.id, VoterCredential.contest == contest,
            VoterCredential.replaces.is_(None))) or 0


def _list_counts(election: Election) -> dict[str, int]:
    return {name: _credential_count(election, name) for name in sorted(_contest_codes(election))}


def credential_list_bytes(election: Election) -> bytes:
    row = stored_list(election)
    if row is None:
        raise NotReady("no credential list has been imported ('ssbvote credentials list')")
    return row.body.encode("ascii")


@dataclass
class RevocationImport:
    revoked: list[str] = field(default_factory=list)
    replacements: list[str] = field(default_factory=list)
    unchanged: int = 0


def _revocation_objects(data: bytes, source: str) -> list[dict[str, Any]]:
    """One revocation (a JSON object) or the CA's ``revocations.jsonl`` (one per line)."""
    text = data.strip()
    if not text:
        raise InputFileError(source, ["the file is empty"])
    try:
        return [parse_json(text, source)]
    except InvalidInput:
        pass
    return [_json(line, f"{source} line {number}")
            for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def import_revocations(election: Election, data: bytes, mapping: bytes | None = None,
                       actor: str = "cli", source: str = "revocation") -> RevocationImport:
    """Import CA-signed revocations (record.md §6.3): one JSON object, or the CA's
    ``revocations.jsonl``, whose already imported lines are skipped.  Each must be of this
    election, signed with the configured CA key, revoke a live credential of its electorate and
    name a new replacement (or none).  The revoked credential can no longer cast; the replacement
    becomes the voter's live credential.  ``mapping``: the CA's updated ``mapping-<electorate>.json``,
    checked to map the voter to the replacement.  Allowed while polls are open."""
    if election.status not in (Status.DRAFT.value, Status.OPEN.value):
        raise Conflict("revocations can be imported only before polls close")
    if stored_list(election) is None:
        raise NotReady("import the credential list first ('ssbvote credentials list')")
    ca = ca_key.required()
    updated: dict[str, str] | None = None
    if mapping is not None:
        mobj = _json(mapping, "mapping")
        problems = authority.check_mapping(mobj)
        if problems:
            raise InputFileError("mapping", problems)
        if mobj["election_id"] != election.election_id:
            raise InputFileError("mapping", ["of another election"])
        updated = {f"{mobj['electorate']}:{k}": v for k, v in mobj["credentials"].items()}
    from app.services.voting import board  # the board head lock orders revocations and casts

    board.lock_head(election)
    result = RevocationImport()
    for index, obj in enumerate(_revocation_objects(data, source), 1):
        what = f"{source} {index}"
        problems = authority.check_revocation(obj)
        if problems:
            raise InputFileError(what, problems)
        if obj["election_id"] != election.election_id:
            raise InputFileError(what, [f"of election {obj['election_id']}, not this one"])
        if not verify(obj, ca):
            raise InputFileError(what, ["not signed by the configured CA key (SSBVOTE_CA_KEY)"])
        body = canonical_json(obj).decode()
        earlier = db.session.scalar(select(CredentialRevocation).where(
            CredentialRevocation.election_pk == election.id, CredentialRevocation.revoked == obj["revoked"]))
        if earlier is not None:
            if earlier.body != body:
                raise InputFileError(what, [f"{obj['revoked']} was revoked already by another revocation"])
            result.unchanged += 1
            continue
        old = db.session.scalar(select(VoterCredential).where(
            VoterCredential.election_pk == election.id, VoterCredential.credential == obj["revoked"]))
        if old is None or old.revoked or old.contest != obj["contest"]:
            raise InputFileError(what, [f"{obj['revoked']} is not a live credential of contest "
                                        f"{obj['contest']}"])
        replacement = obj["replacement"]
        if replacement is not None:
            if db.session.scalar(select(VoterCredential.id).where(
                    VoterCredential.election_pk == election.id,
                    VoterCredential.credential == replacement)) is not None:
                raise InputFileError(what, [f"the replacement {replacement} is not a new credential"])
            if updated is not None and updated.get(f"{old.roll_entry.electorate}:{old.roll_entry.voter_key}") != replacement:
                raise InputFileError(what, ["the updated mapping does not map this voter to the replacement"])
        old.revoked = True
        old.replacement = replacement
        if replacement is not None:
            db.session.add(VoterCredential(election_pk=election.id, roll_entry_pk=old.roll_entry_pk,
                                           credential=replacement, revoked=False, replaces=old.credential,
                                           contest=old.contest))
            result.replacements.append(replacement)
        db.session.add(CredentialRevocation(election_pk=election.id, revoked=obj["revoked"], body=body))
        db.session.flush()
        result.revoked.append(obj["revoked"])
    audit.record(actor, "credentials.revoke", election.slug,
                 {"revoked": result.revoked, "replacements": result.replacements})
    db.session.commit()
    return result


def revocations(election: Election) -> list[dict[str, Any]]:
    """The imported revocations in the order imported (the export's revocations.jsonl)."""
    return [json.loads(body) for body in db.session.scalars(
        select(CredentialRevocation.body).where(CredentialRevocation.election_pk == election.id)
        .order_by(CredentialRevocation.id))]


def live_credential(election: Election, roll_entry_pk: int) -> str | None:
    """The roll entry's live (not revoked) public credential, or None."""
    return db.session.scalar(select(VoterCredential.credential).where(
        VoterCredential.election_pk == election.id, VoterCredential.roll_entry_pk == roll_entry_pk,
        VoterCredential.revoked.is_(False)).limit(1))


def credential_standing(election: Election, roll_entry_pk: int, credential: str) -> tuple[bool, str | None]:
    """In one read: whether ``credential`` is the roll entry's live (not revoked) credential, and
    the contest the CA routed the credential's voter to (record.md §6.1–§6.3; None if no such
    credential).  A credential is unique within an election."""
    row = db.session.execute(select(VoterCredential.roll_entry_pk, VoterCredential.revoked, VoterCredential.contest)
                             .where(VoterCredential.election_pk == election.id,
                                    VoterCredential.credential == credential)).first()
    if row is None:
        return False, None
    return row.roll_entry_pk == roll_entry_pk and not row.revoked, row.contest


#: (roll entry, credential) of the live credentials of a batch's roll entries, built once
#: (parameters ``pk``, ``roll_entry_pks``): the board append runs it with its other reads under
#: the head lock (app/services/voting/board.py ``_STATE``).
LIVE_CREDENTIALS = select(VoterCredential.roll_entry_pk, VoterCredential.credential).where(
    VoterCredential.election_pk == bindparam("pk"),
    VoterCredential.roll_entry_pk.in_(bindparam("roll_entry_pks", expanding=True)),
    VoterCredential.revoked.is_(False))


def is_revoked(election: Election, credential: str) -> bool:
    """The public credential was revoked by the CA (docs/record.md §6.3)."""
    return db.session.scalar(select(VoterCredential.id).where(
        VoterCredential.election_pk == election.id, VoterCredential.credential == credential,
        VoterCredential.revoked.is_(True))) is not None


# --- the opening ------------------------------------------------------------------------------


def opening(election: Election) -> dict[str, Any] | None:
    """The stored CA-signed opening object, or None."""
    return json.loads(election.opening) if election.opening else None


def opening_hash(election: Election) -> str:
    """The opening hash (record.md §2.0); :class:`NotReady` without an opening."""
    return required_opening_hash(election.opening_hash)


def required_opening_hash(value: str | None) -> str:
    """A stored opening hash (:func:`opening_hash`); :class:`NotReady` if there is none."""
    if not value:
        raise NotReady("this election has no opening object signed by the credential authority "
                       "('ssbvote election pin')")
    return value


def _pin_problems(election: Election, obj: Mapping[str, Any], *, officials_exact: bool) -> list[str]:
    """What is wrong with the opening ``obj`` for this election now (empty: valid)."""
    problems = authority.check_opening(obj)
    if problems:
        return problems
    if obj["election_id"] != election.election_id:
        return [f"it is the opening of election {obj['election_id']}, not of this one"]
    ca = ca_key.required()
    if obj["ca_key"] != ca:
        problems.append("its ca_key is not the configured CA key (SSBVOTE_CA_KEY)")
    if not verify(obj, ca):
        problems.append("it is not signed by the configured CA key (SSBVOTE_CA_KEY)")
    if not election.election_key:
        problems.append("this election has no key yet (run the key ceremony first)")
    listed = stored_list(election)
    if listed is None:
        problems.append("no credential list has been imported ('ssbvote credentials list')")
    if problems:
        return problems
    assert listed is not None
    problems += [f"its {p}" for p in pins_problems(
        obj, election_key_sha256=election_key_hash(election), board_key=board_key(),
        credentials_sha256=listed.sha256)]
    pinned = [{"username": o["username"], "public_key": o["public_key"]} for o in obj["officials"]]
    registered = officials_keys()
    if officials_exact:
        if pinned != registered:
            problems.append("its officials are not the registered officials' keys "
                            "('ssbvote official keys' gives officials.json for the CA)")
    else:
        keys = {o["username"]: o["public_key"] for o in registered}
        changed = [o["username"] for o in pinned if keys.get(o["username"]) != o["public_key"]]
        if changed:
            problems.append("the keys of officials " + ", ".join(changed) + " are no longer the pinned ones")
    return problems


def pin(election: Election, data: bytes, actor: str = "cli", source: str = "opening.json") -> str:
    """Store the CA-signed opening object (record.md §2.0) after checking it: this election, the
    configured CA key's signature, and pins equal to this election's key hash, the server's
    board key, the imported credential list's hash and the registered officials' keys.  Before
    polls open only; returns the opening hash."""
    if election.status != Status.DRAFT.value:
        raise Conflict("the opening can be pinned only before polls open")
    obj = _json(data, source)
    problems = _pin_problems(election, obj, officials_exact=True)
    if problems:
        raise InputFileError(source, problems)
    text = canonical_json(obj).decode()
    election.opening = text
    election.opening_hash = authority.object_hash(obj)
    audit.record(actor, "election.pin", election.slug, {"opening_hash": election.opening_hash})
    db.session.commit()
    return election.opening_hash


def opening_problems(election: Election) -> list[str]:
    """Why polls cannot open under the stored opening (empty: it is valid): missing, not signed
    by the configured CA key, or its pins differ from the election key, board key, credential
    list or the officials' keys."""
    obj = opening(election)
    if obj is None:
        return ["no opening object signed by the credential authority has been stored "
                "('ssbvote election pin')"]
    return _pin_problems(election, obj, officials_exact=False)


def require_valid_opening(election: Election) -> None:
    problems = opening_problems(election)
    if problems:
        raise NotReady("polls cannot open without a valid opening object signed by the credential "
                       "authority: " + "; ".join(problems))


def pinned_officials(election: Election) -> dict[str, str]:
    """username → pinned public key (64 hex), from the stored opening."""
    obj = opening(election)
    if obj is None:
        raise NotReady("this election has no opening object")
    return {o["username"]: o["public_key"] for o in obj["officials"]}


def check_export_inputs(election: Election) -> None:
    """The export needs the opening and the credential list (record.md §3)."""
    if not election.opening:
        raise NotReady("this election has no opening object: nothing to export")
    if stored_list(election) is None:
        raise NotReady("no credential list has been imported")
