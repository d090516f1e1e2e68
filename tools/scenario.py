"""Setting up an election, once: manifest, rolls, officials, key ceremony, polls open.

The demo (``ssbvote demo``), the simulation (``ssbvote simulate``), the load benchmark and the
tests all need an election ready for casting. Each describes it as a :class:`Scenario` and
calls :func:`set_up`, which goes through the same services officials use, in the order they
would: create the election from its manifest, import the rolls, add the officials, run the key
ceremony (or store the public key of an earlier one), let two officials open the polls, and give
some voters ready accounts (password + confirmed TOTP) so that they can sign in at once.

The steps are also public functions, for tests that need only part of the way. Manifest and roll
builders (the demo manifest with a poll window around now, a compact two-contest manifest,
generated national IDs and roll CSVs) live here too, so that benchmarks need nothing from tests/.

Call everything inside an application context.
"""
from __future__ import annotations

import copy
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import select

from app.extensions import db
from app.models import Election, Official, RollEntry, VoterAccount
from app.services.administration import approvals, audit, election_keys, officials, roll_import
from app.services.identity import passwords
from app.services.administration import manifest as manifests
from app.services.identity.identifiers import national_id_check_digit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: The demo election's manifest and rolls (README command 1).
DEMO_MANIFEST = EXAMPLES / "demo-manifest.json"
DEMO_ROLLS = (EXAMPLES / "demo-insured.csv", EXAMPLES / "demo-employers.csv")

Say = Callable[[str], None]


# --- the scenario ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfficialSpec:
    username: str
    display_name: str
    role: str = "returning-officer"
    #: A fixed TOTP secret (the demo prints it); default: the fresh one ``officials.add`` makes.
    totp_secret: str | None = None


@dataclass(frozen=True)
class Scenario:
    """An election to set up. Only ``manifest`` is required; the rest has defaults."""

    #: The manifest (docs/manifest.md); see :func:`with_poll_window` to move its poll window.
    manifest: Mapping[str, Any]
    #: Roll CSVs to import in order: a path (``import_roll_file``) or the CSV text itself.
    rolls: Sequence[Path | str] = ()
    #: Officials to add; the first proposes opening the polls and the second approves it.
    officials: Sequence[OfficialSpec] = (OfficialSpec("officer-a", "Officer A"),
                                         OfficialSpec("officer-b", "Officer B"))
    official_password: str = "scenario-official-2569"
    #: (name, passphrase) of each trustee, in index order, and how many must decrypt.
    trustees: Sequence[tuple[str, str]] = (("Trustee 1", "scenario trustee passphrase 1"),
                                           ("Trustee 2", "scenario trustee passphrase 2"),
                                           ("Trustee 3", "scenario trustee passphrase 3"))
    threshold: int = 2
    key_bits: int = 2048
    #: Folder for the trustees' encrypted share files; needed unless ``public_key`` is given.
    trustee_dir: Path | None = None
    #: scrypt cost of the share files: 17 as ``ssbvote election keygen``, 14 for speed.
    scrypt_log2_n: int = 17
    #: The public election key (canonical JSON) of an earlier ceremony, instead of a new one
    #: (benchmarks that cache ballots made for it; no share files, nothing can be decrypted).
    public_key: str | None = None
    open_polls: bool = True
    #: When the polls open (the officials' clock); default: now.
    opened_at: datetime | None = None
    #: Ready accounts: for each electorate, how many of its first roll entries get one.
    accounts: Mapping[str, int] = field(default_factory=dict)
    account_password: str = "scenario-voter-2569"
    #: The TOTP secret of the ``index``-th account of an electorate; default: a random one.
    account_secret: Callable[[str, int], str] | None = None
    #: The audit log's actor of every step.
    actor: str = "scenario"


@dataclass(frozen=True)
class ReadyAccount:
    electorate: str
    voter_key: str
    pseudonym: str
    totp_secret: str


@dataclass
class ElectionSetup:
    election: Election
    #: Voters imported per electorate.
    imported: dict[str, int]
    officials: list[Official]
    #: The key ceremony's public key and share files (None when ``public_key`` was reused).
    ceremony: election_keys.CeremonyResult | None
    accounts: dict[str, list[ReadyAccount]]
    #: Seconds the key ceremony took.
    key_seconds: float = 0.0

    @property
    def slug(self) -> str:
        return self.election.slug


def set_up(scenario: Scenario, say: Say | None = None) -> ElectionSetup:
    """Set up ``scenario`` and report each step through ``say``."""
    tell: Say = say or (lambda _: None)
    election = create(scenario.manifest, scenario.actor)
    tell(f"election {election.slug} created (id {election.election_id[:16]}...)")
    imported = import_rolls(election, scenario.rolls, scenario.actor)
    if imported:
        tell("rolls imported: " + ", ".join(f"{count} {_ELECTORATE_PLURAL.get(kind, kind)}"
                                            for kind, count in imported.items()))
    staff = add_officials(scenario.officials, scenario.official_password, scenario.actor)
    ceremony = None
    started = time.perf_counter()
    if scenario.public_key is not None:
        use_public_key(election, scenario.public_key, scenario.actor)
    else:
        if scenario.trustee_dir is None:
            raise ValueError("a key ceremony needs trustee_dir for the share files")
        tell(f"key ceremony: {scenario.key_bits}-bit key, {scenario.threshold} of "
             f"{len(scenario.trustees)} trustees ...")
        ceremony = key_ceremony(election, scenario.trustees, scenario.threshold, scenario.key_bits,
                                scenario.trustee_dir, scenario.actor, scenario.scrypt_log2_n)
    key_seconds = time.perf_counter() - started
    if scenario.open_polls:
        if len(staff) < 2:
            raise ValueError("opening the polls takes two officials")
        four_eyes(election, "open_polls", staff[0], staff[1], scenario.opened_at or utcnow())
        tell(f"polls opened by {staff[0].username} and {staff[1].username}")
    password_hash = passwords.hash_password(scenario.account_password) if scenario.accounts else ""
    accounts = {electorate: ready_accounts(election, electorate, count, password_hash,
                                           scenario.account_secret)
                for electorate, count in scenario.accounts.items()}
    return ElectionSetup(election, imported, staff, ceremony, accounts, key_seconds)


_ELECTORATE_PLURAL = {"insured": "insured", "employer": "employers"}


# --- the steps -------------------------------------------------------------------------------------
def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def create(manifest: Mapping[str, Any], actor: str) -> Election:
    return manifests.create_election(dict(manifest), actor=actor)


def import_rolls(election: Election, rolls: Sequence[Path | str], actor: str) -> dict[str, int]:
    """Import each roll (a CSV path or CSV text); voters imported per electorate."""
    imported: dict[str, int] = {}
    for roll in rolls:
        if isinstance(roll, Path):
            result = roll_import.import_roll_file(election, roll, actor=actor)
        else:
            result = roll_import.import_roll_text(election, roll, actor=actor)
        imported[result.electorate] = imported.get(result.electorate, 0) + result.imported
    return imported


def add_officials(specs: Sequence[OfficialSpec], password: str, actor: str) -> list[Official]:
    added = []
    for spec in specs:
        official = officials.add(spec.username, spec.display_name, spec.role, password, actor=actor).official
        if spec.totp_secret is not None:
            official.totp_secret = spec.totp_secret
            db.session.commit()
        added.append(official)
    return added


def key_ceremony(election: Election, trustees: Sequence[tuple[str, str]], threshold: int, bits: int,
                 out_dir: Path, actor: str, scrypt_log2_n: int = 17) -> election_keys.CeremonyResult:
    return election_keys.run_ceremony(election, list(trustees), threshold, bits, out_dir, actor=actor,
                                      scrypt_log2_n=scrypt_log2_n)


def use_public_key(election: Election, public_key: str, actor: str) -> None:
    """Store the public key of an earlier ceremony (its trustees' shares are not needed here)."""
    election.election_key = public_key
    audit.record(actor, "election.key_ceremony", election.slug, {"cached": True})
    db.session.commit()


def four_eyes(election: Election, action: str, proposer: Official, approver: Official, now: datetime,
              payload: str | None = None) -> None:
    """One official proposes ``action`` (e.g. open_polls, close_polls), another approves it."""
    pending = approvals.propose(election, action, proposer, now, payload=payload)
    approvals.approve(pending.id, approver, now)


def ready_accounts(election: Election, electorate: str, count: int, password_hash: str,
                   secret: Callable[[str, int], str] | None = None) -> list[ReadyAccount]:
    """Accounts with a confirmed TOTP for the first ``count`` voters of ``electorate`` on the roll."""
    import pyotp

    make_secret = secret or (lambda _electorate, _index: pyotp.random_base32())
    entries = db.session.scalars(
        select(RollEntry).where(RollEntry.election_pk == election.id, RollEntry.electorate == electorate)
        .order_by(RollEntry.id).limit(count)).all()
    ready = []
    for index, entry in enumerate(entries):
        totp_secret = make_secret(electorate, index)
        db.session.add(VoterAccount(roll_entry=entry, password_hash=password_hash, totp_secret=totp_secret,
                                    totp_confirmed=True, totp_last_step=0, failed_attempts=0,
                                    session_epoch=0))
        ready.append(ReadyAccount(electorate, entry.voter_key, entry.pseudonym, totp_secret))
    db.session.commit()
    return ready


# --- manifests and rolls ---------------------------------------------------------------------------
def load_manifest(path: Path = DEMO_MANIFEST) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def with_poll_window(manifest: Mapping[str, Any], opens: datetime | str, closes: datetime | str,
                     slug: str | None = None) -> dict[str, Any]:
    """A copy of ``manifest`` with another poll window (and election id ``slug``, if given)."""
    result = copy.deepcopy(dict(manifest))
    if slug is not None:
        result["election"] = slug
    result["poll_window"] = {"opens": opens if isinstance(opens, str) else opens.isoformat(),
                             "closes": closes if isinstance(closes, str) else closes.isoformat()}
    return result


def small_manifest(slug: str = "test-election", insured: int = 5, employer: int = 4,
                   k_insured: int = 2, k_employer: int = 2) -> dict[str, Any]:
    """A compact two-contest manifest for fast tests and benchmarks."""
    def text(th: str, en: str) -> dict[str, str]:
        return {"th": th, "en": en}

    return {
        "format": "ssbvote-manifest/1",
        "election": slug,
        "title": text("การเลือกตั้งทดสอบ", "Test election"),
        "poll_window": {"opens": "2026-01-01T08:00:00+07:00", "closes": "2030-01-01T16:00:00+07:00"},
        "contests": [
            {"id": "insured", "electorate": "insured", "max_selections": k_insured,
             "title": text("ผู้ประกันตน", "Insured"),
             "teams": [{"id": "A", "name": text("ทีมเอ", "Team A")},
                       {"id": "B", "name": text("ทีมบี", "Team B")}],
             "candidates": [{"id": f"I{i}", "number": i, "name": text(f"ผู้สมัคร {i}", f"Candidate {i}"),
                             "team": "A" if i % 2 else "B"} for i in range(1, insured + 1)]},
            {"id": "employer", "electorate": "employer", "max_selections": k_employer,
             "title": text("นายจ้าง", "Employers"), "teams": [],
             "candidates": [{"id": f"M{i}", "number": i, "name": text(f"นายจ้าง {i}", f"Employer {i}"),
                             "team": None} for i in range(1, employer + 1)]},
        ],
    }


def random_national_id(rng: random.Random, used: set[str]) -> str:
    """A valid national ID not in ``used`` (added to it)."""
    while True:
        prefix = f"{rng.randint(1, 8)}{rng.randrange(10**11):011d}"
        value = prefix + national_id_check_digit(prefix)
        if value not in used:
            used.add(value)
            return value


def national_ids(count: int, seed: int = 1) -> list[str]:
    """``count`` distinct valid national IDs, sorted (the tests' fixed voters)."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        prefix = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
        out.add(prefix + national_id_check_digit(prefix))
    return sorted(out)


def insured_csv(ids: Sequence[str], name: str = "Voter") -> str:
    lines = ["national_id,date_of_birth,name"]
    lines += [f"{nid},1980-01-{(i % 28) + 1:02d},{name} {i}" for i, nid in enumerate(ids)]
    return "\n".join(lines) + "\n"


def employer_csv(rows: Sequence[tuple[str, str]]) -> str:
    lines = ["employer_account,authorised_national_id,employer_name"]
    lines += [f"{acct},{person},Company {i}" for i, (acct, person) in enumerate(rows)]
    return "\n".join(lines) + "\n"
