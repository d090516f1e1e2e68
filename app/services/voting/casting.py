"""Casting a ballot: check the voter, the polls and the voter's credential signature, verify
the proofs, append to the board (record format version 2: docs/protocol.md §13.3–§13.4).

docs/protocol.md §5.4 (verification), docs/record.md §2 (board, receipts). The expensive proof
verification runs before the board is locked, so concurrent casts only queue for the append.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import BoardEntry, Election, ReceiptCheck, RollEntry
from app.services.administration import authority, election_keys
from app.services.platform import ca_key
from app.services.voting import board, verification
from app.services.administration.manifest import get_election
from app.services.errors import (
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
    WrongContest,
    WrongCredential,
    WrongElection,
)
from crypto import ContestStatement, EncryptedContest, PublicKey
from crypto.ballot import parse_canonical_ballot
from crypto.credential import ballot_party, verify_ballot_signature
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from election import lifecycle
from election.manifest import PollWindow


_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_HEX128 = re.compile(r"\A[0-9a-f]{128}\Z")


__all__ = ["CastRejected", "CastResult", "ballot_context", "ballot_of", "cast", "polls_open",
           "receipt_for", "voter_election"]


@dataclass(frozen=True)
class CastResult:
    entry: BoardEntry
    receipt: dict[str, Any]
    superseded: bool


def polls_open(election: Election, now: datetime) -> bool:
    """Ballots are accepted now (:func:`election.lifecycle.polls_open`)."""
    return lifecycle.polls_open(election.status, PollWindow(election.opens_at, election.closes_at), now)


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
    contest = election.contest_for(voter.electorate)
    if contest is None or not election.election_key:
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


CAST_FIELDS = frozenset({"contest", "ballot", "check_token", "credential", "previous", "signature"})


def cast(election: Election, voter: RollEntry, payload: Any, now: datetime) -> CastResult:
    """Accept ``payload`` = {"contest", "ballot", "check_token", "credential", "previous",
    "signature"} from a signed-in voter.

    ``check_token`` = hex SHA-256("ssbvote-check-v1" ‖ seed) (docs/record.md §2.5) lets the
    holder of the receipt, and nobody else, use the cast-as-intended check.  ``credential`` must
    be the voter's registered live credential, ``signature`` its Ed25519 signature of the
    protocol.md §13.3 ballot statement and ``previous`` the credential's current ballot hash.
    """
    with verification.cast_in_progress():  # under load the verifier waits for this ballot
        return _cast(election, voter, payload, now)


def _cast(election: Election, voter: RollEntry, payload: Any, now: datetime) -> CastResult:
    if not polls_open(election, now):
        raise PollsClosed("polls are not open: ballots are accepted only while the election is open")
    if not isinstance(payload, dict) or set(payload) != CAST_FIELDS:
        raise MalformedCast("the request must be a JSON object with exactly " +
                            ", ".join(f"'{name}'" for name in sorted(CAST_FIELDS)))
    token = payload["check_token"]
    if not isinstance(token, str) or not _HEX64.match(token):
        raise MalformedCast("check_token must be 64 lowercase hex digits")
    credential, previous, signature = payload["credential"], payload["previous"], payload["signature"]
    if not isinstance(credential, str) or not _HEX64.match(credential):
        raise MalformedCast("credential must be 64 lowercase hex digits")
    if not isinstance(previous, str) or (previous and not _HEX64.match(previous)):
        raise MalformedCast("previous must be empty or 64 lowercase hex digits")
    if not isinstance(signature, str) or not _HEX128.match(signature):
        raise MalformedCast("signature must be 128 lowercase hex digits")
    election_id = election.election_id
    pseudonym = voter.pseudonym
    contest_code, num_candidates, max_selections = _contest_shape(election, voter.electorate)
    if not contest_code or payload["contest"] != contest_code:
        raise WrongContest("this ballot is for a contest you cannot vote in")
    if not authority.is_live(election, voter.id, credential):
        raise WrongCredential("this is not the credential registered for you")
    opening = authority.opening_hash(election)
    key = election_keys.election_key(election)
    try:
        ballot, canonical = _parse_ballot(payload["ballot"], key.public_key, num_candidates, max_selections)
    except InvalidInput as exc:
        raise BallotRejected(f"the ballot was rejected: {exc}") from exc
    digest = hashlib.sha256(canonical).hexdigest()  # = crypto.ballot.ballot_hash (protocol.md §5.5)
    if not verify_ballot_signature(election_id, opening, contest_code, pseudonym, credential, digest,
                                   signature, previous=previous):
        raise BadSignature("the ballot's signature does not verify under your credential")
    # A ballot already on the board was verified when it was accepted: a replay is refused
    # before the costly proof check (the unique hash refuses a concurrent one at the append).
    if db.session.scalar(select(BoardEntry.id).where(BoardEntry.election_pk == election.id,
                                                      BoardEntry.ballot_hash == digest)):
        raise BallotReplayed("this exact ballot is already on the board")
    # ``previous`` is checked again under the board lock (board.append); this early check spares
    # the proof check of a cast that is stale already.
    if board.current_ballot_hash(election, credential) != previous:
        raise StalePrevious("another ballot of this credential was cast meanwhile: reload and sign again")
    _end_read_transaction()
    try:
        verification.verify(ContestStatement(key.public_key, election_id, contest_code,
                                             ballot_party(pseudonym, credential),
                                             num_candidates, max_selections), ballot)
    except InvalidInput as exc:
        raise BallotRejected(f"the ballot was rejected: {exc}") from exc
    ballot_json = canonical.decode()
    try:
        entry = board.append(election, pseudonym, contest_code, ballot_json, digest, now,
                             credential=credential, previous=previous, signature=signature,
                             roll_entry_pk=voter.id)
        db.session.add(ReceiptCheck(election_pk=election.id, seq=entry.seq, uses=0,
                                    token_hash=hashlib.sha256(token.encode()).hexdigest()))
        db.session.flush()
        superseded = db.session.scalar(
            select(BoardEntry.id).where(BoardEntry.election_pk == election.id,
                                        BoardEntry.pseudonym == pseudonym,
                                        BoardEntry.seq < entry.seq).limit(1)) is not None
        receipt = board.receipt(election, entry)
        db.session.commit()
    except BoardClosed as exc:
        db.session.rollback()
        raise PollsClosed("polls closed while the ballot was being checked") from exc
    except IntegrityError as exc:
        db.session.rollback()
        raise BallotReplayed("this exact ballot is already on the board") from exc
    except Exception:
        db.session.rollback()
        raise
    return CastResult(entry, receipt, superseded)


_SHAPES: dict[tuple[str, str], tuple[str, int, int]] = {}


def _contest_shape(election: Election, electorate: str) -> tuple[str, int, int]:
    """(contest code, candidates, max selections) of the electorate's contest, ("", 0, 0) if
    none.  Cached by election id — the manifest's hash, so it cannot change — to spare each cast
    loading the contest's ~228 candidate rows."""
    cache_key = (election.election_id, electorate)
    shape = _SHAPES.get(cache_key)
    if shape is None:
        contest = election.contest_for(electorate)
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


def _parse_ballot(raw: Any, public_key: PublicKey, num_candidates: int,
                  max_selections: int) -> tuple[EncryptedContest, bytes]:
    """The ballot and its canonical JSON (docs/protocol.md §2.1, §5.5).

    Re-encoding the request's ballot canonically and parsing those bytes by the skeleton of the
    contest's shape accepts exactly what the strict parse accepts (crypto.ballot), keeps the hex
    text for the challenge hashes and yields the bytes the board stores.  Anything else goes to
    the strict parse, which names the bad field.
    """
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
    entry = board.entry_at(election, seq)
    if entry is None or entry.pseudonym != pseudonym:
        raise BallotNotFound("no such ballot of yours")
    return board.receipt(election, entry)


def ballot_of(entry: BoardEntry) -> dict[str, Any]:
    text = board.ballot_text(entry)
    if text is None:  # pragma: no cover - the ballot row is written with its entry
        raise BallotNotFound("the ballot of this board entry is missing")
    return json.loads(text)  # type: ignore[no-any-return]
