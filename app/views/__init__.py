"""Blueprints, one per audience. ``register`` attaches them all to the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.views import public

    app.register_blueprint(public.bp)
