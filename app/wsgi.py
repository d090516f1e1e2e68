"""WSGI entry point: ``gunicorn app.wsgi:app`` (configuration from the environment, see README).

Importable from the installed package; the checkout's root ``wsgi.py`` re-exports it."""
import logging

from app import create_app

# The app's own operational lines (e.g. the verifier thread's batch statistics, logger
# "ssbvote.verification") go to stderr, which gunicorn writes to its error log.
_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"))
logging.getLogger("ssbvote").addHandler(_handler)
logging.getLogger("ssbvote").setLevel(logging.INFO)

app = create_app()
