"""Alembic migrations: the chain goes up, down and up again on SQLite and PostgreSQL, and the
models match what the migrations build (autogenerate finds nothing to add)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

import app.models  # noqa: F401
from app.models.base import Base
from app.services.platform import schema


def tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(any_db_url: str) -> None:
    schema.upgrade(any_db_url)
    state = schema.state_for_url(any_db_url)
    assert state.up_to_date and state.current == schema.head_revision()
    assert set(Base.metadata.tables) <= tables(any_db_url)
    schema.downgrade(any_db_url, "base")
    assert tables(any_db_url) == set()
    assert schema.state_for_url(any_db_url).current is None
    schema.upgrade(any_db_url)
    assert schema.state_for_url(any_db_url).up_to_date


def test_models_match_migrations(any_db_url: str) -> None:
    schema.upgrade(any_db_url)
    engine = create_engine(any_db_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_each_step_downgrades(any_db_url: str) -> None:
    """Walk the chain one revision at a time, down and up, so every downgrade() runs."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(schema.alembic_config(any_db_url))
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        schema.upgrade(any_db_url, revision)
        schema.downgrade(any_db_url, "-1")
        schema.upgrade(any_db_url, revision)
    assert schema.state_for_url(any_db_url).current == revisions[-1]


def test_0006_gives_existing_proposals_a_lifetime_and_downgrades_expired(any_db_url: str) -> None:
    """Proposals made before 0006 expire 24 h after they were proposed, except that a decision
    already taken stays valid; going back, an expired proposal becomes a cancelled one."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import MetaData, insert, select, update

    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)

    def utc(value: datetime) -> datetime:  # SQLite hands back naive UTC, PostgreSQL aware
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value

    schema.upgrade(any_db_url, "0005_ballot_storage")
    engine = create_engine(any_db_url, poolclass=pool.NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine, only=["election", "official", "pending_action"])
        election, official, pending = (meta.tables[n] for n in ("election", "official",
                                                                "pending_action"))
        with engine.begin() as conn:
            conn.execute(insert(election).values(
                id=1, slug="e", election_id="e", title_th="t", title_en="t", opens_at=t0,
                closes_at=t0 + timedelta(days=7), manifest="{}", status="draft", created_at=t0))
            for pk in (1, 2):
                conn.execute(insert(official).values(
                    id=pk, username=f"o{pk}", display_name="o", role="admin", password_hash="x",
                    totp_secret="x", totp_last_step=0, active=True, created_at=t0))
            common = {"election_pk": 1, "action": "open_polls", "proposer_pk": 1,
                      "proposed_at": t0}
            conn.execute(insert(pending).values(id=1, state="pending", **common))
            conn.execute(insert(pending).values(id=2, state="approved", decider_pk=2,
                                                decided_at=t0 + timedelta(hours=30), **common))
            conn.execute(insert(pending).values(id=3, state="cancelled", decider_pk=2,
                                                decided_at=t0 + timedelta(hours=1), **common))
        schema.upgrade(any_db_url)
        meta = MetaData()
        meta.reflect(engine, only=["pending_action"])
        pending = meta.tables["pending_action"]
        with engine.begin() as conn:
            expiry = {row.id: utc(row.expires_at) for row in conn.execute(select(pending))}
            conn.execute(update(pending).where(pending.c.id == 1).values(state="expired"))
        assert expiry == {1: t0 + timedelta(hours=24),
                          2: t0 + timedelta(hours=30, seconds=1),
                          3: t0 + timedelta(hours=24)}
        schema.downgrade(any_db_url, "0005_ballot_storage")
        meta = MetaData()
        meta.reflect(engine, only=["pending_action"])
        pending = meta.tables["pending_action"]
        with engine.connect() as conn:
            states = dict(conn.execute(select(pending.c.id, pending.c.state)).all())
        assert states == {1: "cancelled", 2: "approved", 3: "cancelled"}
    finally:
        engine.dispose()


def test_0007_moves_ballots_to_their_own_table_and_back(any_db_url: str) -> None:
    """Board ballots written before 0007 are found in board_ballot after it (by election and
    hash), and are back in board_entry after a downgrade."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import MetaData, insert, select

    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
    schema.upgrade(any_db_url, "0006_throttle_expiry")
    engine = create_engine(any_db_url, poolclass=pool.NullPool)
    ballots = {f"{seq:064x}": '{"ciphertexts":["%x"]}' % seq for seq in (1, 2, 3)}
    try:
        meta = MetaData()
        meta.reflect(engine, only=["election", "board_entry"])
        election, entry = meta.tables["election"], meta.tables["board_entry"]
        with engine.begin() as conn:
            for pk in (1, 2):
                conn.execute(insert(election).values(
                    id=pk, slug=f"e{pk}", election_id=f"e{pk}", title_th="t", title_en="t", opens_at=t0,
                    closes_at=t0 + timedelta(days=7), manifest="{}", status="open", created_at=t0))
            for seq, (digest, text) in enumerate(ballots.items(), start=1):
                conn.execute(insert(entry).values(
                    election_pk=1 + seq % 2, seq=seq, pseudonym="p", contest="c", ballot_hash=digest,
                    ballot=text, cast_at="t", prev_hash=f"prev{seq}", entry_hash=f"h{seq}"))
        schema.upgrade(any_db_url)
        meta = MetaData()
        meta.reflect(engine, only=["board_entry", "board_ballot"])
        assert "ballot" not in meta.tables["board_entry"].c
        stored = meta.tables["board_ballot"]
        with engine.connect() as conn:
            moved = {(r.election_pk, r.ballot_hash): r.ballot for r in conn.execute(select(stored))}
        assert moved == {(1 + seq % 2, digest): text
                         for seq, (digest, text) in enumerate(ballots.items(), start=1)}
        schema.downgrade(any_db_url, "0006_throttle_expiry")
        meta = MetaData()
        meta.reflect(engine, only=["board_entry"])
        assert "board_ballot" not in tables(any_db_url)
        with engine.connect() as conn:
            back = {r.ballot_hash: r.ballot for r in conn.execute(select(meta.tables["board_entry"]))}
        assert back == ballots
    finally:
        engine.dispose()


def test_0009_entries_become_ballot_entries_and_audits_block_the_way_back(any_db_url: str) -> None:
    """Record format version 3 (issue 16): entries written under 0008 are ballot entries without
    a seed after 0009, and receipt_check (the seed-based receipt check) is gone; back at 0008 the
    table returns empty — unless the board holds audit entries, which version 2 cannot express."""
    from datetime import datetime, timedelta, timezone

    import pytest
    from sqlalchemy import MetaData, insert, select, update

    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
    schema.upgrade(any_db_url, "0008_credentials")
    engine = create_engine(any_db_url, poolclass=pool.NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine, only=["election", "board_entry", "receipt_check"])
        election, entry, check = (meta.tables[n] for n in ("election", "board_entry", "receipt_check"))
        with engine.begin() as conn:
            conn.execute(insert(election).values(
                id=1, slug="e", election_id="e", title_th="t", title_en="t", opens_at=t0,
                closes_at=t0 + timedelta(days=7), manifest="{}", status="open", created_at=t0))
            for seq in (1, 2):
                conn.execute(insert(entry).values(
                    election_pk=1, seq=seq, pseudonym="p", contest="c", ballot_hash=f"{seq:064x}", cast_at="t",
                    prev_hash=f"prev{seq}", entry_hash=f"h{seq}", credential="c" * 64, previous="",
                    signature="s" * 128))
            conn.execute(insert(check).values(election_pk=1, seq=1, token_hash="t" * 64, uses=0))
        schema.upgrade(any_db_url)
        assert "receipt_check" not in tables(any_db_url)
        meta = MetaData()
        meta.reflect(engine, only=["board_entry"])
        entry = meta.tables["board_entry"]
        with engine.begin() as conn:
            assert conn.execute(select(entry.c.seq, entry.c.kind, entry.c.seed).order_by(entry.c.seq)).all() == [
                (1, "ballot", ""), (2, "ballot", "")]
            conn.execute(update(entry).where(entry.c.seq == 2).values(kind="audit", seed="5e" * 32))
        with pytest.raises(RuntimeError, match="audit entries"):
            schema.downgrade(any_db_url, "0008_credentials")
        with engine.begin() as conn:
            conn.execute(update(entry).where(entry.c.seq == 2).values(kind="ballot", seed=""))
        schema.downgrade(any_db_url, "0008_credentials")
        assert "receipt_check" in tables(any_db_url)
        meta = MetaData()
        meta.reflect(engine, only=["board_entry"])
        assert "kind" not in meta.tables["board_entry"].c and "seed" not in meta.tables["board_entry"].c
    finally:
        engine.dispose()


def test_0012_routes_existing_roll_entries_and_gives_seats(any_db_url: str) -> None:
    """Rows made before 0012 (format-1 elections): each contest gets seats = max_selections,
    each roll entry the route of its electorate's contest, each credential that contest's id;
    a downgrade is refused while an electorate has two contests (a format-2 election)."""
    from datetime import datetime, timedelta, timezone

    import pytest
    from sqlalchemy import MetaData, func, insert, select
    from sqlalchemy import text as sa_text

    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
    schema.upgrade(any_db_url, "0011_activation")
    engine = create_engine(any_db_url, poolclass=pool.NullPool)
    try:
        meta = MetaData()
        meta.reflect(engine, only=["election", "contest", "candidate", "roll_entry", "voter_credential"])
        election, contest, candidate, roll, credential = (meta.tables[n] for n in (
            "election", "contest", "candidate", "roll_entry", "voter_credential"))
        with engine.begin() as conn:
            conn.execute(insert(election).values(
                id=1, slug="e", election_id="e", title_th="t", title_en="t", opens_at=t0,
                closes_at=t0 + timedelta(days=7), manifest="{}", status="draft", created_at=t0))
            for pk, (code, electorate, k) in enumerate([("ins", "insured", 7), ("emp", "employer", 3)], 1):
                conn.execute(insert(contest).values(id=pk, election_pk=1, code=code, electorate=electorate,
                                                    max_selections=k, title_th="t", title_en="t", position=pk))
            conn.execute(insert(candidate).values(id=1, contest_pk=1, team_pk=None, code="c", ballot_number=1,
                                                  name_th="n", name_en="n", position=0))
            for pk, electorate in ((1, "insured"), (2, "employer")):
                conn.execute(insert(roll).values(id=pk, election_pk=1, electorate=electorate, voter_key=f"k{pk}",
                                                 attribute="a", display_name="", pseudonym=f"p{pk}"))
                conn.execute(insert(credential).values(id=pk, election_pk=1, roll_entry_pk=pk,
                                                       credential=f"{pk:064x}", revoked=False, created_at=t0))
        schema.upgrade(any_db_url)
        meta = MetaData()
        meta.reflect(engine, only=["contest", "roll_entry", "voter_credential"])
        contest, roll, credential = (meta.tables[n] for n in ("contest", "roll_entry", "voter_credential"))
        with engine.begin() as conn:
            assert dict(conn.execute(select(contest.c.code, contest.c.seats)).all()) == {"ins": 7, "emp": 3}
            assert dict(conn.execute(select(roll.c.id, roll.c.contest_pk)).all()) == {1: 1, 2: 2}
            assert dict(conn.execute(select(credential.c.id, credential.c.contest)).all()) == {1: "ins", 2: "emp"}
            # SQLite rebuilt contest and roll_entry: the rows referencing them are kept
            assert conn.execute(select(func.count()).select_from(candidate)).scalar() == 1
            conn.execute(insert(contest).values(id=3, election_pk=1, code="ins-2", electorate="insured",
                                                max_selections=1, seats=2, title_th="t", title_en="t",
                                                position=3))
        with pytest.raises(Exception, match="two contests for one electorate"):
            schema.downgrade(any_db_url, "0011_activation")
        with engine.begin() as conn:
            conn.execute(contest.delete().where(contest.c.id == 3))
        schema.downgrade(any_db_url, "0011_activation")
        assert schema.state_for_url(any_db_url).current == "0011_activation"
        with engine.connect() as conn:
            assert conn.execute(sa_text("SELECT COUNT(*) FROM voter_credential")).scalar() == 2
            assert conn.execute(sa_text("SELECT COUNT(*) FROM candidate")).scalar() == 1
    finally:
        engine.dispose()


def test_0014_stores_ballots_uncompressed_on_postgresql(any_db_url: str) -> None:
    """PostgreSQL: the ballot column is STORAGE EXTERNAL (no pglz attempt per ~0.9 MB ballot)
    after 0014, EXTENDED (the default) again below it; SQLite has no per-column storage."""
    if not any_db_url.startswith("postgresql"):
        schema.upgrade(any_db_url)
        assert schema.state_for_url(any_db_url).up_to_date
        return

    def storage() -> str:
        engine = create_engine(any_db_url, poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                return str(conn.exec_driver_sql(
                    "SELECT attstorage FROM pg_attribute WHERE attrelid = 'board_ballot'::regclass "
                    "AND attname = 'ballot'").scalar_one())
        finally:
            engine.dispose()

    schema.upgrade(any_db_url)
    schema.downgrade(any_db_url, "0013_official_decisions")
    assert storage() == "x"  # extended: compressible, out of line
    schema.upgrade(any_db_url)
    assert storage() == "e"  # external: out of line, never compressed
    schema.downgrade(any_db_url, "0013_official_decisions")
    assert storage() == "x"
