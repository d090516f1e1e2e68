"""Casting or auditing a ballot: check the voter, the polls and the voter's credential
signature, verify the proofs, append to the board (record format version 3: docs/protocol.md
§13.3–§13.4, §14).

docs/protocol.md §5.4 (verification), §14.3 (audit), docs/record.md §2 (board, receipts). A cast
and an audit go through the same checks (:func:`_checked`) and the same verifier pool; an audit
is signed over the audit statement instead and must open with its seed (§5.6).  The expensive
proof verification runs before the board is locked, so concurrent casts only queue for the
append.  The server never receives the seed of a cast ballot (protocol.md §4.4).
"""
from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator, Optional

from sqlalchemy import select

from app.extensions import db
from app.models import BoardEntry, Election, RollEntry
from app.services.administration import authority, election_keys
from app.services.platform import ca_key
from app.services.voting import board, group_commit, verification
from app.services.administration.manifest import get_election
from app.services.errors import (
    AuditedBallot,
    BadSeed,
    BallotNotFound,
    BoardClosed,
    BallotRejected,
    BallotReplayed,
    BadSignature,
    CastRejected,
    ElectionNotReady,
    MalformedCast,
    PollsClosed,
    StalePrevious,
    VerifierUnavailable,
    WrongContest,
    WrongCredential,
    WrongElection,
)
from crypto import ContestStatement, EncryptedContest, PublicKey, open_ballot
from crypto.ballot import ballot_from_canonical_values, canonical_ballot_values, parse_canonical_ballot
from crypto.credential import ballot_party, verify_audit_signature, verify_ballot_signature
from crypto.encoding import canonical_json, strict_loads
from crypto.errors import InvalidInput
from crypto.proof_process import ProofProcessLost
from election import lifecycle
from election.board import KIND_AUDIT
from election.manifest import PollWindow
from election.receipt import audit_code


_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"\A[0-9a-f]{128}\Z")


__all__ = ["AuditResult", "CanonicalBallot", "CastRejected", "CastResult", "audit", "ballot_context", "ballot_of",
           "canonical_payload", "cast", "polls_open", "receipt_for", "voter_election"]


@dataclass(frozen=True)
class CastResult:
    entry: BoardEntry
    receipt: dict[str, Any]
    superseded: bool


@dataclass(frozen=True)
class AuditResult:
    """An accepted audit: its entry and its audit code (docs/protocol.md §14.4)."""

    entry: BoardEntry
    code: str


def polls_open(election: Election, now: datetime) -> bool:
    """Ballots are accepted now (:func:`election.lifecycle.polls_open`)."""
    return lifecycle.polls_open(election.status, PollWindow(election.opens_at, board.effective_close(election)), now)


def voter_election(slug: str, voters_election: Election) -> Election:
    """The election named ``slug``, which must be the one whose roll the voter is on."""
    election = get_election(slug)
    if election.id != voters_election.id:
        raise WrongElection("you are not on the roll of this election")
    return election


def ballot_context(election: Election, voter: RollEntry, now: datetime) -> dict[str, Any]:
    """Everything the voter's browser needs to encrypt and sign: key, contest, pseudonym (§5.1),
    the CA-signed opening with its hash and the configured CA key (to check the pins before
    encrypting, docs/record.md §2.0), the voter's registered public credential and its current
    ballot hash (``previous``, docs/protocol.md §13.3)."""
    contest = voter.contest  # the roll entry's route (docs/manifest.md §4.2, §4.4)
    if contest is None or contest.election_pk != election.id or not election.election_key:
        raise ElectionNotReady("this election is not ready for voting")
    credential = authority.live_credential(election, voter.id)
    return {
        "election": election.slug,
        "election_id": election.election_id,
        "election_key": json.loads(election.election_key),
        "pseudonym": voter.pseudonym,
        "polls_open": polls_open(election, now),
        "opening": authority.opening(election),
        "opening_hash": election.opening_hash,
        "ca_key": ca_key.configured(),
        "credential": credential,
        "previous": board.current_ballot_hash(election, credential) if credential else "",
        "contest": {
            "id": contest.code,
            "max_selections": contest.max_selections,
            "seats": contest.seats,
            "title": {"th": contest.title_th, "en": contest.title_en},
            "teams": [{"id": t.code, "name": {"th": t.name_th, "en": t.name_en}} for t in contest.teams],
            "candidates": [
                {"id": c.code, "number": c.ballot_number, "position": c.position,
                 "name": {"th": c.name_th, "en": c.name_en},
                 "team": c.team.code if c.team else None}
                for c in contest.candidates
            ],
        },
    }


CAST_FIELDS = frozenset({"contest", "ballot", "credential", "previous", "signature"})
AUDIT_FIELDS = frozenset({"contest", "ballot", "credential", "seed", "signature"})


def cast(election: Election, voter: RollEntry, payload: Any, now: datetime) -> CastResult:
    """Accept ``payload`` = {"contest", "ballot", "credential", "previous", "signature"} from a
    signed-in voter (docs/record.md §2.6: nothing else — the version-2 ``check_token`` is
    refused as malformed).

    ``credential`` must be the voter's registered live credential, ``signature`` its Ed25519
    signature of the protocol.md §13.3 ballot statement and ``previous`` the credential's
    current ballot hash.
    """
    # Under load the verifier, and the board's group commit, wait for this ballot.
    with verification.cast_in_progress(), group_commit.appender():
        return _cast(election, voter, payload, now)


def audit(election: Election, voter: RollEntry, payload: Any, now: datetime) -> AuditResult:
    """Accept ``payload`` = {"contest", "ballot", "credential", "seed", "signature"} from a
    signed-in voter as an audited ballot (docs/protocol.md §14.3, docs/record.md §2.6): the
    checks of a cast, with ``signature`` over the audit statement, and the seed must open the
    ballot (§5.6).  The audit entry never changes the voter's current ballot."""
    with verification.cast_in_progress(), group_commit.appender():  # the same verifier pool as casts
        return _audit(election, voter, payload, now)


@dataclass(frozen=True)
class _Checked:
    """A cast or audit request that passed every check before its proofs."""

    statement: ContestStatement
    #: None for a cast sent in the canonical form: its values are parsed (and range-checked) by
    #: the proof process from ``canonical`` (crypto/proof_process.py), not here as well.
    ballot: Optional[EncryptedContest]
    canonical: bytes
    digest: str
    contest: str
    credential: str
    signature: str
    #: The credential's current ballot hash when checked (the ``previous`` a cast must name).
    current: str


def _fields(payload: Any, fields: frozenset[str]) -> None:
    if not isinstance(payload, dict) or set(payload) != fields:
        raise MalformedCast("the request must be a JSON object with exactly " +
                            ", ".join(f"'{name}'" for name in sorted(fields)))
    credential, signature = payload["credential"], payload["signature"]
    if not isinstance(credential, str) or not _HEX64.match(credential):
        raise MalformedCast("credential must be 64 lowercase hex digits")
    if not isinstance(signature, str) or not _HEX128.match(signature):
        raise MalformedCast("signature must be 128 lowercase hex digits")


def _checked(election: Election, voter: RollEntry, payload: dict[str, Any],
             signature_ok: Callable[[str, str, str], bool], parse: bool = True) -> _Checked:
    """The checks a cast and an audit share (docs/protocol.md §14.3): the contest is the voter's,
    the credential the voter's live one, the ballot parses for the contest's shape, the voter's
    signature (``signature_ok(opening, contest, ballot_hash)``) verifies and the ballot is not on
    the board already (cast or audited).  The proofs are checked by :func:`_verify`.

    ``parse=False`` (a cast): a ballot in the canonical form is only matched against the
    contest's skeleton here (its bytes, its hash); the proof process converts and range-checks
    its values as it checks the proofs, with the same errors (crypto/proof_process.py)."""
    credential, signature = payload["credential"], payload["signature"]
    election_id = election.election_id
    contest_code, num_candidates, max_selections = _contest_shape(election, voter.contest_pk)
    if not contest_code or payload["contest"] != contest_code:  # docs/manifest.md §4.4
        raise WrongContest("this ballot is for a contest you cannot vote in")
    live, routed_to = authority.credential_standing(election, voter.id, credential)
    if not live:
        raise WrongCredential("this is not the credential registered for you")
    # The route must be the one the CA gave the credential (its mapping's ``contests``, record.md
    # §6.1): a roll entry moved to another contest in the database does not move the credential,
    # whose contest list (credentials.json, §6.2) is what the tally and the verifier check.
    if routed_to != contest_code:
        raise WrongContest("your credential is not of this contest")
    opening = authority.opening_hash(election)
    key = election_keys.election_key(election)
    try:
        ballot, canonical = _parse_ballot(payload["ballot"], key.public_key, num_candidates, max_selections, parse)
    except InvalidInput as exc:
        raise BallotRejected(f"the ballot was rejected: {exc}") from exc
    digest = hashlib.sha256(canonical).hexdigest()  # = crypto.ballot.ballot_hash (protocol.md §5.5)
    if not signature_ok(opening, contest_code, digest):
        raise BadSignature("the signature does not verify under your credential")
    # A ballot already on the board was verified when it was accepted: a replay is refused
    # before the costly proof check (the unique hash refuses a concurrent one at the append).
    # An audited ballot is never cast, and a cast one never audited (record.md §2.1).
    kind, current = board.ballot_standing(election, digest, credential)
    if kind == KIND_AUDIT:
        raise AuditedBallot("this ballot was audited: its choices are public and it can never be cast; "
                            "encrypt again")
    if kind is not None:
        raise BallotReplayed("this exact ballot is already on the board")
    statement = ContestStatement(key.public_key, election_id, contest_code,
                                 ballot_party(voter.pseudonym, credential), num_candidates, max_selections)
    return _Checked(statement, ballot, canonical, digest, contest_code, credential, signature, current)


def _verify(checked: _Checked) -> None:
    """The ballot's proofs (docs/protocol.md §5.4) in this worker's verifier pool, with no
    transaction open."""
    _end_read_transaction()
    try:
        verification.verify(checked.statement, checked.ballot, checked.canonical)
    except InvalidInput as exc:
        raise BallotRejected(f"the ballot was rejected: {exc}") from exc
    except ProofProcessLost as exc:
        raise VerifierUnavailable() from exc


def _cast(election: Election, voter: RollEntry, payload: Any, now: datetime) -> CastResult:
    if not polls_open(election, now):
        raise PollsClosed("polls are not open: ballots are accepted only while the election is open")
    _fields(payload, CAST_FIELDS)
    previous = payload["previous"]
    if not isinstance(previous, str) or (previous and not _HEX64.match(previous)):
        raise MalformedCast("previous must be empty or 64 lowercase hex digits")
    election_id, pseudonym, credential = election.election_id, voter.pseudonym, payload["credential"]
    checked = _checked(election, voter, payload, lambda opening, contest, digest: verify_ballot_signature(
        election_id, opening, contest, pseudonym, credential, digest, payload["signature"], previous=previous),
        parse=False)
    # ``previous`` is checked again under the board lock (board.append); this early check spares
    # the proof check of a cast that is stale already.
    if checked.current != previous:
        raise StalePrevious("another ballot of this credential was cast meanwhile: reload and sign again")
    _verify(checked)
    with _appending():
        entry = group_commit.append(election, board.Append(
            pseudonym, checked.contest, checked.canonical.decode(), checked.digest, now, credential, previous,
            checked.signature, roll_entry_pk=voter.id))
    # After the commit that stored the ballot (with the others of its group commit): only now
    # is its receipt signed (docs/record.md §2.5).  The entries before it are committed too.
    superseded = db.session.scalar(
        select(BoardEntry.id).where(BoardEntry.election_pk == entry.election_pk,
                                    BoardEntry.pseudonym == pseudonym, BoardEntry.kind != KIND_AUDIT,
                                    BoardEntry.seq < entry.seq).limit(1)) is not None
    receipt = board.receipt(election, entry)
    db.session.commit()
    return CastResult(entry, receipt, superseded)


def _audit(election: Election, voter: RollEntry, payload: Any, now: datetime) -> AuditResult:
    if not polls_open(election, now):
        raise PollsClosed("polls are not open: ballots are audited only while the election is open")
    _fields(payload, AUDIT_FIELDS)
    seed_hex = payload["seed"]
    if not isinstance(seed_hex, str) or not _HEX64.match(seed_hex):
        raise MalformedCast("seed must be 64 lowercase hex digits")
    election_id, pseudonym, credential = election.election_id, voter.pseudonym, payload["credential"]
    checked = _checked(election, voter, payload, lambda opening, contest, digest: verify_audit_signature(
        election_id, opening, contest, pseudonym, credential, digest, seed_hex, payload["signature"]))
    assert checked.ballot is not None  # parsed: an audit opens it here
    try:  # docs/protocol.md §14.3: the seed opens the ballot to m_i ∈ {0, 1}, Σ m_i ≤ k (§5.6)
        open_ballot(checked.statement, checked.ballot, bytes.fromhex(seed_hex))
    except InvalidInput as exc:
        raise BadSeed(f"the seed does not open this ballot: {exc}") from exc
    _verify(checked)
    with _appending():
        entry = group_commit.append(election, board.Append(
            pseudonym, checked.contest, checked.canonical.decode(), checked.digest, now, credential, "",
            checked.signature, roll_entry_pk=voter.id, seed=seed_hex))
    return AuditResult(entry, audit_code(entry.seq, entry.ballot_hash))


@contextmanager
def _appending() -> Iterator[None]:
    """The append (:mod:`app.services.voting.group_commit`: committed with the other casts of
    this process reaching the board now, or refused alone), with the board's refusals as the
    cast API's errors."""
    try:
        yield
    except BoardClosed as exc:
        db.session.rollback()
        raise PollsClosed("polls closed while the ballot was being checked") from exc
    except Exception:
        db.session.rollback()
        raise


_SHAPES: dict[tuple[str, int], tuple[str, int, int]] = {}


def _contest_shape(election: Election, contest_pk: int | None) -> tuple[str, int, int]:
    """(contest code, candidates, max selections) of the voter's routed contest (docs/manifest.md
    §4.2), ("", 0, 0) if none.  Cached by election id — the manifest's hash, so it cannot
    change — and contest row, to spare each cast loading the contest's ~228 candidate rows."""
    if contest_pk is None:
        return ("", 0, 0)
    cache_key = (election.election_id, contest_pk)
    shape = _SHAPES.get(cache_key)
    if shape is None:
        contest = next((c for c in election.contests if c.id == contest_pk), None)
        shape = ("", 0, 0) if contest is None else (contest.code, len(contest.candidates), contest.max_selections)
        _SHAPES[cache_key] = shape
    return shape


def _end_read_transaction() -> None:
    """No transaction stays open while the proofs are checked: with SQLite (BEGIN IMMEDIATE) it
    would hold the write lock and serialise every cast behind this one's verification.  The
    loaded rows are kept (not expired): the append re-checks the polls under the board lock."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@dataclass(frozen=True)
class CanonicalBallot:
    """The ballot of a request body in the canonical form (:func:`canonical_payload`): its bytes
    as sent, which are its canonical JSON, and their value strings (crypto.ballot)."""

    text: bytes
    values: tuple[bytes, ...]


_BODY_HEAD = b'{"ballot":'
_BALLOT_END = b'},"contest":"'


def canonical_payload(election: Election, voter: RollEntry, body: bytes) -> dict[str, Any] | None:
    """The fields of a cast or audit request whose body is in the canonical form, its
    ``"ballot"`` a :class:`CanonicalBallot`; None for any other body, which the caller decodes
    strictly (docs/protocol.md §2.3).

    The canonical form is the body's canonical JSON (docs/protocol.md §2.1; the browser and
    tools/voting_client send it): keys sorted, so ``{"ballot":<ballot>,"contest":…}``.  Its ballot
    is found in place and checked against the skeleton of the voter's contest (exactly the
    canonical JSON of a ballot of that shape, all values canonical hex); the few other fields
    are decoded strictly.  The body is then valid JSON with exactly those fields, so the fields
    are what the strict decoder would return, and the ballot's bytes are its canonical JSON
    without decoding ~0.9 MB into Python objects and encoding it again.
    """
    _code, num_candidates, max_selections = _contest_shape(election, voter.contest_pk)
    if not num_candidates or not body.startswith(_BODY_HEAD):
        return None
    end = body.rfind(_BALLOT_END)
    if end < 0:
        return None
    text = body[len(_BODY_HEAD):end + 1]
    values = canonical_ballot_values(text, num_candidates, max_selections)
    if values is None:
        return None
    try:
        rest = strict_loads(b"{" + body[end + 2:], "request body")
    except (InvalidInput, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(rest, dict) or "ballot" in rest:
        return None
    return {"ballot": CanonicalBallot(text, values), **rest}


def _parse_ballot(raw: Any, public_key: PublicKey, num_candidates: int, max_selections: int,
                  parse: bool = True) -> tuple[Optional[EncryptedContest], bytes]:
    """The ballot and its canonical JSON (docs/protocol.md §2.1, §5.5).

    A :class:`CanonicalBallot` is its canonical JSON already (with ``parse=False`` it is returned
    unparsed, as ``(None, bytes)``).  Otherwise, re-encoding the
    request's ballot canonically and parsing those bytes by the skeleton of the contest's shape
    accepts exactly what the strict parse accepts (crypto.ballot), keeps the hex text for the
    challenge hashes and yields the bytes the board stores.  Anything else goes to the strict
    parse, which names the bad field.
    """
    if isinstance(raw, CanonicalBallot):
        if not parse:
            return None, raw.text
        ballot = ballot_from_canonical_values(raw.values, public_key, num_candidates, max_selections)
        if ballot is not None:
            return ballot, raw.text
        raw = json.loads(raw.text)  # a value out of range: the strict parse names it
    try:
        canonical = canonical_json(raw)
    except (TypeError, ValueError):
        canonical = None
    if canonical is not None:
        ballot = parse_canonical_ballot(canonical, public_key, num_candidates, max_selections)
        if ballot is not None:
            return ballot, canonical
    ballot = EncryptedContest.from_dict(raw, public_key)
    return ballot, canonical_json(ballot.to_dict())


def receipt_for(election: Election, seq: int, pseudonym: str) -> dict[str, Any]:
    """The signed receipt of the voter's cast ballot at ``seq`` (audits have none, record.md §2.5)."""
    entry = board.entry_at(election, seq)
    if entry is None or entry.pseudonym != pseudonym or entry.kind == KIND_AUDIT:
        raise BallotNotFound("no such ballot of yours")
    return board.receipt(election, entry)


def ballot_of(entry: BoardEntry) -> dict[str, Any]:
    text = board.ballot_text(entry)
    if text is None:  # pragma: no cover - the ballot row is written with its entry
        raise BallotNotFound("the ballot of this board entry is missing")
    return json.loads(text)  # type: ignore[no-any-return]
