"""Health check: is the database reachable and is its schema at the newest migration?"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.services.platform import schema


@dataclass(frozen=True)
class HealthReport:
    database: str
    migration_current: str | None
    migration_head: str | None

    @property
    def ok(self) -> bool:
        return self.database == "ok" and self.migration_current == self.migration_head

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "database": self.database,
            "migration": {
                "current": self.migration_current,
                "head": self.migration_head,
                "up_to_date": self.migration_current == self.migration_head,
            },
        }


def check(engine: Engine | None = None) -> HealthReport:
    """Whether the database answers and its schema revision; ``engine`` defaults to the app's."""
    if engine is None:
        engine = db.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        state = schema.state(engine)
    except SQLAlchemyError as exc:
        return HealthReport(f"error: {type(exc).__name__}", None, schema.head_revision())
    return HealthReport("ok", state.current, state.head)
