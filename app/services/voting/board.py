"""The bulletin board service: append (ballots and audits), checkpoints, receipts, chain checks
(docs/record.md §2).

The board's objects and byte rules are :mod:`election.board`; this module keeps them in the
database.

Appending locks the election's :class:`BoardHead` row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite transactions are ``BEGIN IMMEDIATE``), so concurrent casts — also by one voter — take
turns and the chain cannot fork; the database's unique constraints are the last line.
"""
from __future__ import annotations

import itertools
import json
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator, Sequence, Union

from flask import current_app
from sqlalchemy import Select, bindparam, delete, exists, func, insert, inspect, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import BoardBallot, BoardEntry, BoardHead, Checkpoint, Election, PollExtension, VoterCredential
from app.models.base import UTCDateTime
from app.services.administration import authority
from app.services.platform import signing
from app.services.errors import (BallotNotFound, BallotReplayed, BoardClosed, PollsClosed, ServiceError, StalePrevious,
                                 WrongCredential)
from crypto.encoding import canonical_json
from election.board import KIND_AUDIT, KIND_BALLOT, ChainScanner, iso_utc, new_audit_entry, new_entry, sha256_hex
from election.board import checkpoint as checkpoint_body, receipt as receipt_body


def entry_dict(entry: BoardEntry, election_id: str) -> dict[str, Any]:
    """The entry of docs/record.md §2.1 with exactly the keys of its kind."""
    body: dict[str, Any] = {
        "seq": entry.seq,
        "election_id": election_id,
        "kind": entry.kind,
        "pseudonym": entry.pseudonym,
        "contest": entry.contest,
        "credential": entry.credential,
        "signature": entry.signature,
        "ballot_hash": entry.ballot_hash,
        "cast_at": entry.cast_at,
        "prev_hash": entry.prev_hash,
        "entry_hash": entry.entry_hash,
    }
    if entry.kind == KIND_AUDIT:
        body["seed"] = entry.seed
    else:
        body["previous"] = entry.previous
    return body


def lock_head(election: Election) -> BoardHead:
    head = db.session.scalar(
        select(BoardHead).where(BoardHead.election_pk == election.id).with_for_update()
    )
    if head is None:
        head = BoardHead(election_pk=election.id, seq=0, head=election.election_id)
        db.session.add(head)
        db.session.flush()
    return head


@dataclass(frozen=True)
class Append:
    """One verified, voter-signed ballot to append: a ballot entry, or with ``seed`` an audit
    entry (docs/record.md §2.1, docs/protocol.md §14).  ``now`` is the time its cast was
    accepted; with ``roll_entry_pk`` the credential must still be that voter's live one."""

    pseudonym: str
    contest: str
    ballot_json: str
    ballot_hash: str
    now: datetime
    credential: str
    previous: str
    signature: str
    roll_entry_pk: int | None = None
    seed: str | None = None


#: What :func:`append_many` gives for each :class:`Append`: its new entry, or why it was refused.
Outcome = Union[BoardEntry, ServiceError]


def append(election: Election, pseudonym: str, contest: str, ballot_json: str,
           ballot_hash: str, now: datetime, *, credential: str, previous: str, signature: str,
           roll_entry_pk: int | None = None, seed: str | None = None) -> BoardEntry:
    """Append one ballot in the caller's transaction (the caller commits): :func:`append_many`
    with one :class:`Append`, raising its refusal."""
    outcome = append_many(election, [Append(pseudonym, contest, ballot_json, ballot_hash, now, credential,
                                            previous, signature, roll_entry_pk, seed)])[0]
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


def append_many(election: Election, appends: Sequence[Append]) -> list[Outcome]:
    """Append verified, voter-signed ballots in the caller's transaction (the caller commits, once
    for all of them: app/services/voting/group_commit.py), in the order given: the one
    implementation of the board append (docs/record.md §2.1–§2.3).

    1. The ballot rows (~1 MB each) are written first, before the head is locked, in the order of
       their hashes (so that two transactions holding the same ballots cannot deadlock); a ballot
       already stored — on the board, cast or audited, or in another transaction that commits
       it — is refused :class:`BallotReplayed`, as is the second of two equal ballots here.
    2. The head is locked (``SELECT … FOR UPDATE``; SQLite: the transaction's write lock) and,
       for each ballot in order, under the lock: the board is not closed (:class:`BoardClosed`);
       for a ballot entry ``previous`` is still the credential's current ballot — counting the
       ballots appended before it in this call, exactly as if they had been appended one per
       transaction (:class:`StalePrevious`; an audit entry never changes it, record.md §2.2,
       verifier check 19); with ``roll_entry_pk`` the credential is still the voter's live one
       (:class:`WrongCredential`; a revocation takes the same lock); its ``cast_at`` is within the
       poll window (:class:`PollsClosed`).  A refused ballot takes no ``seq`` and its ballot row
       is deleted again; it never fails the others.
    3. The accepted entries get consecutive ``seq`` and chain hashes from the head, are written,
       the head moves to the last one, and a checkpoint is signed for every ``seq`` that is a
       multiple of BOARD_CHECKPOINT_EVERY (record.md §2.3), as one-at-a-time appends would.

    Returns, per append, its entry (a detached BoardEntry holding the committed values once the
    caller commits) or its refusal.  A database error raises: the caller rolls back, and none
    of the ballots is stored.
    """
    # The statements below run on the session's connection, which does not autoflush: whatever
    # the caller changed in this transaction is written first, so that the reads see it.
    db.session.flush()
    outcomes: list[Outcome | None] = [None] * len(appends)
    seen: set[str] = set()
    for index, item in enumerate(appends):
        if item.ballot_hash in seen:
            outcomes[index] = BallotReplayed("this exact ballot is already on the board")
        seen.add(item.ballot_hash)
    election_pk = _pk(election)
    stored = _store_ballots(election_pk, [a for a, o in zip(appends, outcomes) if o is None])
    for index, item in enumerate(appends):
        if outcomes[index] is None and item.ballot_hash not in stored:
            outcomes[index] = BallotReplayed("this exact ballot is already on the board")
    pending = [i for i, o in enumerate(outcomes) if o is None]
    if not pending:
        return [o for o in outcomes if o is not None]
    locked = _lock(election_pk)
    # Everything below is read and checked under the head lock: a cast verified while polls
    # closed must not land after the final checkpoint, nor a stale or revoked one anywhere.
    state = _state(election_pk, locked,
                   {appends[i].credential for i in pending if appends[i].seed is None},
                   {pk for i in pending if (pk := appends[i].roll_entry_pk) is not None})
    closed, current, live, last_cast_at = state.closed, state.current, state.live, state.last_cast_at
    closes_at = iso_utc(state.close)  # the close in force (record.md §2.7)
    every = int(current_app.config.get("BOARD_CHECKPOINT_EVERY", 100))
    seq, prev_hash = locked.seq, locked.head
    election_id = locked.election_id
    rows: list[dict[str, Any]] = []
    refused: list[str] = []
    for index in pending:
        item = appends[index]
        cast_at = max(iso_utc(item.now), last_cast_at)  # fixed-width ISO strings sort as times
        problem: ServiceError | None = None
        if closed:
            problem = BoardClosed("the board is closed")
        elif item.seed is None and current.get(item.credential, "") != item.previous:
            problem = StalePrevious("another ballot of this credential was cast meanwhile: reload and sign again")
        elif item.roll_entry_pk is not None and (item.roll_entry_pk, item.credential) not in live:
            problem = WrongCredential("this credential was revoked")
        elif cast_at > closes_at:
            problem = PollsClosed("the polls closed before this ballot reached the board")
        if problem is not None:
            outcomes[index] = problem
            refused.append(item.ballot_hash)
            continue
        if item.seed is None:
            body = new_entry(seq + 1, election_id, item.pseudonym, item.contest, item.ballot_hash,
                             cast_at, prev_hash, credential=item.credential, previous=item.previous,
                             signature=item.signature)
            current[item.credential] = item.ballot_hash
        else:
            body = new_audit_entry(seq + 1, election_id, item.pseudonym, item.contest,
                                   item.ballot_hash, cast_at, prev_hash, credential=item.credential,
                                   seed=item.seed, signature=item.signature)
        row = {"election_pk": election_pk, "seq": body["seq"], "kind": body["kind"], "pseudonym": item.pseudonym,
               "contest": item.contest, "credential": item.credential, "previous": body.get("previous", ""),
               "seed": body.get("seed", ""), "signature": item.signature, "ballot_hash": item.ballot_hash,
               "cast_at": cast_at, "prev_hash": prev_hash, "entry_hash": body["entry_hash"]}
        rows.append(row)
        outcomes[index] = entry = BoardEntry(**row)
        _APPENDED_UNDER[entry] = (election_id, locked.opening_hash)
        seq, prev_hash, last_cast_at = body["seq"], body["entry_hash"], cast_at
        if every and seq % every == 0:
            _sign_checkpoint(election_pk, election_id, locked.opening_hash, seq, prev_hash, item.now, final=False)
    if rows:
        connection = db.session.connection()
        connection.execute(_INSERT_ENTRIES, rows)
        connection.execute(_MOVE_HEAD, {"pk": election_pk, "new_seq": seq, "new_head": prev_hash})
    if refused:
        db.session.connection().execute(delete(BoardBallot).where(BoardBallot.election_pk == election_pk,
                                                     BoardBallot.ballot_hash.in_(refused)))
    return [o for o in outcomes if o is not None]


#: For each entry :func:`append_many` made: the election's id and opening hash it read under the
#: head lock, so that the entry's receipt needs no reload of the (expired) election row.
_APPENDED_UNDER: weakref.WeakKeyDictionary[BoardEntry, tuple[str, str | None]] = weakref.WeakKeyDictionary()


def _pk(election: Election) -> int:
    """The election's primary key without loading its row again (it is expired after a commit)."""
    identity = inspect(election).identity
    return int(identity[0]) if identity else election.id


@dataclass(frozen=True)
class _Locked:
    """The locked head and the election's fields that never change once polls open: read by the
    statement that takes the lock."""

    seq: int
    head: str
    election_id: str
    opening_hash: str | None


@dataclass(frozen=True)
class _State:
    """What the append checks, read in one statement after the head lock is taken."""

    closed: bool  # a final checkpoint exists
    last_cast_at: str  # of the head entry, "" for an empty board
    close: datetime  # the close in force
    current: dict[str, str]  # credential -> its current ballot's hash
    live: set[tuple[int, str]]  # (roll entry, credential) still live


#: The statements of the append, built once (SQLAlchemy then compiles each once per process and
#: psycopg prepares them): parameters by name, executed on the session's connection (Core, no ORM).
_LOCK = (select(BoardHead.seq, BoardHead.head, Election.election_id, Election.opening_hash)
         .join(Election, Election.id == BoardHead.election_pk)
         .where(BoardHead.election_pk == bindparam("pk")).with_for_update(of=BoardHead))
_NO_TIME = literal(None, UTCDateTime())
_STATE = union_all(
    # 0: the board has its final checkpoint (record.md §2.3)
    select(literal(0).label("tag"), literal(0).label("num"), literal("").label("a"), literal("").label("b"),
           _NO_TIME.label("t"))
    .where(exists().where(Checkpoint.election_pk == bindparam("pk"), Checkpoint.final.is_(True))),
    # 1: the head entry's cast_at (record.md §2.1: times never go back)
    select(literal(1), BoardEntry.seq, BoardEntry.cast_at, literal(""), _NO_TIME)
    .where(BoardEntry.election_pk == bindparam("pk"), BoardEntry.seq == bindparam("seq")),
    # 2: the manifest's close; 3: the poll extensions' (the last one is in force, record.md §2.7)
    select(literal(2), literal(0), literal(""), literal(""), Election.closes_at).where(Election.id == bindparam("pk")),
    select(literal(3), PollExtension.number, literal(""), literal(""), PollExtension.closes_at)
    .where(PollExtension.election_pk == bindparam("pk")),
    # 4: the ballot entries of the batch's credentials (the highest seq is the current one, §2.2)
    select(literal(4), BoardEntry.seq, BoardEntry.credential, BoardEntry.ballot_hash, _NO_TIME)
    .where(BoardEntry.election_pk == bindparam("pk"), BoardEntry.kind == KIND_BALLOT,
           BoardEntry.credential.in_(bindparam("credentials", expanding=True))),
    # 5: the live credentials of the batch's roll entries (authority.LIVE_CREDENTIALS)
    authority.LIVE_CREDENTIALS.with_only_columns(literal(5), VoterCredential.roll_entry_pk,
                                                 VoterCredential.credential, literal(""), _NO_TIME),
)
_INSERT_ENTRIES = insert(BoardEntry)
_MOVE_HEAD = (update(BoardHead).where(BoardHead.election_pk == bindparam("pk"))
              .values(seq=bindparam("new_seq"), head=bindparam("new_head")))
_STORE = {dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(BoardBallot)
          .on_conflict_do_nothing(index_elements=["election_pk", "ballot_hash"]).returning(BoardBallot.ballot_hash)
          for dialect in (postgresql, sqlite)}


def _lock(election_pk: int) -> _Locked:
    """Lock the election's head (``SELECT … FOR UPDATE OF board_head``; SQLite: the transaction
    already holds the write lock) and read it with the election's fixed fields, in one round trip."""
    connection = db.session.connection()
    row = connection.execute(_LOCK, {"pk": election_pk}).first()
    if row is None:  # the board's first append: the head starts at the election id (record.md §2.1)
        election_id = connection.scalar(select(Election.election_id).where(Election.id == election_pk))
        connection.execute(insert(BoardHead).values(election_pk=election_pk, seq=0, head=election_id))
        row = connection.execute(_LOCK, {"pk": election_pk}).one()
    return _Locked(row.seq, row.head, row.election_id, row.opening_hash)


def _state(election_pk: int, locked: _Locked, credentials: set[str], roll_entry_pks: set[int]) -> _State:
    """Everything the append checks under the lock, in one statement (a UNION ALL of tagged rows).

    Not in the locking statement itself: on PostgreSQL (READ COMMITTED) a statement that waited
    for the lock still reads the rest of the database as of its start, so it would miss the final
    checkpoint, a poll extension or a revocation committed by the transaction it waited for
    (they all take this lock).  This second statement starts after the lock is held."""
    closed, last_cast_at = False, ""
    manifest_close: datetime | None = None
    extension: tuple[int, datetime] | None = None
    current: list[tuple[int, str, str]] = []
    live: set[tuple[int, str]] = set()
    rows = db.session.connection().execute(_STATE, {"pk": election_pk, "seq": locked.seq,
                                                    "credentials": sorted(credentials),
                                                    "roll_entry_pks": sorted(roll_entry_pks)})
    for tag, num, a, b, when in rows:
        if tag == 0:
            closed = True
        elif tag == 1:
            last_cast_at = a
        elif tag == 2:
            manifest_close = when
        elif tag == 3:
            if extension is None or num > extension[0]:
                extension = (num, when)
        elif tag == 4:
            current.append((num, a, b))
        else:
            live.add((num, a))
    if manifest_close is None:  # pragma: no cover - the head's foreign key keeps the election
        raise RuntimeError(f"election {election_pk} is gone")
    return _State(closed, last_cast_at, extension[1] if extension else manifest_close,
                  {credential: digest for _seq, credential, digest in sorted(current)}, live)


def _store_ballots(election_pk: int, appends: Sequence[Append]) -> set[str]:
    """Insert the ballot rows that are not stored yet, in hash order; the hashes inserted."""
    if not appends:
        return set()
    rows = [{"election_pk": election_pk, "ballot_hash": a.ballot_hash, "ballot": a.ballot_json}
            for a in sorted(appends, key=lambda a: a.ballot_hash)]
    connection = db.session.connection()
    statement = _STORE.get(connection.dialect.name)
    if statement is None:  # pragma: no cover - app/config.py allows only these two
        raise RuntimeError(f"unsupported database {connection.dialect.name}")
    return set(connection.execute(statement, rows).scalars())


def effective_close(election: Election) -> datetime:
    """The close in force: the last poll extension's ``closes`` signed by two officials, else
    the manifest's (docs/record.md §2.7)."""
    last = db.session.scalar(select(PollExtension.closes_at).where(PollExtension.election_pk == election.id)
                             .order_by(PollExtension.number.desc()).limit(1))
    return last if last is not None else election.closes_at


def write_checkpoint(election: Election, head: BoardHead, now: datetime, final: bool) -> dict[str, Any]:
    """Sign the board head under the election's opening hash (docs/record.md §2.3)."""
    return _sign_checkpoint(election.id, election.election_id, election.opening_hash, head.seq, head.head, now, final)


def _sign_checkpoint(election_pk: int, election_id: str, opening_hash: str | None, seq: int, head: str,
                     now: datetime, final: bool) -> dict[str, Any]:
    body = signing.sign(checkpoint_body(election_id, seq, head, iso_utc(now), final,
                                        opening=authority.required_opening_hash(opening_hash)))
    db.session.add(Checkpoint(election_pk=election_pk, seq=seq, final=final,
                              body=canonical_json(body).decode()))
    return body


def _has_final(election: Election) -> bool:
    return db.session.scalar(select(Checkpoint.id).where(
        Checkpoint.election_pk == election.id, Checkpoint.final.is_(True)).limit(1)) is not None


def close(election: Election, now: datetime) -> dict[str, Any]:
    """Sign the final head (docs/record.md §2.3); called when polls close."""
    head = lock_head(election)
    if _has_final(election):
        raise BoardClosed("the board already has a final checkpoint")
    return write_checkpoint(election, head, now, final=True)


def receipt(election: Election, entry: BoardEntry) -> dict[str, Any]:
    """The signed receipt of ballot entry ``entry`` under the opening hash (docs/record.md §2.5)."""
    appended_under = _APPENDED_UNDER.get(entry)
    if appended_under is not None and appended_under[1] and entry.election_pk == _pk(election):
        election_id, opening = appended_under[0], appended_under[1]
    else:
        election_id, opening = election.election_id, authority.opening_hash(election)
    return signing.sign(receipt_body(entry_dict(entry, election_id), opening=opening))


def checkpoints(election: Election) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(Checkpoint).where(Checkpoint.election_pk == election.id)
                              .order_by(Checkpoint.id))
    return [json.loads(row.body) for row in rows]


def final_checkpoint(election: Election) -> dict[str, Any] | None:
    row = db.session.scalar(select(Checkpoint).where(Checkpoint.election_pk == election.id,
                                                      Checkpoint.final.is_(True)))
    return json.loads(row.body) if row else None


def iter_entries(election: Election, after: int = 0, limit: int | None = None,
                 batch: int = 1000) -> Iterator[BoardEntry]:
    """Entries in seq order, fetched in batches (the board may hold millions)."""
    fetched = 0
    while limit is None or fetched < limit:
        size = batch if limit is None else min(batch, limit - fetched)
        rows = list(db.session.scalars(
            select(BoardEntry).where(BoardEntry.election_pk == election.id, BoardEntry.seq > after)
            .order_by(BoardEntry.seq).limit(size)))
        if not rows:
            return
        yield from rows
        fetched += len(rows)
        after = rows[-1].seq


def iter_entries_with_ballots(election: Election, batch: int = 200, limit: int | None = None,
                              after: int = 0) -> Iterator[tuple[BoardEntry, str | None]]:
    """(entry, its ballot's canonical JSON) in seq order after ``after``, the first ``limit``
    if given: :func:`iter_entries` a page at a time, with one query for the page's ballots;
    None if a ballot row is missing (verify_chain reports it)."""
    entries = iter_entries(election, after=after, batch=batch, limit=limit)
    while page := list(itertools.islice(entries, batch)):
        ballots = dict(db.session.execute(
            select(BoardBallot.ballot_hash, BoardBallot.ballot).where(
                BoardBallot.election_pk == election.id,
                BoardBallot.ballot_hash.in_([e.ballot_hash for e in page]))).all())
        for entry in page:
            yield entry, ballots.get(entry.ballot_hash)


def ballot_text(entry: BoardEntry) -> str | None:
    """The canonical JSON of ``entry``'s ballot."""
    return db.session.scalar(select(BoardBallot.ballot).where(
        BoardBallot.election_pk == entry.election_pk, BoardBallot.ballot_hash == entry.ballot_hash))


def entry_at(election: Election, seq: int) -> BoardEntry | None:
    return db.session.scalar(select(BoardEntry).where(BoardEntry.election_pk == election.id,
                                                       BoardEntry.seq == seq))


def entry_by_hash(election: Election, ballot_hash: str) -> BoardEntry | None:
    """The entry (of either kind) whose ballot has hash ``ballot_hash``: the tracker's (§2.6)."""
    return db.session.scalar(select(BoardEntry).where(BoardEntry.election_pk == election.id,
                                                       BoardEntry.ballot_hash == ballot_hash))


def is_closed(election: Election) -> bool:
    """The board has its final checkpoint (docs/record.md §2.3)."""
    return _has_final(election)


def public_entry(election: Election, seq: int) -> dict[str, Any]:
    """Entry ``seq`` as the public API shows it, with its encrypted ballot once a signed
    checkpoint covers it (docs/record.md §3.2: ballots are public from their checkpoint on)."""
    entry = entry_at(election, seq)
    if entry is None:
        raise BallotNotFound("no such board entry")
    body: dict[str, Any] = {"entry": entry_dict(entry, election.election_id)}
    cps = checkpoints(election)
    if cps and cps[-1]["seq"] >= seq:
        text = ballot_text(entry)
        if text is None:  # pragma: no cover - the ballot row is written with its entry
            raise BallotNotFound("the ballot of this board entry is missing")
        body["ballot"] = json.loads(text)
    return body


def current_entry(election: Election, pseudonym: str) -> BoardEntry | None:
    """The voter's counting ballot: their ballot entry with the highest sequence (§2.2)."""
    return db.session.scalar(
        select(BoardEntry).where(BoardEntry.election_pk == election.id,
                                 BoardEntry.pseudonym == pseudonym, BoardEntry.kind == KIND_BALLOT)
        .order_by(BoardEntry.seq.desc()).limit(1))


def current_credential_entry(election: Election, credential: str) -> BoardEntry | None:
    """The credential's current ballot: its ballot entry with the highest sequence (§2.2)."""
    return db.session.scalar(
        select(BoardEntry).where(BoardEntry.election_pk == election.id,
                                 BoardEntry.credential == credential, BoardEntry.kind == KIND_BALLOT)
        .order_by(BoardEntry.seq.desc()).limit(1))


def ballot_standing(election: Election, ballot_hash: str, credential: str) -> tuple[str | None, str]:
    """In one read: the kind of the board entry holding ``ballot_hash`` (None if none), and the
    credential's current ballot hash (:func:`current_ballot_hash`)."""
    kind = select(BoardEntry.kind).where(BoardEntry.election_pk == election.id,
                                         BoardEntry.ballot_hash == ballot_hash).scalar_subquery()
    row = db.session.execute(select(kind, _current_ballot(election, credential).scalar_subquery())).one()
    return row[0], row[1] or ""


def current_ballot_hash(election: Election, credential: str) -> str:
    """``ballot_hash`` of the credential's current ballot, "" if it has none: the ``previous``
    its next ballot statement must name (docs/protocol.md §13.3); audit entries never are."""
    return db.session.scalar(_current_ballot(election, credential)) or ""


def _current_ballot(election: Election, credential: str) -> Select[str]:
    """The hash of the credential's newest cast entry (audits are never current)."""
    return (select(BoardEntry.ballot_hash)
            .where(BoardEntry.election_pk == election.id, BoardEntry.credential == credential,
                   BoardEntry.kind == KIND_BALLOT)
            .order_by(BoardEntry.seq.desc()).limit(1))


def size(election: Election) -> int:
    return db.session.scalar(select(func.count()).select_from(BoardEntry)
                             .where(BoardEntry.election_pk == election.id)) or 0


def verify_chain(election: Election) -> list[str]:
    """Recompute every link (:class:`election.board.ChainScanner`); one problem per broken link
    of an entry (empty if the chain is intact)."""
    problems = []
    chain = ChainScanner(election.election_id)
    for entry, ballot in iter_entries_with_ballots(election):
        link = chain.step(entry_dict(entry, election.election_id))
        if link.seq != link.expected_seq:
            problems.append(f"entry {entry.seq}: expected sequence {link.expected_seq}")
        if not link.prev_ok:
            problems.append(f"entry {entry.seq}: previous hash does not match")
        if not link.hash_ok:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        if ballot is None or sha256_hex(ballot.encode()) != entry.ballot_hash:
            problems.append(f"entry {entry.seq}: ballot does not match its hash")
    return problems
