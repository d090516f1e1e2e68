"""WSGI entry point: ``gunicorn wsgi:app`` (configuration from the environment, see README)."""
from app import create_app

app = create_app()
