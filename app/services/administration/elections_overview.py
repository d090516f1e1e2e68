"""Read-only summaries of elections for public pages."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Election


def list_elections() -> list[Election]:
    return list(db.session.scalars(select(Election).order_by(Election.opens_at.desc())))
