"""Election officials: creation (CLI only) and what each role may do."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Official
from app.models.official import OFFICIAL_ROLES
from app.services.administration import audit
from app.services.identity import passwords, totp
from app.services.errors import Conflict, InvalidRequest, NotFound
from crypto.credential import generate_credential, official_key, public_credential

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

#: Permission → roles holding it. Every official view names one (app/auth.py).
PERMISSIONS: dict[str, frozenset[str]] = {
    "view_dashboard": frozenset(OFFICIAL_ROLES),
    "view_audit": frozenset(OFFICIAL_ROLES),
    "propose_poll_action": frozenset(OFFICIAL_ROLES),
    "approve_poll_action": frozenset(OFFICIAL_ROLES),
    "release_voter_account": frozenset(OFFICIAL_ROLES),
    "unlock_voter": frozenset(OFFICIAL_ROLES),
}


@dataclass(frozen=True)
class NewOfficial:
    official: Official
    totp_secret: str
    totp_uri: str
    #: The official credential (docs/protocol.md §13.2, purpose "official"), shown once: only
    #: its public key is stored.  It signs paper-vote lists (docs/record.md §2.4).
    credential: str


def may(official: Official, permission: str) -> bool:
    return official.active and official.role in PERMISSIONS.get(permission, frozenset())


def add(username: str, display_name: str, role: str, password: str, actor: str = "cli") -> NewOfficial:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidRequest("username: 3-64 characters a-z, 0-9, '.', '_' or '-'")
    if role not in OFFICIAL_ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(OFFICIAL_ROLES)}")
    if not display_name.strip():
        raise InvalidRequest("name must not be empty")
    try:
        passwords.check_policy(password, (username,))
    except passwords.PasswordRejected as exc:
        raise InvalidRequest(f"password refused: {exc.reason.replace('_', ' ')} "
                           f"(at least {passwords.MIN_LENGTH} characters, not a common password)") from None
    if db.session.scalar(select(Official.id).where(Official.username == username)) is not None:
        raise Conflict(f"official {username!r} already exists")
    secret = totp.new_secret()
    credential = generate_credential()
    official = Official(username=username, display_name=display_name.strip(), role=role,
                        password_hash=passwords.hash_password(password), totp_secret=secret,
                        totp_last_step=0, active=True, failed_attempts=0, session_epoch=0,
                        public_key=public_credential(official_key(credential)))
    db.session.add(official)
    audit.record(actor, "official_added", username, {"role": role, "public_key": official.public_key})
    db.session.commit()
    return NewOfficial(official, secret, totp.provisioning_uri(secret, f"official:{username}"), credential)


def new_credential(username: str, actor: str = "cli") -> tuple[Official, str]:
    """Give an official a new official credential (a lost one, or an official made before
    version 2): returns it, shown once; only its public key is stored.  An opening that pinned
    the old key must be signed again before polls open (``ssbvote election pin``)."""
    official = db.session.scalar(select(Official).where(Official.username == username.strip().lower()))
    if official is None:
        raise NotFound(f"no official {username!r}")
    credential = generate_credential()
    official.public_key = public_credential(official_key(credential))
    audit.record(actor, "official_credential", official.username, {"public_key": official.public_key})
    db.session.commit()
    return official, credential
