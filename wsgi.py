"""Shim for ``gunicorn wsgi:app`` from a checkout; the entry point is :mod:`app.wsgi`."""
from app.wsgi import app

__all__ = ["app"]
