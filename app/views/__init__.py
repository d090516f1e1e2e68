"""Blueprints, one per audience. ``register`` attaches them all to the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.views import api, ballot, results, employer, errors, observer, official, public, voter

    app.register_blueprint(public.bp)
    app.register_blueprint(voter.bp)
    app.register_blueprint(employer.bp)
    app.register_blueprint(official.bp)
    app.register_blueprint(ballot.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(observer.api)
    app.register_blueprint(observer.page)
    errors.register(app)
