"""Voter accounts: registration against the roll, TOTP enrolment data, official TOTP reset."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Official, VoterAccount
from app.services.administration import audit
from app.services.identity import passwords, principals, signin, throttle, totp
from app.services.errors import InvalidRequest, NotFound
from app.services.identity.identifiers import national_id_is_valid

#: Reasons a registration is refused; views turn each into a translated message.
REGISTRATION_REASONS = ("invalid_id", "invalid_attribute", "not_on_roll", "already_registered")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_THAI_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
#: Years above this are Buddhist Era (พ.ศ. = ค.ศ. + 543), as Thai people usually write them.
_BUDDHIST_ERA_FROM = 2400


class RegistrationRefused(InvalidRequest):
    """``reason``: invalid_id, invalid_attribute, not_on_roll, already_registered."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AccountNotFound(NotFound):
    """No account of this voter (an official's TOTP reset)."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str


def normalise_date_of_birth(value: str) -> str | None:
    """YYYY-MM-DD (date input) or DD/MM/YYYY, Buddhist or Common Era; None if not a date."""
    value = value.strip()
    match = _ISO_DATE.match(value)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _THAI_DATE.match(value)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    if year >= _BUDDHIST_ERA_FROM:
        year -= 543
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def register(electorate: str, voter_key: str, attribute: str, password: str,
             limits: throttle.Limits, now: datetime,
             client: throttle.Client = throttle.NO_CLIENT,
             identifier_limits: throttle.Limits | None = None) -> VoterAccount:
    """Create the account of the roll entry that ``voter_key`` + ``attribute`` identify.

    ``attribute`` is the date of birth (insured) or the authorised person's national ID
    (employer). The password must already match its confirmation (the view checks).
    Raises :class:`RegistrationRefused` or :class:`passwords.PasswordRejected`.

    Checks of ``attribute`` against the roll are counted per identifier (``limits``, e.g. 10 a
    day), on or off the roll alike; beyond the limit the answer is ``not_on_roll`` without
    looking, so guessing a date of birth from many addresses learns nothing more.
    """
    key = principals.normalise_key(electorate, voter_key)
    if electorate not in principals.VOTER_KINDS or not principals.key_is_well_formed(electorate, key):
        raise RegistrationRefused("invalid_id")
    if electorate == "insured":
        claimed = normalise_date_of_birth(attribute)
    else:
        claimed = principals.normalise_key("insured", attribute)
        claimed = claimed if national_id_is_valid(claimed) else None
    if claimed is None:
        raise RegistrationRefused("invalid_attribute")
    passwords.check_policy(password, (key, claimed, claimed.replace("-", "")))
    counter = registration_counter(electorate, key, client)
    everyone = registration_counter(electorate, key)
    # Reserved before the check, under the counters' row locks: concurrent guesses count too.
    # Per (identifier, client) with ``limits``; over every client with ``identifier_limits``
    # (only a guesser spread over many addresses reaches it; an official can lift it).
    limited = throttle.reserve([(counter, limits), (everyone, identifier_limits or limits)],
                               now) is not None
    entry = None if limited else principals.roll_entry_for(electorate, key, registering=True)
    # Same answer for "not on the roll", "wrong date of birth" and "too many attempts": the
    # roll stays private and a guesser cannot tell when guessing has stopped working.
    if entry is None or not hmac.compare_digest(entry.attribute.encode(), claimed.encode()):
        raise RegistrationRefused("not_on_roll")
    if db.session.query(VoterAccount.id).filter_by(roll_entry_pk=entry.id).first():
        raise RegistrationRefused("already_registered")
    account = VoterAccount(
        roll_entry=entry,
        password_hash=passwords.hash_password(password),
        totp_secret=totp.new_secret(),
        totp_confirmed=False,
        totp_last_step=0,
        failed_attempts=0,
        session_epoch=0,
    )
    db.session.add(account)
    throttle.clear_counter(counter)
    throttle.refund(everyone)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent registration of the same roll entry won
        db.session.rollback()
        raise RegistrationRefused("already_registered") from None
    return account


def registration_counter(electorate: str, normalised_key: str,
                         client: throttle.Client | None = None) -> str:
    """The key of the registration-attempt counter of an identifier, on the roll or not: of
    one client, or (``client`` None) of every client together (docs/accounts.md §3)."""
    scope = client.scope(electorate, None) if client is not None else None
    return throttle.counter_key("register", electorate, normalised_key, scope)


def enrolment(account: VoterAccount) -> Enrolment:
    """What the enrolment page shows: the secret as text and as a QR code."""
    uri = totp.provisioning_uri(account.totp_secret, principals.display_label(account))
    return Enrolment(account.totp_secret, uri, totp.qr_data_uri(uri))


def reset_totp(official: Official, electorate: str, voter_key: str, reason: str) -> VoterAccount:
    """A lost authenticator: new secret, enrolment again at next sign-in, all sessions revoked.

    Audited with the voter's pseudonym (never the national ID) and the official's reason.
    """
    account = principals.find(electorate, voter_key)
    if not isinstance(account, VoterAccount):
        raise AccountNotFound("no account")
    account.totp_secret = totp.new_secret()
    account.totp_confirmed = False
    account.totp_last_step = 0
    signin.bump_epoch(account)
    account.failed_attempts = 0
    account.failure_window_start = None
    account.locked_until = None
    # Unlock the identifier too (its counter outlives successful sign-ins, not a reset).
    throttle.clear_identifier("signin", electorate, principals.login_key(account))
    audit.record(f"official:{official.username}", "voter_totp_reset",
                 account.roll_entry.pseudonym, {"electorate": electorate, "reason": reason})
    db.session.commit()
    return account
