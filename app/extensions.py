"""Flask extensions, created unbound and attached in :func:`app.create_app`."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.models.base import Base

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
babel = Babel()
F = TypeVar("F", bound=Callable[..., Any])


def csrf_exempt(view: F) -> F:
    """:meth:`CSRFProtect.exempt`, typed (flask_wtf ships no types): for views authorised by
    something other than a session (a capability token) or that change nothing."""
    csrf.exempt(view)
    return view


limiter = Limiter(key_func=get_remote_address, default_limits=[])
