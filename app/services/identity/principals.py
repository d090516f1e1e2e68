"""Who can sign in: the three kinds of principal and how each is looked up by its login ID."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, RollEntry, VoterAccount
from app.services.identity.identifiers import employer_account_is_valid, national_id_is_valid
from election.lifecycle import REGISTRATION

#: Voter kinds are the electorates; officials are the third kind.
VOTER_KINDS = ("insured", "employer")
KINDS = VOTER_KINDS + ("official",)

Principal = VoterAccount | Official


def normalise_key(kind: str, value: str) -> str:
    """Login IDs as typed: spaces and dashes (as printed on Thai ID cards) are ignored."""
    value = value.strip()
    if kind in VOTER_KINDS:
        return "".join(ch for ch in value if ch not in " -")
    return value.lower()


def key_is_well_formed(kind: str, key: str) -> bool:
    if kind == "insured":
        return national_id_is_valid(key)
    if kind == "employer":
        return employer_account_is_valid(key)
    return 0 < len(key) <= 64


def roll_entry_for(electorate: str, voter_key: str, *, registering: bool = False) -> RollEntry | None:
    """The voter's entry on the roll of the newest election they are on.

    For registration only elections not yet closed count (draft or open).
    """
    query = (
        select(RollEntry)
        .join(Election, Election.id == RollEntry.election_pk)
        .where(RollEntry.electorate == electorate, RollEntry.voter_key == voter_key)
        .order_by(Election.opens_at.desc(), Election.id.desc())
        .limit(1)
    )
    if registering:
        query = query.where(Election.status.in_(sorted(s.value for s in REGISTRATION)))
    return db.session.scalar(query)


def find(kind: str, login_id: str) -> Principal | None:
    """The principal a login ID names, or None (also for malformed IDs)."""
    key = normalise_key(kind, login_id)
    if not key_is_well_formed(kind, key):
        return None
    if kind == "official":
        return db.session.scalar(select(Official).where(Official.username == key, Official.active))
    return db.session.scalar(
        select(VoterAccount)
        .join(RollEntry, RollEntry.id == VoterAccount.roll_entry_pk)
        .join(Election, Election.id == RollEntry.election_pk)
        .where(RollEntry.electorate == kind, RollEntry.voter_key == key)
        .order_by(Election.opens_at.desc(), Election.id.desc())
        .limit(1)
    )


def model_for(kind: str) -> type[VoterAccount] | type[Official]:
    """The table of a kind's principals."""
    if kind == "official":
        return Official
    if kind in VOTER_KINDS:
        return VoterAccount
    raise ValueError(f"unknown principal kind {kind!r}")


def is_live(kind: str, principal: Principal) -> bool:
    """An active official, or a voter account of this electorate (what :func:`load` returns)."""
    if isinstance(principal, Official):
        return kind == "official" and principal.active
    return kind in VOTER_KINDS and principal.electorate == kind


def load(kind: str, principal_id: int) -> Principal | None:
    if kind == "official":
        official = db.session.get(Official, principal_id)
        return official if official is not None and official.active else None
    if kind in VOTER_KINDS:
        account = db.session.get(VoterAccount, principal_id)
        return account if account is not None and account.electorate == kind else None
    return None


def login_key(principal: Principal) -> str:
    """The normalised login ID that :func:`find` resolves to this principal."""
    if isinstance(principal, Official):
        return principal.username
    return principal.roll_entry.voter_key


def totp_confirmed(principal: Principal) -> bool:
    # Officials receive their secret from the CLI, which is their enrolment.
    return principal.totp_confirmed if isinstance(principal, VoterAccount) else True


def display_label(principal: Principal) -> str:
    """The name an authenticator app shows for this account: the voter's name on the roll (the
    employer's name for an employer), never the national ID; "" when the roll has no name."""
    if isinstance(principal, Official):
        return f"official {principal.username}"
    return " ".join(principal.roll_entry.display_name.replace(":", " ").split())
