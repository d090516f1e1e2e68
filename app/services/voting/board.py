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
from datetime import datetime
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import BoardBallot, BoardEntry, BoardHead, Checkpoint, Election, PollExtension
from app.services.administration import authority
from app.services.platform import signing
from app.services.errors import BallotNotFound, BoardClosed, PollsClosed, StalePrevious, WrongCredential
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


def append(election: Election, pseudonym: str, contest: str, ballot_json: str,
           ballot_hash: str, now: datetime, *, credential: str, previous: str, signature: str,
           roll_entry_pk: int | None = None, seed: str | None = None) -> BoardEntry:
    """Append one verified, voter-signed ballot in the caller's transaction (the caller commits):
    a ballot entry, or with ``seed`` an audit entry (docs/record.md §2.1, docs/protocol.md §14).

    The ballot row (~1 MB) is written first; only then is the head locked, so the serial part of
    the append writes just the small entry row.  A ballot already on the board — cast or
    audited — fails here with IntegrityError (unique hash), before any lock is taken.  Under the
    lock: the board is not closed, for a ballot entry ``previous`` is still the credential's
    current ballot (:class:`StalePrevious` otherwise: another device cast meanwhile; an audit
    entry never changes it) and, with ``roll_entry_pk``, the credential is still the voter's
    live one (a revocation takes the same lock)."""
    db.session.add(BoardBallot(election_pk=election.id, ballot_hash=ballot_hash, ballot=ballot_json))
    db.session.flush()
    head = lock_head(election)
    # Checked under the head lock: a cast that was verified while polls closed must not land
    # after the final checkpoint.
    if _has_final(election):
        raise BoardClosed("the board is closed")
    if seed is None and current_ballot_hash(election, credential) != previous:
        raise StalePrevious("another ballot of this credential was cast meanwhile: reload and sign again")
    if roll_entry_pk is not None and not authority.is_live(election, roll_entry_pk, credential):
        raise WrongCredential("this credential was revoked")
    cast_at = _cast_time(election, head, now)
    if seed is None:
        body = new_entry(head.seq + 1, election.election_id, pseudonym, contest, ballot_hash,
                         cast_at, head.head, credential=credential, previous=previous,
                         signature=signature)
    else:
        body = new_audit_entry(head.seq + 1, election.election_id, pseudonym, contest, ballot_hash,
                               cast_at, head.head, credential=credential, seed=seed, signature=signature)
    entry = BoardEntry(
        election_pk=election.id, seq=body["seq"], kind=body["kind"], pseudonym=pseudonym, contest=contest,
        credential=credential, previous=body.get("previous", ""), seed=body.get("seed", ""),
        signature=signature, ballot_hash=ballot_hash, cast_at=body["cast_at"],
        prev_hash=head.head, entry_hash=body["entry_hash"],
    )
    db.session.add(entry)
    head.seq, head.head = entry.seq, entry.entry_hash
    every = int(current_app.config.get("BOARD_CHECKPOINT_EVERY", 100))
    if every and entry.seq % every == 0:
        write_checkpoint(election, head, now, final=False)
    return entry


def _cast_time(election: Election, head: BoardHead, now: datetime) -> str:
    """The entry's ``cast_at``, taken under the head lock: never before the previous entry's
    (casts verified concurrently reach the lock in any order; record.md §2.1 wants the times
    non-decreasing) and never after the poll window closes (a cast that started before the close
    but reached the board after it is refused, not stamped outside the window)."""
    cast_at = iso_utc(now)
    if head.seq:
        last = db.session.scalar(select(BoardEntry.cast_at).where(
            BoardEntry.election_pk == election.id, BoardEntry.seq == head.seq))
        if last is not None and last > cast_at:  # fixed-width ISO strings sort as times
            cast_at = last
    if cast_at > iso_utc(effective_close(election)):
        raise PollsClosed("the polls closed before this ballot reached the board")
    return cast_at


def effective_close(election: Election) -> datetime:
    """The close in force: the last poll extension's ``closes`` signed by two officials, else
    the manifest's (docs/record.md §2.7)."""
    last = db.session.scalar(select(PollExtension.closes_at).where(PollExtension.election_pk == election.id)
                             .order_by(PollExtension.number.desc()).limit(1))
    return last if last is not None else election.closes_at


def write_checkpoint(election: Election, head: BoardHead, now: datetime, final: bool) -> dict[str, Any]:
    """Sign the board head under the election's opening hash (docs/record.md §2.3)."""
    body = signing.sign(checkpoint_body(election.election_id, head.seq, head.head, iso_utc(now), final,
                                        opening=authority.opening_hash(election)))
    db.session.add(Checkpoint(election_pk=election.id, seq=head.seq, final=final,
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
    return signing.sign(receipt_body(entry_dict(entry, election.election_id),
                                     opening=authority.opening_hash(election)))


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


def current_ballot_hash(election: Election, credential: str) -> str:
    """``ballot_hash`` of the credential's current ballot, "" if it has none: the ``previous``
    its next ballot statement must name (docs/protocol.md §13.3); audit entries never are."""
    return db.session.scalar(
        select(BoardEntry.ballot_hash).where(BoardEntry.election_pk == election.id,
                                             BoardEntry.credential == credential,
                                             BoardEntry.kind == KIND_BALLOT)
        .order_by(BoardEntry.seq.desc()).limit(1)) or ""


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
