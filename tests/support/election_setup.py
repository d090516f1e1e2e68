"""Set up an election ready for casting, through the same services officials use: the tests'
trustees and officials on the shared scenario of tools/scenario.py (with the credential
authority's step: voters' credentials, the signed list and the opening, record format version 2)."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, RollEntry
from app.services.administration import election_keys
from tests.conftest import build_app, make_config
from tests.support.auth_client import FAST_ARGON2, PASSWORD, Clock
from tests.support.factories import employer_csv, insured_csv, national_ids, small_manifest
from tools import scenario

TRUSTEES = [("Trustee One", "passphrase-one-1234"), ("Trustee Two", "passphrase-two-1234"),
            ("Trustee Three", "passphrase-three-123")]
OFFICIALS = (scenario.OfficialSpec("ro-a", "Officer A"), scenario.OfficialSpec("ro-b", "Officer B"))
ACTOR = "test"
#: username → official credential of the officials two_officials() made (tests sign paper lists).
OFFICIAL_CREDENTIALS: dict[str, str] = {}


def make_scenario(manifest: Mapping[str, Any], rolls: Sequence[Path | str], trustee_dir: Path,
                  now: datetime | None = None, bits: int = 512, **more: Any) -> scenario.Scenario:
    """The tests' election: their trustees (2 of 3, fast share files) and officials ro-a, ro-b."""
    return scenario.Scenario(manifest=manifest, rolls=rolls, officials=OFFICIALS, official_password=PASSWORD,
                             trustees=TRUSTEES, threshold=2, key_bits=bits, trustee_dir=trustee_dir,
                             scrypt_log2_n=14, opened_at=now, actor=ACTOR, **more)


def ready_election(manifest: Mapping[str, Any], rolls: Sequence[Path | str], trustee_dir: Path,
                   now: datetime | None = None, bits: int = 512, **more: Any) -> scenario.ElectionSetup:
    """Create, import the rolls, add ro-a and ro-b, run the key ceremony, issue and pin the
    credentials (the CA) and open the polls."""
    setup = scenario.set_up(make_scenario(manifest, rolls, trustee_dir, now, bits, **more))
    OFFICIAL_CREDENTIALS.update(setup.official_credentials)
    return setup


def small_election_app(tmp_path: Path, database_url: str | None = None, **extra: Any) -> Iterator[dict[str, Any]]:
    """The body of a fixture: an app (fast argon2, the tests' movable clock, ``extra`` config)
    with the small election of tests/support/factories ready for casting (4 insured voters, 1
    employer); yields, inside the app context, {"app", "clock", "election", "ids" (the insured
    voters' IDs), "setup", "credentials"}."""
    clock = Clock()
    app = build_app(make_config(tmp_path, database_url, **FAST_ARGON2, AUTH_CLOCK=clock, **extra))
    with app.app_context():
        ids = national_ids(4)
        setup = ready_election(
            small_manifest(), [insured_csv(ids), employer_csv([("1000000001", national_ids(1, seed=7)[0])])],
            tmp_path / "trustees", clock())
        yield {"app": app, "clock": clock, "election": setup.election, "ids": ids, "setup": setup,
               "credentials": setup.credentials}
        db.session.remove()
        db.engine.dispose()


def two_officials() -> tuple[Official, Official]:
    found = db.session.query(Official).filter(Official.username.in_(["ro-a", "ro-b"])).all()
    if len(found) == 2:
        return tuple(sorted(found, key=lambda o: o.username))  # type: ignore[return-value]
    (a, b), credentials = scenario.add_officials_with_credentials(OFFICIALS, PASSWORD, ACTOR)
    OFFICIAL_CREDENTIALS.update(credentials)
    return a, b


def make_key(election: Election, out_dir: Path, bits: int = 512) -> election_keys.CeremonyResult:
    return scenario.key_ceremony(election, TRUSTEES, 2, bits, out_dir, ACTOR, scrypt_log2_n=14)


def roll_csvs(election: Election) -> list[str]:
    """The election's rolls as the CSV files they were imported from (for the CA)."""
    layouts = {"insured": ("national_id", "date_of_birth", "name"),
               "employer": ("employer_account", "authorised_national_id", "employer_name")}
    out = []
    for electorate, header in layouts.items():
        rows = db.session.scalars(select(RollEntry).where(RollEntry.election_pk == election.id,
                                                          RollEntry.electorate == electorate)
                                  .order_by(RollEntry.id)).all()
        if rows:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            writer.writerows((r.voter_key, r.attribute, r.display_name or "Voter") for r in rows)
            out.append(text.getvalue())
    return out


def authorize(election: Election) -> scenario.Authority:
    """The credential authority's step for an election set up without it: credentials for its
    roll, imported, and the opening pinned with the registered officials' keys (ro-a and ro-b
    are added first if there is no official)."""
    from app.services.administration import authority

    if not authority.officials_keys():
        two_officials()
    return scenario.authorize(election, roll_csvs(election), ACTOR)


def four_eyes(election: Election, action: str, now: datetime, payload: str | None = None) -> None:
    a, b = two_officials()
    scenario.four_eyes(election, action, a, b, now, payload=payload)


def open_polls(election: Election, now: datetime) -> None:
    """Open the polls (pinning the opening first if the election has none)."""
    if not election.opening:
        authorize(election)
    four_eyes(election, "open_polls", now)


def close_polls(election: Election, now: datetime) -> None:
    four_eyes(election, "close_polls", now)


def record_paper_votes(election: Election, listing: str, now: datetime) -> None:
    """ro-a uploads and signs the paper-vote list (CSV ``voter_id``), ro-b signs and approves it."""
    a, b = two_officials()
    scenario.record_paper_votes(election, a, b, OFFICIAL_CREDENTIALS, listing, now)
