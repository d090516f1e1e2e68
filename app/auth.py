"""Sessions and authorization for every audience, in one place (OWASP ASVS V3, V4).

The session is Flask's signed cookie. It carries the principal's kind, id and *session epoch*;
the epoch is also stored on the account, and a session whose epoch differs is dead. Signing in,
logging out and an official's TOTP reset all bump the stored epoch, so they revoke every
earlier cookie, including copies an attacker may hold.

For views::

    @bp.get("/vote")
    @auth.login_required("voter")          # insured or employer; "insured", "employer" too
    def ballot():
        voter = auth.current_voter()       # .electorate, .pseudonym, .election, .contest
        ...

    @auth.official_required("approve_poll_action")
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from itsdangerous import BadData, URLSafeTimedSerializer
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Contest, Election, Official, RollEntry, VoterAccount
from app.models.base import utcnow
from app.services.administration import officials
from app.services.identity import principals, throttle
from app.services.errors import NotSignedIn, SessionExpired
from app.services.identity.signin import Ticket

F = TypeVar("F", bound=Callable[..., Any])

SESSION_KEY = "auth"
PENDING_KEY = "auth_pending"
_CACHE = "ssbvote.auth.principal"
_EXPIRED = "ssbvote.auth.expired"
#: Seconds a password-checked sign-in may wait for its TOTP code.
PENDING_SECONDS = 300
LOGIN_ENDPOINTS = {"insured": "voter.login", "employer": "employer.login",
                   "official": "official.login"}
HOME_ENDPOINTS = {"insured": "voter.home", "employer": "employer.home",
                  "official": "official.dashboard"}

DEFAULTS: dict[str, Any] = {
    "AUTH_MAX_FAILURES_PER_HOUR": 100,
    "AUTH_BACKOFF_FREE_FAILURES": 5,
    "AUTH_BACKOFF_MAX_SECONDS": 60,
    #: Password failures per identifier summed over every client (a guesser spread over many
    #: addresses): back-off after the free ones, a cap per hour. A remembered device of the
    #: account is never held by this lock (docs/accounts.md §3).
    "AUTH_IDENTIFIER_MAX_FAILURES_PER_HOUR": 100,
    "AUTH_IDENTIFIER_FREE_FAILURES": 20,
    "AUTH_IDENTIFIER_MAX_BACKOFF_SECONDS": 300,
    #: Registration checks per (identifier, client), on the roll or not, in the window; and
    #: per identifier over every client (only many addresses reach it; officials can unlock).
    "AUTH_REGISTRATION_MAX_FAILURES": 10,
    "AUTH_REGISTRATION_IDENTIFIER_MAX_FAILURES": 100,
    "AUTH_REGISTRATION_WINDOW_HOURS": 24,
    #: Days a browser stays a remembered device after a complete sign-in.
    "AUTH_DEVICE_DAYS": 180,
    #: Per client IP, shared by every sign-in and registration POST (Flask-Limiter syntax).
    "AUTH_IP_RATE_LIMIT": "30 per minute; 300 per hour",
    "AUTH_SESSION_ABSOLUTE_HOURS": 12,
    #: Time source (injected so tests can move the clock).
    "AUTH_CLOCK": utcnow,
}


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)

    @app.before_request
    def forget_cached_csrf_token() -> None:
        # Flask-WTF caches the token on ``g``, which lives as long as the app context; a CLI or
        # test keeping one app context across requests (and clients) must not reuse it.
        g.pop("csrf_token", None)


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.config["AUTH_CLOCK"]
    return clock()


def limits() -> throttle.Limits:
    """Sign-in failures, per account and per identifier (one-hour window)."""
    cfg = current_app.config
    return throttle.Limits(max_per_window=int(cfg["AUTH_MAX_FAILURES_PER_HOUR"]),
                           free=int(cfg["AUTH_BACKOFF_FREE_FAILURES"]),
                           max_backoff_seconds=int(cfg["AUTH_BACKOFF_MAX_SECONDS"]))


def identifier_limits() -> throttle.Limits:
    """Password failures per identifier over every client (one-hour window)."""
    cfg = current_app.config
    return throttle.Limits(max_per_window=int(cfg["AUTH_IDENTIFIER_MAX_FAILURES_PER_HOUR"]),
                           free=int(cfg["AUTH_IDENTIFIER_FREE_FAILURES"]),
                           max_backoff_seconds=int(cfg["AUTH_IDENTIFIER_MAX_BACKOFF_SECONDS"]))


def registration_identifier_limits() -> throttle.Limits:
    """Registration checks per identifier over every client: a hard cap for the window."""
    cfg = current_app.config
    cap = int(cfg["AUTH_REGISTRATION_IDENTIFIER_MAX_FAILURES"])
    return throttle.Limits(max_per_window=cap, free=cap,
                           window=timedelta(hours=int(cfg["AUTH_REGISTRATION_WINDOW_HOURS"])))


def client() -> throttle.Client:
    """This request's client for throttling: its address (after SSBVOTE_PROXY_HOPS proxies)
    and the remembered device its cookie proves, if any."""
    return throttle.Client(request.remote_addr or "-", remembered_device())


# --- remembered devices ---------------------------------------------------------------------
_DEVICE_SALT = "ssbvote/remembered-device/v1"


def device_cookie_name() -> str:
    production = current_app.config["SSBVOTE"].is_production
    return ("__Host-" if production else "") + "ssbvote_device"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def remembered_device() -> tuple[str, int, str] | None:
    """(kind, principal id, device id) of a valid remembered-device cookie, else None. Signed
    with the session key: nobody can make one for an account they never signed in to."""
    raw = request.cookies.get(device_cookie_name())
    if not raw or len(raw) > 512:
        return None
    max_age = int(current_app.config["AUTH_DEVICE_DAYS"]) * 86400
    try:
        data = _device_serializer().loads(raw, max_age=max_age)
        kind, principal_id, device = str(data["k"]), int(data["p"]), str(data["d"])
    except (BadData, KeyError, TypeError, ValueError):
        return None
    return (kind, principal_id, device) if kind in principals.KINDS else None


def _remember_device(kind: str, principal_id: int) -> None:
    """After a complete sign-in: this browser becomes a remembered device of the account, so
    a stranger's failures on the account's identifier never lock it (docs/accounts.md §3)."""
    known = remembered_device()
    device = known[2] if known is not None and known[:2] == (kind, principal_id) \
        else secrets.token_urlsafe(16)
    value = _device_serializer().dumps({"k": kind, "p": principal_id, "d": device})
    production = current_app.config["SSBVOTE"].is_production
    max_age = int(current_app.config["AUTH_DEVICE_DAYS"]) * 86400

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(device_cookie_name(), value, max_age=max_age, path="/",
                            secure=production, httponly=True, samesite="Lax")
        return response


def registration_limits() -> throttle.Limits:
    """Registration checks per (identifier, client): no back-off, a hard cap for the window."""
    cfg = current_app.config
    cap = int(cfg["AUTH_REGISTRATION_MAX_FAILURES"])
    return throttle.Limits(max_per_window=cap, free=cap,
                           window=timedelta(hours=int(cfg["AUTH_REGISTRATION_WINDOW_HOURS"])))


def ip_rate_limit() -> str:
    return str(current_app.config["AUTH_IP_RATE_LIMIT"])


# --- session lifecycle ----------------------------------------------------------------------
def _fresh_session() -> None:
    """Drop everything in the session except the language (session fixation defence)."""
    lang = session.get("lang")
    session.clear()
    # The CSRF token lived in the old session; let Flask-WTF mint a new one (its cache is g).
    g.pop("csrf_token", None)
    if lang:
        session["lang"] = lang


def begin_second_step(ticket: Ticket) -> None:
    _fresh_session()
    session[PENDING_KEY] = {"kind": ticket.kind, "id": ticket.principal_id,
                            "epoch": ticket.epoch, "enrol": ticket.needs_enrolment,
                            "at": int(now().timestamp())}


def second_step(kind: str) -> Ticket | None:
    """The password-checked ticket waiting for its code, if recent and of this kind."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or data.get("kind") != kind:
        return None
    if int(now().timestamp()) - int(data.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    return Ticket(kind, int(data["id"]), int(data["epoch"]), bool(data["enrol"]))


def start_session(kind: str, principal_id: int, epoch: int) -> None:
    """A new session after a complete sign-in: new random id, new epoch (rotation)."""
    _fresh_session()
    session.permanent = True  # lifetime = idle timeout (PERMANENT_SESSION_LIFETIME)
    stamp = int(now().timestamp())
    session[SESSION_KEY] = {"kind": kind, "id": principal_id, "epoch": epoch,
                            "sid": secrets.token_urlsafe(18), "born": stamp, "seen": stamp}
    _remember_device(kind, principal_id)


def end_session() -> None:
    data = session.get(SESSION_KEY)
    if isinstance(data, dict):
        from app.services.identity import signin

        principal = _load_valid(data, touch=False)
        if principal is not None:
            signin.end_sessions(data["kind"], data["id"])
    _fresh_session()


def _load_valid(data: dict[str, Any], touch: bool = True) -> principals.Principal | None:
    stamp = int(now().timestamp())
    idle = current_app.config["SSBVOTE"].session_idle_minutes * 60
    absolute = int(current_app.config["AUTH_SESSION_ABSOLUTE_HOURS"]) * 3600
    try:
        kind, pid, epoch = data["kind"], int(data["id"]), int(data["epoch"])
        seen, born = int(data["seen"]), int(data["born"])
    except (KeyError, TypeError, ValueError):
        return None
    if stamp - seen > idle or stamp - born > absolute:
        request.environ[_EXPIRED] = True
        return None
    principal = principals.load(kind, pid)
    if principal is None or principal.session_epoch != epoch:
        return None
    if touch and stamp != seen:
        data["seen"] = stamp
        session[SESSION_KEY] = data
    return principal


def current_principal() -> tuple[str, principals.Principal] | None:
    """(kind, principal) of a live session, else None (a dead session is cleared)."""
    # Cached per request (not on ``g``: an app context may outlive many requests).
    if _CACHE in request.environ:
        return request.environ[_CACHE]  # type: ignore[no-any-return]
    data = session.get(SESSION_KEY)
    result = None
    if isinstance(data, dict):
        principal = _load_valid(data)
        if principal is None:
            _fresh_session()
        else:
            result = (str(data["kind"]), principal)
    request.environ[_CACHE] = result
    return result


# --- the current voter ----------------------------------------------------------------------
@dataclass(frozen=True)
class CurrentVoter:
    """The signed-in voter as the ballot and cast API need them. No national ID in here."""

    account: VoterAccount

    @property
    def roll_entry(self) -> RollEntry:
        return self.account.roll_entry

    @property
    def electorate(self) -> str:
        return self.account.roll_entry.electorate

    @property
    def pseudonym(self) -> str:
        return self.account.roll_entry.pseudonym

    @property
    def display_name(self) -> str:
        return self.account.roll_entry.display_name

    @property
    def election(self) -> Election:
        election = db.session.get(Election, self.account.roll_entry.election_pk)
        assert election is not None  # roll entries cascade with their election
        return election

    @property
    def contest(self) -> Contest | None:
        """The voter's contest: their roll entry's route (docs/manifest.md §4.2, §4.4)."""
        return self.account.roll_entry.contest


def current_voter() -> CurrentVoter | None:
    found = current_principal()
    if found is None or found[0] not in principals.VOTER_KINDS:
        return None
    assert isinstance(found[1], VoterAccount)
    return CurrentVoter(found[1])


def current_official() -> Official | None:
    found = current_principal()
    if found is None or found[0] != "official":
        return None
    assert isinstance(found[1], Official)
    return found[1]


# --- decorators -----------------------------------------------------------------------------
def login_required(kind: str, api: bool = False) -> Callable[[F], F]:
    """Require a live session of ``kind``: insured, employer, voter (either) or official.

    Not signed in: redirect to the sign-in page (``api=True``: 401 JSON).
    Signed in as someone else: 403.
    """
    allowed = principals.VOTER_KINDS if kind == "voter" else (kind,)
    if not set(allowed) <= set(principals.KINDS):
        raise ValueError(f"unknown principal kind {kind!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            found = current_principal()
            if found is None:
                if api:  # 401 {"error": "authentication_required" | "session_expired"} (app/views/errors.py)
                    if request.environ.get(_EXPIRED):
                        raise SessionExpired("the session ended")
                    raise NotSignedIn("authentication required")
                if request.environ.get(_EXPIRED):
                    flash(_l("Your session has expired. Please sign in again."), "info")
                else:
                    flash(_l("Please sign in to continue."), "info")
                target = LOGIN_ENDPOINTS.get(kind, "voter.login")
                return redirect(url_for(target))
            if found[0] not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def official_required(permission: str) -> Callable[[F], F]:
    """Require a signed-in official whose role holds ``permission`` (app/services/administration/officials)."""
    if permission not in officials.PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            official = current_official()
            if official is None or not officials.may(official, permission):
                abort(403)
            return view(*args, **kwargs)

        return login_required("official")(wrapped)  # type: ignore[return-value]

    return decorator


def has_live_session() -> bool:
    """A principal is signed in on this request (the session is not over)."""
    return current_principal() is not None


def session_expired() -> bool:
    """This request came with a session that ran out (idle or absolute timeout)."""
    current_principal()
    return bool(request.environ.get(_EXPIRED))


def session_seconds_left() -> int:
    """Seconds until the live session ends if nothing happens (idle or absolute timeout,
    whichever first); 0 without a live session. Reading it counts as activity."""
    if current_principal() is None:
        return 0
    data = session.get(SESSION_KEY)
    assert isinstance(data, dict)
    idle = int(current_app.config["SSBVOTE"].session_idle_minutes) * 60
    absolute = int(current_app.config["AUTH_SESSION_ABSOLUTE_HOURS"]) * 3600
    stamp = int(now().timestamp())
    return max(0, min(int(data["seen"]) + idle, int(data["born"]) + absolute) - stamp)


def session_id() -> str | None:
    """The random id of the current session (changes at every sign-in); for logs and tests."""
    data = session.get(SESSION_KEY)
    return data.get("sid") if isinstance(data, dict) else None
