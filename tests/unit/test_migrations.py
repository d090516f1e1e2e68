"""Alembic migrations: the chain goes up, down and up again on SQLite and PostgreSQL, and the
models match what the migrations build (autogenerate finds nothing to add)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, pool

import app.models  # noqa: F401
from app.models.base import Base
from app.services import schema


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
