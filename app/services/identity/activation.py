"""Activation codes (docs/accounts.md §9): the voting server's own single-use secrets, sent out
of band to the address on file, that register or recover an account.

An activation code is never the ballot credential: that one comes from the independent
credential authority (ca/, docs/protocol.md §13) and the voting server never sees it.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, select, update

from app.extensions import db
from app.models import ActivationCode, RollEntry, VoterAccount
from app.services.administration import audit
from app.services.identity import notify, principals

#: Crockford base32: no I, L, O, U; 16 symbols = 80 bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 16
#: Unexpired unused codes one roll entry may have; a request beyond that sends nothing new.
MAX_OPEN = 3
REASONS = ("letter", "request", "release")
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS))
    return "-".join(raw[i:i + 4] for i in range(0, SYMBOLS, 4))


def normalise(typed: str) -> str | None:
    """The code as stored (16 symbols, upper case), or None if it cannot be one."""
    text = "".join(ch for ch in typed.upper() if ch not in " -\t").translate(_TYPOS)
    if len(text) != SYMBOLS or any(ch not in ALPHABET for ch in text):
        return None
    return text


def code_hash(normalised: str) -> str:
    return hashlib.sha256(b"ssbvote/activation-code/v1\x00" + normalised.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["SSBVOTE"].identity.activation_days)


def open_codes(entry: RollEntry, now: datetime) -> int:
    return int(db.session.scalar(
        select(func.count(ActivationCode.id)).where(
            ActivationCode.roll_entry_pk == entry.id, ActivationCode.used_at.is_(None),
            ActivationCode.expires_at > now)) or 0)


def issue(entry: RollEntry, reason: str, now: datetime, actor: str, *,
          already_open: int | None = None, audited: bool = True) -> str | None:
    """Make a code for ``entry``, send it (notify sender) and return it; None if the entry
    already has :data:`MAX_OPEN` open codes (``already_open``: counted by the caller).  The
    caller commits."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    if (open_codes(entry, now) if already_open is None else already_open) >= MAX_OPEN:
        return None
    code = new_code()
    expires = now + lifetime()
    db.session.add(ActivationCode(roll_entry_pk=entry.id, code_hash=code_hash(normalise(code) or ""),
                                  reason=reason, created_at=now, expires_at=expires))
    if audited:
        db.session.flush()
        audit.record(actor, "activation_code_issued", entry.pseudonym, {"reason": reason})
    notify.send("activation_code", entry, now, code=code,
                expires=expires.strftime("%Y-%m-%d %H:%M"))
    return code


def issue_for_election(election_pk: int, now: datetime, actor: str,
                       voter_key: str | None = None) -> dict[str, str]:
    """Letters before the election: a code for every roll entry without an account (or for the
    one voter named).  Returns voter key → code (the caller prints nothing of it in
    production: the codes went to the sender)."""
    query = (select(RollEntry).outerjoin(VoterAccount, VoterAccount.roll_entry_pk == RollEntry.id)
             .where(RollEntry.election_pk == election_pk, VoterAccount.id.is_(None))
             .order_by(RollEntry.id))
    if voter_key is not None:
        query = query.where(RollEntry.voter_key == voter_key)
    counts: dict[int, int] = {pk: n for pk, n in db.session.execute(
        select(ActivationCode.roll_entry_pk, func.count(ActivationCode.id))
        .join(RollEntry, RollEntry.id == ActivationCode.roll_entry_pk)
        .where(RollEntry.election_pk == election_pk, ActivationCode.used_at.is_(None),
               ActivationCode.expires_at > now)
        .group_by(ActivationCode.roll_entry_pk))}
    issued: dict[str, str] = {}
    with db.session.no_autoflush:
        for entry in db.session.scalars(query).all():
            code = issue(entry, "letter", now, actor, already_open=counts.get(entry.id, 0),
                         audited=False)
            if code is not None:
                issued[entry.voter_key] = code
    # One audit entry for the batch (a voter's own request or a release is audited one by one).
    audit.record(actor, "activation_letters_issued", str(election_pk), {"count": len(issued)})
    db.session.commit()
    return issued


def redeem(entry: RollEntry, typed: str, now: datetime) -> bool:
    """Spend the code if it is an open code of ``entry`` (compare-and-set on ``used_at``, so two
    concurrent uses cannot both win), and void the entry's other open codes.  The caller
    commits; on False nothing was changed."""
    normalised = normalise(typed)
    if normalised is None:
        return False
    result = cast(CursorResult[Any], db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.code_hash == code_hash(normalised),
               ActivationCode.roll_entry_pk == entry.id,
               ActivationCode.used_at.is_(None), ActivationCode.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        return False
    void_open(entry, now)
    return True


def void_open(entry: RollEntry, now: datetime) -> None:
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.roll_entry_pk == entry.id, ActivationCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))


def is_open(entry: RollEntry, typed: str, now: datetime) -> bool:
    """Whether ``typed`` is an unused, unexpired code of ``entry`` (spends nothing)."""
    normalised = normalise(typed)
    return normalised is not None and db.session.scalar(
        select(ActivationCode.id).where(
            ActivationCode.code_hash == code_hash(normalised),
            ActivationCode.roll_entry_pk == entry.id,
            ActivationCode.used_at.is_(None), ActivationCode.expires_at > now)) is not None


def request(electorate: str, voter_key: str, now: datetime) -> None:
    """A voter asks for a new code.  It goes to the address on file (the sender), never to the
    asker, so the answer is the same whether or not the ID is on the roll; at most
    :data:`MAX_OPEN` open codes per voter, so no request voids a letter on its way."""
    key = principals.normalise_key(electorate, voter_key)
    if electorate not in principals.VOTER_KINDS or not principals.key_is_well_formed(electorate, key):
        return
    entry = principals.roll_entry_for(electorate, key, registering=True)
    if entry is not None:
        issue(entry, "request", now, "voter")
        db.session.commit()
