"""Alembic migrations for the SSB Vote database (run through ``ssbvote db upgrade``)."""
