"""The board append's reads under the head lock (app/services/voting/board.py: ``_lock`` takes
the lock and reads the head with the election's fixed fields in one statement, ``_state`` reads
everything the append checks in a second one), on SQLite and on real PostgreSQL:

* the close in force is the last poll extension's (docs/record.md §2.7), read under the lock:
  a ballot past the manifest's close is appended once an extension covers it, and refused past
  the extension's close; with two extensions the later one counts;
* a final checkpoint refuses every ballot of the batch (BoardClosed), and none is stored;
* the second statement is what makes the reads current: a final checkpoint, a poll extension or
  a revocation committed by the transaction the append *waited for* on the head lock is seen
  (on PostgreSQL a single statement that waited for the lock would still read the database as
  of its start — READ COMMITTED — and append after the final checkpoint);
* the head entry's ``cast_at`` bounds the next one (times never go back, record.md §2.1), and an
  election's expired ORM row is not reloaded by the append.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import event, select, update

from app.extensions import db
from app.models import BoardBallot, BoardEntry, PollExtension, VoterCredential
from app.services.administration.manifest import get_election
from app.services.errors import BoardClosed, PollsClosed, ServiceError, WrongCredential
from app.services.voting import board
from tests.e2e.test_group_commit import env, request  # noqa: F401  (the fixture)


def _later(item: board.Append, delta: timedelta) -> board.Append:
    return board.Append(item.pseudonym, item.contest, item.ballot_json, item.ballot_hash, item.now + delta,
                        item.credential, item.previous, item.signature, item.roll_entry_pk, item.seed)


def _append(slug: str, items: list[board.Append]) -> list[board.Outcome]:
    election = get_election(slug)
    outcomes = board.append_many(election, items)
    db.session.commit()
    return outcomes


def _extend(slug: str, number: int, closes: Any) -> None:
    election = get_election(slug)
    db.session.add(PollExtension(election_pk=election.id, number=number, closes_at=closes, body="{}"))
    db.session.commit()


def test_the_close_in_force_is_the_last_extension_read_under_the_lock(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    with app.app_context():
        close = get_election(slug).closes_at
        late = _later(request(), close - request().now + timedelta(minutes=1))
        [refused] = _append(slug, [late])
        assert isinstance(refused, PollsClosed)
        _extend(slug, 1, close + timedelta(minutes=30))
        _extend(slug, 2, close + timedelta(hours=2))
        in_time = _later(request(), close - request().now + timedelta(minutes=90))  # after ext. 1, before ext. 2
        too_late = _later(request(), close - request().now + timedelta(hours=3))
        outcomes = _append(slug, [in_time, too_late])
        assert isinstance(outcomes[0], BoardEntry) and isinstance(outcomes[1], PollsClosed)
        stored = set(db.session.scalars(select(BoardBallot.ballot_hash)))
        assert stored == {in_time.ballot_hash}  # the refused ballots' rows are gone
        assert board.verify_chain(get_election(slug)) == []
        db.session.remove()


def test_a_final_checkpoint_refuses_the_whole_batch(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    with app.app_context():
        assert isinstance(_append(slug, [request()])[0], BoardEntry)
        election = get_election(slug)
        board.close(election, request().now)
        db.session.commit()
        outcomes = _append(slug, [request(), request()])
        assert all(isinstance(o, BoardClosed) for o in outcomes)
        assert board.size(get_election(slug)) == 1
        assert len(list(db.session.scalars(select(BoardBallot.ballot_hash)))) == 1
        db.session.remove()


def test_what_the_lock_holder_committed_is_seen_by_the_waiting_append(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    (pk1, cred1), (pk2, cred2), _ = env["voters"]
    with app.app_context():
        assert isinstance(_append(slug, [request()])[0], BoardEntry)  # the head row exists
        close = get_election(slug).closes_at
        db.session.remove()

    # A revocation committed while the append waited: its ballot is refused.
    items = [request(cred1, "", pk1)]

    def revoke() -> None:
        db.session.execute(update(VoterCredential).where(VoterCredential.credential == cred1).values(revoked=True))
    state: dict[str, Any] = {}
    outcomes = _run(app, slug, items, revoke, state)
    assert isinstance(outcomes[0], WrongCredential)

    # An extension committed while the append waited: a ballot past the old close is appended.
    late = [_later(request(cred2, "", pk2), close - request().now + timedelta(minutes=5))]
    outcomes = _run(app, slug, late, lambda: db.session.add(PollExtension(
        election_pk=get_election(slug).id, number=1, closes_at=close + timedelta(hours=1), body="{}")), state)
    assert isinstance(outcomes[0], BoardEntry)

    # The final checkpoint committed while the append waited: nothing is appended after it.
    outcomes = _run(app, slug, [request(), request()],
                    lambda: board.write_checkpoint(get_election(slug), board.lock_head(get_election(slug)),
                                                   close, final=True), state)
    assert all(isinstance(o, BoardClosed) for o in outcomes)
    with app.app_context():
        election = get_election(slug)
        assert board.size(election) == 2 and board.verify_chain(election) == []
        final = board.final_checkpoint(election)
        assert final is not None and final["seq"] == 2
        db.session.remove()


def _run(app: Any, slug: str, items: list[board.Append], change: Callable[[], None],
         state: dict[str, Any]) -> list[board.Outcome]:
    locked, result = threading.Event(), {}

    def other() -> None:
        with app.app_context():
            locked.wait(30)
            result["outcomes"] = _append(slug, items)
            db.session.remove()

    with app.app_context():
        board.lock_head(get_election(slug))
        change()
        thread = threading.Thread(target=other)
        thread.start()
        locked.set()
        time.sleep(1.0)  # the append is now waiting for the head lock
        assert "outcomes" not in result, "the append did not wait for the head lock"
        db.session.commit()
        db.session.remove()
    thread.join(60)
    return list(result["outcomes"])


def test_times_never_go_back_and_the_expired_election_is_not_reloaded(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    with app.app_context():
        first = request()
        [entry] = _append(slug, [_later(first, timedelta(seconds=30))])
        assert isinstance(entry, BoardEntry)
        election = get_election(slug)
        db.session.commit()  # every attribute of ``election`` is expired now
        statements: list[str] = []

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)
        engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            [second] = board.append_many(election, [request()])  # its time is before the head's
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        db.session.commit()
        assert isinstance(second, BoardEntry) and isinstance(entry, BoardEntry)
        assert second.cast_at == entry.cast_at and second.seq == 2
        assert not any("election.slug" in s for s in statements), statements  # no ORM reload of the row
        sql = [s for s in statements if not s.startswith("BEGIN")]
        assert len(sql) == 5, sql  # ballot rows, lock, the reads under it, entries, head
        db.session.remove()


def test_a_fresh_entrys_receipt_is_the_one_a_reloaded_election_gives(env: dict[str, Any]) -> None:
    """The receipt of an entry just appended is signed from the election id and opening hash read
    under the head lock; it is byte for byte the receipt signed from the stored rows."""
    app, slug = env["app"], env["slug"]
    with app.app_context():
        election = get_election(slug)
        [entry] = board.append_many(election, [request()])
        db.session.commit()  # ``election`` is expired
        assert isinstance(entry, BoardEntry)
        fresh = board.receipt(election, entry)
        db.session.expire_all()
        stored = board.entry_at(get_election(slug), entry.seq)
        assert stored is not None and stored is not entry
        assert fresh == board.receipt(get_election(slug), stored)
        assert fresh["opening"] == get_election(slug).opening_hash
        db.session.remove()
