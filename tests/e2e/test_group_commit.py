"""The board's group commit (app/services/voting/group_commit.py), in one process on SQLite and
on real PostgreSQL: concurrent appends taken by one leader under one head lock and one commit
keep one chain with consecutive seq and the checkpoints of docs/record.md §2.3; each ballot is
refused on its own (stale ``previous``, revoked credential, replay) without failing the others;
two ballots of one credential in one batch are appended in arrival order, exactly as one
transaction each would (record.md §2.2, verifier check 19); a failed batch commit gives every
ballot of the batch an error and none a receipt, and stores none of them.

Batches are made deterministic here: the batcher under test has a long window and as many
registered appenders as the test starts, and the appends are queued one after the other in a
known order (the leader waits until all are queued)."""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.models import BoardBallot, BoardEntry, Checkpoint, VoterCredential
from app.models.base import utcnow
from app.services.administration.manifest import get_election
from app.services.errors import (BallotReplayed, BoardWriteFailed, ServiceError, StalePrevious,
                                 WrongCredential)
from app.services.platform import signing
from app.services.voting import board
from app.services.voting.group_commit import GroupCommit
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.factories import insured_csv, national_ids, small_manifest


@pytest.fixture
def env(any_db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    app: Flask = build_app(make_config(tmp_path, any_db_url, BOARD_CHECKPOINT_EVERY=3))
    with app.app_context():
        setup = election_setup.ready_election(small_manifest(), [insured_csv(national_ids(3))],
                                              tmp_path / "trustees")
        slug = setup.slug
        voters = [(pk, credential) for pk, credential in db.session.execute(
            select(VoterCredential.roll_entry_pk, VoterCredential.credential).where(
                VoterCredential.election_pk == setup.election.id, VoterCredential.revoked.is_(False)))]
        db.session.commit()
        yield {"app": app, "slug": slug, "voters": voters, "url": any_db_url}
        db.session.remove()
        db.engine.dispose()


def request(credential: str | None = None, previous: str = "", roll_entry_pk: int | None = None,
            ballot: str | None = None) -> board.Append:
    ballot_json = ballot or json.dumps({"bench": secrets.token_hex(64)})
    credential = credential or secrets.token_hex(32)
    return board.Append(secrets.token_hex(16), "insured", ballot_json,
                        hashlib.sha256(ballot_json.encode()).hexdigest(), utcnow(), credential, previous,
                        secrets.token_hex(64), roll_entry_pk=roll_entry_pk)


def one_batch(app: Flask, slug: str, requests: Sequence[board.Append],
              batcher: GroupCommit | None = None) -> list[BoardEntry | ServiceError]:
    """Append ``requests`` from one thread each, queued in this order, in one batch (asserted)."""
    batcher = batcher or GroupCommit(1.0, 64)
    outcomes: list[BoardEntry | ServiceError | None] = [None] * len(requests)
    before = batcher.batches

    def run(index: int) -> None:
        with app.app_context():
            election = get_election(slug)
            db.session.commit()
            try:
                outcomes[index] = batcher.append(election, requests[index])
            except ServiceError as exc:
                outcomes[index] = exc
            finally:
                db.session.remove()

    with ExitStack() as stack:
        for _ in requests:  # the leader waits for all of them
            stack.enter_context(batcher.appender())
        with app.app_context():
            election_pk = get_election(slug).id
            db.session.remove()
        threads = []
        for index in range(len(requests)):
            thread = threading.Thread(target=run, args=(index,))
            thread.start()
            threads.append(thread)
            while batcher.queued(election_pk) < index + 1 and batcher.batches == before:
                threading.Event().wait(0.002)
        for thread in threads:
            thread.join(60)
    assert batcher.batches == before + 1, "the appends were not one batch"
    assert all(o is not None for o in outcomes)
    return [o for o in outcomes if o is not None]


def board_rows(slug: str) -> tuple[list[BoardEntry], set[str], list[dict[str, Any]]]:
    db.session.expire_all()
    election = get_election(slug)
    entries = list(board.iter_entries(election))
    ballots = set(db.session.scalars(select(BoardBallot.ballot_hash).where(BoardBallot.election_pk == election.id)))
    return entries, ballots, board.checkpoints(election)


def test_one_batch_one_lock_one_commit_keeps_the_chain_and_checkpoints(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    commits: list[int] = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        requests = [request() for _ in range(8)]
        outcomes = one_batch(app, slug, requests)
    finally:
        event.remove(engine, "commit", listener)
    assert all(isinstance(o, BoardEntry) for o in outcomes), outcomes
    # One commit for the batch, plus each appender thread's empty read transaction at most.
    assert len(commits) <= 1 + len(requests)
    with app.app_context():
        entries, ballots, checkpoints = board_rows(slug)
        election = get_election(slug)
        assert board.verify_chain(election) == []
        assert [e.seq for e in entries] == list(range(1, 9))
        # Arrival order is board order; every outcome is the committed entry.
        assert [e.ballot_hash for e in entries] == [r.ballot_hash for r in requests]
        assert [(o.seq, o.entry_hash) for o in outcomes if isinstance(o, BoardEntry)] == \
            [(e.seq, e.entry_hash) for e in entries]
        assert ballots == {r.ballot_hash for r in requests}
        # record.md §2.3: a checkpoint at every multiple of BOARD_CHECKPOINT_EVERY (3), on the chain.
        heads = {e.seq: e.entry_hash for e in entries}
        # (the one at seq 0 was signed when the polls opened)
        assert [(c["seq"], c["head"]) for c in checkpoints if c["seq"]] == [(3, heads[3]), (6, heads[6])]
        assert all(signing.verify(c, signing.public_key_dict()["public_key"]) for c in checkpoints)
        # A receipt signed for each outcome (after the commit) matches the board.
        for outcome in outcomes:
            assert isinstance(outcome, BoardEntry)
            receipt = board.receipt(election, outcome)
            assert (receipt["seq"], receipt["entry_hash"]) == (outcome.seq, heads[outcome.seq])
        db.session.remove()


def test_two_ballots_of_one_credential_in_one_batch_go_in_arrival_order(env: dict[str, Any]) -> None:
    """Documented rule (docs/operations.md): a batch appends in arrival order, each ballot
    checked against its credential's current ballot *including* the ones before it in the
    batch — what one transaction per ballot in that order would do."""
    app, slug = env["app"], env["slug"]
    (pk, credential), *_ = env["voters"]
    # Both name the same previous (""): the first is appended, the second refused stale.
    a, b = request(credential, "", pk), request(credential, "", pk)
    first = one_batch(app, slug, [a, b])
    assert isinstance(first[0], BoardEntry) and isinstance(first[1], StalePrevious)
    # Chained in advance (c names a, d names c), in one batch: both appended, in order.
    c = request(credential, a.ballot_hash, pk)
    d = request(credential, c.ballot_hash, pk)
    second = one_batch(app, slug, [c, d])
    assert all(isinstance(o, BoardEntry) for o in second), second
    # The same chain arriving the wrong way round: f (naming e) is stale when it is reached.
    e = request(credential, d.ballot_hash, pk)
    f = request(credential, e.ballot_hash, pk)
    third = one_batch(app, slug, [f, e])
    assert isinstance(third[0], StalePrevious) and isinstance(third[1], BoardEntry)
    with app.app_context():
        entries, ballots, _ = board_rows(slug)
        assert board.verify_chain(get_election(slug)) == []
        mine = [x for x in entries if x.credential == credential]
        assert [x.ballot_hash for x in mine] == [a.ballot_hash, c.ballot_hash, d.ballot_hash, e.ballot_hash]
        # Verifier check 19: the credential's ballots chain through ``previous`` in seq order.
        assert [x.previous for x in mine] == ["", a.ballot_hash, c.ballot_hash, d.ballot_hash]
        assert b.ballot_hash not in ballots and f.ballot_hash not in ballots  # refused: no ballot row
        db.session.remove()


def test_a_refusal_fails_only_its_own_ballot(env: dict[str, Any]) -> None:
    app, slug = env["app"], env["slug"]
    (pk1, cred1), (pk2, cred2), (pk3, _) = env["voters"]
    on_board = request()
    assert isinstance(one_batch(app, slug, [on_board])[0], BoardEntry)
    good1 = request(cred1, "", pk1)
    replay = request(ballot=on_board.ballot_json)            # already on the board
    twin = request(ballot=good1.ballot_json)                 # the same ballot twice in the batch
    revoked = request(cred2, "", pk3)                        # not pk3's live credential
    stale = request(cred2, "ab" * 32, pk2)                   # names a ballot that is not current
    good2 = request(cred2, "", pk2)
    outcomes = one_batch(app, slug, [good1, replay, twin, revoked, stale, good2])
    assert isinstance(outcomes[0], BoardEntry) and isinstance(outcomes[5], BoardEntry)
    assert isinstance(outcomes[1], BallotReplayed) and isinstance(outcomes[2], BallotReplayed)
    assert isinstance(outcomes[3], WrongCredential) and isinstance(outcomes[4], StalePrevious)
    assert (outcomes[0].seq, outcomes[5].seq) == (2, 3)  # refused ballots take no seq
    with app.app_context():
        entries, ballots, _ = board_rows(slug)
        assert board.verify_chain(get_election(slug)) == []
        assert [e.ballot_hash for e in entries] == [on_board.ballot_hash, good1.ballot_hash, good2.ballot_hash]
        assert ballots == {e.ballot_hash for e in entries}  # no ballot row of a refused ballot
        db.session.remove()


def _inject_commit_failure(app: Flask, url: str) -> Any:
    """Make the next batch's COMMIT fail for real: on PostgreSQL a deferred constraint trigger
    raises at COMMIT; on SQLite the engine's commit event raises before the driver commits."""
    if url.startswith("postgresql"):
        with app.app_context():
            db.session.execute(text(
                "CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$"))
            db.session.execute(text(
                "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON board_entry "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit()"))
            db.session.commit()
            db.session.remove()

        def undo() -> None:
            with app.app_context():
                db.session.execute(text("DROP TRIGGER fail_at_commit ON board_entry"))
                db.session.commit()
                db.session.remove()
        return undo
    with app.app_context():
        engine = db.engine

    state = {"armed": True}

    def once(conn: Any) -> None:
        if state["armed"] and conn.info.get("wrote_board"):
            state["armed"] = False
            raise OperationalError("COMMIT", {}, Exception("injected commit failure"))

    def mark(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO BOARD_ENTRY"):
            conn.info["wrote_board"] = True

    def clear(conn: Any) -> None:
        conn.info.pop("wrote_board", None)

    event.listen(engine, "before_cursor_execute", mark)
    event.listen(engine, "commit", once)
    event.listen(engine, "rollback", clear)

    def undo_sqlite() -> None:
        event.remove(engine, "before_cursor_execute", mark)
        event.remove(engine, "commit", once)
        event.remove(engine, "rollback", clear)
    return undo_sqlite


def test_a_failed_batch_commit_gives_no_receipt_and_stores_nothing(env: dict[str, Any]) -> None:
    app, slug, url = env["app"], env["slug"], env["url"]
    first = request()
    assert isinstance(one_batch(app, slug, [first])[0], BoardEntry)
    batch = [request() for _ in range(5)]
    undo = _inject_commit_failure(app, url)
    try:
        outcomes = one_batch(app, slug, batch)
    finally:
        undo()
    # Every ballot of the failed batch: an error (503 busy, send again), no entry, no receipt.
    assert all(isinstance(o, BoardWriteFailed) for o in outcomes), outcomes
    with app.app_context():
        entries, ballots, _ = board_rows(slug)
        assert [e.ballot_hash for e in entries] == [first.ballot_hash]
        assert ballots == {first.ballot_hash}
        head = db.session.scalar(select(func.max(BoardEntry.seq)))
        assert head == 1
        db.session.remove()
    # Sent again, the same ballots are accepted, right after the accepted one (no gap).
    again = one_batch(app, slug, batch)
    assert [o.seq for o in again if isinstance(o, BoardEntry)] == [2, 3, 4, 5, 6]
    with app.app_context():
        assert board.verify_chain(get_election(slug)) == []
        db.session.remove()


def test_a_commit_whose_answer_was_lost_keeps_its_receipts(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The database committed but the COMMIT's answer was lost: the leader reads the entries
    back and the ballots get their receipts (they are stored); nothing is appended twice."""
    app, slug = env["app"], env["slug"]
    real_commit = db.session.commit
    state = {"armed": True}

    def commit_then_lose_answer() -> None:
        real_commit()
        if state["armed"] and threading.current_thread() is not threading.main_thread():
            state["armed"] = False
            raise OperationalError("COMMIT", {}, Exception("connection lost after COMMIT"))

    batch = [request() for _ in range(3)]
    batcher = GroupCommit(1.0, 64)
    # Only the leader's commit of the batch loses its answer (every thread has made its first,
    # read-only commit before the leader calls append_many).
    original = board.append_many

    def append_many(election: Any, appends: Any) -> Any:
        monkeypatch.setattr(db.session, "commit", commit_then_lose_answer)
        return original(election, appends)

    monkeypatch.setattr(board, "append_many", append_many)
    try:
        outcomes = one_batch(app, slug, batch, batcher)
    finally:
        monkeypatch.undo()
    assert batcher.failed == 1
    assert all(isinstance(o, BoardEntry) for o in outcomes), outcomes
    with app.app_context():
        entries, _, _ = board_rows(slug)
        assert [(e.seq, e.entry_hash) for e in entries] == \
            [(o.seq, o.entry_hash) for o in outcomes if isinstance(o, BoardEntry)]
        db.session.remove()


def test_batch_settings_are_typed_and_fail_closed() -> None:
    from app.config import Config, ConfigError

    base = {"SSBVOTE_ENV": "test", "SSBVOTE_INSTANCE": "/tmp/ssbvote-test-batch-config"}
    config = Config.from_env({**base, "SSBVOTE_BOARD_BATCH_WINDOW_MS": "20", "SSBVOTE_BOARD_BATCH_MAX": "8"})
    assert (config.board_batch_window_ms, config.board_batch_max) == (20, 8)
    assert (Config.from_env(base).board_batch_window_ms, Config.from_env(base).board_batch_max) == (10, 32)
    for name, value in (("SSBVOTE_BOARD_BATCH_WINDOW_MS", "-1"), ("SSBVOTE_BOARD_BATCH_WINDOW_MS", "101"),
                        ("SSBVOTE_BOARD_BATCH_WINDOW_MS", "5ms"), ("SSBVOTE_BOARD_BATCH_MAX", "0"),
                        ("SSBVOTE_BOARD_BATCH_MAX", "257"), ("SSBVOTE_BOARD_BATCH_MAX", "lots")):
        with pytest.raises(ConfigError, match=name):
            Config.from_env({**base, name: value})
