"""An official lifts a voter's sign-in and registration locks (docs/accounts.md §3, §7).

For a voter locked out by someone else's failures (their identifier's counter for every client)
or by their own (their client's counter, the account's TOTP counter): every counter of the
identifier is deleted, for sign-in and registration alike, and the account's own counter is
reset. Audited with the voter's pseudonym (never the national ID) and the official's reason.
"""
from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import Official, RollEntry, VoterAccount
from app.services.administration import audit
from app.services.errors import InvalidRequest, NotFound
from app.services.identity import principals, throttle


class VoterNotOnRoll(NotFound):
    """No roll entry has this identifier."""


def unlock(official: Official, electorate: str, voter_key: str, reason: str) -> RollEntry:
    """Clear every lock of the voter ``voter_key`` of ``electorate``; :class:`VoterNotOnRoll`
    if no roll has them."""
    if electorate not in principals.VOTER_KINDS:
        raise InvalidRequest("unknown electorate")
    key = principals.normalise_key(electorate, voter_key)
    entry = principals.roll_entry_for(electorate, key) if principals.key_is_well_formed(
        electorate, key) else None
    if entry is None:
        raise VoterNotOnRoll("not on the roll")
    cleared = sum(throttle.clear_identifier(purpose, electorate, key)
                  for purpose in throttle.PURPOSES)
    db.session.execute(
        update(VoterAccount).where(VoterAccount.roll_entry_pk == entry.id)
        .values(failed_attempts=0, failure_window_start=None, locked_until=None)
        .execution_options(synchronize_session=False))
    audit.record(f"official:{official.username}", "voter_unlocked", entry.pseudonym,
                 {"electorate": electorate, "reason": reason, "counters": cleared})
    db.session.commit()
    return entry
