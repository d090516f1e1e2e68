"""Set up an election ready for casting, through the same services officials use: the tests'
trustees and officials on the shared scenario of tools/scenario.py."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from app.extensions import db
from app.models import Election, Official
from app.services.administration import election_keys
from tests.support.auth_client import PASSWORD
from tools import scenario

TRUSTEES = [("Trustee One", "passphrase-one-1234"), ("Trustee Two", "passphrase-two-1234"),
            ("Trustee Three", "passphrase-three-123")]
OFFICIALS = (scenario.OfficialSpec("ro-a", "Officer A"), scenario.OfficialSpec("ro-b", "Officer B"))
ACTOR = "test"


def make_scenario(manifest: Mapping[str, Any], rolls: Sequence[Path | str], trustee_dir: Path,
                  now: datetime | None = None, bits: int = 512, **more: Any) -> scenario.Scenario:
    """The tests' election: their trustees (2 of 3, fast share files) and officials ro-a, ro-b."""
    return scenario.Scenario(manifest=manifest, rolls=rolls, officials=OFFICIALS, official_password=PASSWORD,
                             trustees=TRUSTEES, threshold=2, key_bits=bits, trustee_dir=trustee_dir,
                             scrypt_log2_n=14, opened_at=now, actor=ACTOR, **more)


def ready_election(manifest: Mapping[str, Any], rolls: Sequence[Path | str], trustee_dir: Path,
                   now: datetime | None = None, bits: int = 512, **more: Any) -> scenario.ElectionSetup:
    """Create, import the rolls, add ro-a and ro-b, run the key ceremony and open the polls."""
    return scenario.set_up(make_scenario(manifest, rolls, trustee_dir, now, bits, **more))


def two_officials() -> tuple[Official, Official]:
    found = db.session.query(Official).filter(Official.username.in_(["ro-a", "ro-b"])).all()
    if len(found) == 2:
        return tuple(sorted(found, key=lambda o: o.username))  # type: ignore[return-value]
    a, b = scenario.add_officials(OFFICIALS, PASSWORD, ACTOR)
    return a, b


def make_key(election: Election, out_dir: Path, bits: int = 512) -> election_keys.CeremonyResult:
    return scenario.key_ceremony(election, TRUSTEES, 2, bits, out_dir, ACTOR, scrypt_log2_n=14)


def four_eyes(election: Election, action: str, now: datetime, payload: str | None = None) -> None:
    a, b = two_officials()
    scenario.four_eyes(election, action, a, b, now, payload=payload)


def open_polls(election: Election, now: datetime) -> None:
    four_eyes(election, "open_polls", now)


def close_polls(election: Election, now: datetime) -> None:
    four_eyes(election, "close_polls", now)
