"""Read-only look-ups of elections for the public and officials' pages."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Election
from app.services.errors import NotFound


def list_elections() -> list[Election]:
    return list(db.session.scalars(select(Election).order_by(Election.opens_at.desc())))


def election_by_id(election_pk: int) -> Election:
    """The election with database id ``election_pk`` (officials' URLs), or :class:`NotFound`."""
    election = db.session.get(Election, election_pk)
    if election is None:
        raise NotFound(f"no election with id {election_pk}")
    return election
