"""Set up an election ready for casting, through the same services officials use."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.extensions import db
from app.models import Election, Official
from app.services import approvals, election_keys, officials
from tests.support.auth_client import PASSWORD

TRUSTEES = [("Trustee One", "passphrase-one-1234"), ("Trustee Two", "passphrase-two-1234"),
            ("Trustee Three", "passphrase-three-123")]


def two_officials() -> tuple[Official, Official]:
    found = db.session.query(Official).filter(Official.username.in_(["ro-a", "ro-b"])).all()
    if len(found) == 2:
        return tuple(sorted(found, key=lambda o: o.username))  # type: ignore[return-value]
    a = officials.add("ro-a", "Officer A", "returning-officer", PASSWORD, actor="test").official
    b = officials.add("ro-b", "Officer B", "returning-officer", PASSWORD, actor="test").official
    return a, b


def make_key(election: Election, out_dir: Path, bits: int = 512) -> election_keys.CeremonyResult:
    return election_keys.run_ceremony(election, TRUSTEES, 2, bits, out_dir, actor="test",
                                      scrypt_log2_n=14)


def four_eyes(election: Election, action: str, now: datetime, payload: str | None = None) -> None:
    a, b = two_officials()
    pending = approvals.propose(election, action, a, now, payload=payload)
    approvals.approve(pending.id, b, now)


def open_polls(election: Election, now: datetime) -> None:
    four_eyes(election, "open_polls", now)


def close_polls(election: Election, now: datetime) -> None:
    four_eyes(election, "close_polls", now)
