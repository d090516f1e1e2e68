"""Voter accounts: registration and recovery proved by an activation code or ThaiD, TOTP
enrolment data (docs/accounts.md §9–§10).  Release by two officials: release.py."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import RollEntry, VoterAccount
from app.services.administration import audit
from app.services.identity import activation, notify, passwords, principals, signin, throttle, totp
from app.services.errors import InvalidRequest, NotFound

#: Reasons a registration is refused; views turn each into a translated message.
REGISTRATION_REASONS = ("invalid_id", "invalid_code", "not_on_roll", "already_registered",
                        "no_account")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_THAI_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
#: Years above this are Buddhist Era (พ.ศ. = ค.ศ. + 543), as Thai people usually write them.
_BUDDHIST_ERA_FROM = 2400


class RegistrationRefused(InvalidRequest):
    """``reason``: one of :data:`REGISTRATION_REASONS`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class AccountNotFound(NotFound):
    """No account of this voter (an official's release)."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str

    @property
    def grouped_secret(self) -> str:
        return totp.grouped(self.secret)


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


def register(electorate: str, voter_key: str, code: str, password: str,
             limits: throttle.Limits, now: datetime,
             client: throttle.Client = throttle.NO_CLIENT,
             identifier_limits: throttle.Limits | None = None) -> VoterAccount:
    """Create the account of the roll entry ``voter_key`` names, proved by an activation code
    sent to the voter out of band (docs/accounts.md §9–§10).  National ID + date of birth no
    longer register anyone (squatting, issue 22).

    The password must already match its confirmation (the view checks).  Raises
    :class:`RegistrationRefused` or :class:`passwords.PasswordRejected`.  Code checks are
    reserved before they are made (throttle.reserve), per (identifier, ``client``) with
    ``limits`` and per identifier over every client with ``identifier_limits``
    (docs/accounts.md §3); beyond either limit the answer is ``not_on_roll`` without looking,
    even for the right code.
    """
    entry = _proved_by_code(electorate, voter_key, code, password, limits, now, creating=True,
                            client=client, identifier_limits=identifier_limits)
    return _create(entry, password, now)


def recover(electorate: str, voter_key: str, code: str, password: str,
            limits: throttle.Limits, now: datetime,
            client: throttle.Client = throttle.NO_CLIENT,
            identifier_limits: throttle.Limits | None = None) -> VoterAccount:
    """A forgotten password or a lost authenticator: a new activation code sets a new password
    and a new TOTP secret (enrolment again) and ends every session.  Throttled like
    :func:`register` (the same counters)."""
    entry = _proved_by_code(electorate, voter_key, code, password, limits, now, creating=False,
                            client=client, identifier_limits=identifier_limits)
    account = _account_of(entry)
    assert account is not None  # _proved_by_code checked it
    return _renew(account, password, now)


def set_up_proofed(entry: RollEntry, password: str, now: datetime) -> VoterAccount:
    """After ThaiD proved the voter (app/services/identity/oidc.py): create the account, or
    renew the existing one's password and authenticator (recovery)."""
    passwords.check_policy(password, _personal(entry.voter_key, entry))
    account = _account_of(entry)
    if account is None:
        return _create(entry, password, now)
    return _renew(account, password, now)


def _personal(key: str, entry: RollEntry | None = None) -> tuple[str, ...]:
    """What the password must not contain: the ID and, once the roll entry is known, its
    attribute (date of birth, or the authorised person's ID)."""
    if entry is None:
        return (key,)
    return (key, entry.attribute, entry.attribute.replace("-", ""))


def _proved_by_code(electorate: str, voter_key: str, code: str, password: str,
                    limits: throttle.Limits, now: datetime, creating: bool,
                    client: throttle.Client,
                    identifier_limits: throttle.Limits | None) -> RollEntry:
    key = principals.normalise_key(electorate, voter_key)
    if electorate not in principals.VOTER_KINDS or not principals.key_is_well_formed(electorate, key):
        raise RegistrationRefused("invalid_id")
    if activation.normalise(code) is None:
        raise RegistrationRefused("invalid_code")
    passwords.check_policy(password, _personal(key))
    counter = registration_counter(electorate, key, client)
    everyone = registration_counter(electorate, key)
    # Reserved before the check, under the counters' row locks, and committed: concurrent
    # guesses count too.  Per (identifier, client) with ``limits``; over every client with
    # ``identifier_limits`` (only a guesser spread over many addresses reaches it; an official
    # can lift it, lockouts.py).
    limited = throttle.reserve([(counter, limits), (everyone, identifier_limits or limits)],
                               now) is not None
    entry = None if limited else principals.roll_entry_for(electorate, key, registering=True)
    # One answer for "not on the roll", "wrong, used or expired code" and "too many attempts":
    # the roll stays private and a guesser cannot tell when guessing has stopped working.
    if entry is None or not activation.is_open(entry, code, now):
        raise RegistrationRefused("not_on_roll")
    exists = _account_of(entry) is not None
    if creating and exists:
        raise RegistrationRefused("already_registered")
    if not creating and not exists:
        raise RegistrationRefused("no_account")
    passwords.check_policy(password, _personal(key, entry))
    if not activation.redeem(entry, code, now):  # a concurrent use of the same code won
        db.session.rollback()
        raise RegistrationRefused("not_on_roll")
    # The right code: this client starts again, and the attempt is given back to the
    # identifier's counter for every client (the caller commits).
    throttle.record_client_success(counter)
    throttle.refund(everyone)
    return entry


def _account_of(entry: RollEntry) -> VoterAccount | None:
    return account_for_entry(entry.id)


def account_for_entry(entry_pk: int) -> VoterAccount | None:
    return db.session.scalar(select(VoterAccount).where(VoterAccount.roll_entry_pk == entry_pk))


def roll_entry_by_pk(entry_pk: int) -> RollEntry | None:
    return db.session.get(RollEntry, entry_pk)


def signed_in_with_thaid(account: VoterAccount, now: datetime) -> int:
    """ThaiD proved the voter (multi-factor at the accepted ``ial``): a complete sign-in.
    Returns the new session epoch (every other session ends)."""
    signin.bump_epoch(account)
    throttle.record_success(account)
    db.session.commit()
    return account.session_epoch


def _create(entry: RollEntry, password: str, now: datetime) -> VoterAccount:
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
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent registration of the same roll entry won
        db.session.rollback()
        raise RegistrationRefused("already_registered") from None
    audit.record("voter", "voter_registered", entry.pseudonym)
    db.session.commit()
    # After the commit: the audit chain's lock is not held while the sender works, and no
    # notice goes out for a registration that did not happen.
    notify.send("registered", entry, now)
    return account


def _renew(account: VoterAccount, password: str, now: datetime) -> VoterAccount:
    """New password and authenticator, failures cleared, every session ended."""
    account.password_hash = passwords.hash_password(password)
    account.totp_secret = totp.new_secret()
    account.totp_confirmed = False
    account.totp_last_step = 0
    signin.bump_epoch(account)
    throttle.record_success(account)
    # Proved by a new code: every sign-in lock of the identifier goes, every client's and the
    # one for every client (as an official's unlock does, lockouts.py).
    throttle.clear_identifier("signin", account.electorate, principals.login_key(account))
    audit.record("voter", "voter_recovered", account.roll_entry.pseudonym)
    db.session.commit()
    notify.send("recovered", account.roll_entry, now)  # after the commit, as in _create
    return account


def registration_counter(electorate: str, normalised_key: str,
                         client: throttle.Client | None = None) -> str:
    """The key of the registration-attempt counter of an identifier, on the roll or not: of
    one client, or (``client`` None) of every client together (docs/accounts.md §3)."""
    scope = client.scope(electorate, None) if client is not None else None
    return throttle.counter_key("register", electorate, normalised_key, scope)


def enrolment(account: VoterAccount, issuer: str = totp.ISSUER, fallback_label: str = "") -> Enrolment:
    """What the enrolment page shows: the ``otpauth://`` link (for an authenticator app on this
    phone), the secret as text and as a QR code (for another device).  The app lists the
    account as ``issuer`` (the page's language) and the voter's name, or ``fallback_label``
    when the roll has no name."""
    label = principals.display_label(account) or fallback_label or account.electorate
    uri = totp.provisioning_uri(account.totp_secret, label, issuer)
    return Enrolment(account.totp_secret, uri, totp.qr_data_uri(uri))
