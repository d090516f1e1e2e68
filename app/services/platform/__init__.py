"""Platform: the database schema (Alembic), the health check and the server's signing key."""
