"""Setting up an election, once: manifest, rolls, officials, key ceremony, credentials, polls open.

The demo (``ssbvote demo``), the simulation (``ssbvote simulate``), the load benchmark and the
tests all need an election ready for casting. Each describes it as a :class:`Scenario` and
calls :func:`set_up`, which goes through the same services officials use, in the order they
would: create the election from its manifest, import the rolls, add the officials (each gets
an official credential), run the key ceremony (or store the public key of an earlier one), play
the credential authority (docs/record.md §6: ``ca.issue`` makes every voter's credential with
a CA key kept in the instance folder; the server imports the mappings and the signed list; the
CA pins the election key, the board key, the list and the officials' keys in the opening, which
the server stores), let two officials open the polls, and give some voters ready accounts
(password + confirmed TOTP) so that they can sign in at once.  The voters' and officials'
credential texts are kept in the returned :class:`ElectionSetup` (tests, the demo and the
simulation sign with them).

The steps are also public functions, for tests that need only part of the way. Manifest and roll
builders (the demo manifest with a poll window around now, a compact two-contest manifest,
generated national IDs and roll CSVs) live here too, so that benchmarks need nothing from tests/.

Call everything inside an application context.
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy import select

from app.config import default_ca_key_path
from app.extensions import db
from app.models import Election, Official, RollEntry, VoterAccount
from app.services.administration import approvals, audit, authority, election_keys, officials, roll_import
from app.services.identity import passwords
from app.services.administration import manifest as manifests
from app.services.identity.identifiers import national_id_check_digit
from app.services.platform import ca_key as ca_key_service
from app.services.platform import signing
from ca import files as ca_files
from ca import issue as ca_issue
from ca import keys as ca_keys
from ca import pin as ca_pin
from app.services.voting import paper_votes
from crypto.credential import official_key, public_credential, voter_key
from election import authority as election_authority
from election import signed
from tools.paths import examples_dir
from crypto.encoding import canonical_json
from election.board import paper_list_body

EXAMPLES = examples_dir()
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
    #: Play the credential authority after the key ceremony (issue, import, pin); needs rolls
    #: and at least one official.  Off: no credentials and no opening (polls cannot open).
    credentials: bool = True
    #: The CA key (PEM); default ``<instance>/ca/ca-key.pem``, made if missing.  In development
    #: and test the server's ``SSBVOTE_CA_KEY`` defaults to ``<instance>/ca/ca-public-key.txt``,
    #: which is written from it.
    ca_key_file: Path | None = None
    #: The CA's folder of this election (mapping files, credentials.json, letters); default
    #: ``<instance>/ca/<election slug>``.
    ca_dir: Path | None = None
    #: Write the printable credential letters (the demo); off for speed.
    letters: bool = False
    #: (electorate, voter key) → the voter's credential text: deterministic credentials instead of
    #: the CA tool's fresh ones (the load benchmark caches ballots made for their ballot party);
    #: the scenario then writes the CA's mapping files and signed list itself, with the CA key.
    voter_credential: Callable[[str, str], str] | None = None
    #: The witnesses the CA pins in the opening (record.md §2.0, §3.5): (name, public key hex).
    witnesses: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True)
class ReadyAccount:
    electorate: str
    voter_key: str
    pseudonym: str
    totp_secret: str
    #: The voter's credential text (docs/protocol.md §13.1); "" without credentials.
    credential: str = ""


@dataclass
class Authority:
    """What the credential authority made for the election (docs/record.md §6)."""

    ca_key: Ed25519PrivateKey
    ca_dir: Path
    #: voter key → the voter's credential text (the CA's letters; private).
    credentials: dict[str, str]
    #: electorate → voter key → public credential (the mapping files).
    public_credentials: dict[str, dict[str, str]]
    credentials_hash: str
    opening: dict[str, Any] | None = None
    opening_hash: str | None = None

    @property
    def ca_public_key(self) -> str:
        return ca_keys.public_hex(self.ca_key)


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
    #: The credential authority's work (None when ``credentials`` is off).
    authority: Authority | None = None
    #: username → the official's credential text (shown once by ``ssbvote official add``).
    official_credentials: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.election.slug

    @property
    def credentials(self) -> dict[str, str]:
        """voter key → credential text (empty without credentials)."""
        return self.authority.credentials if self.authority is not None else {}


def set_up(scenario: Scenario, say: Say | None = None) -> ElectionSetup:
    """Set up ``scenario`` and report each step through ``say``."""
    tell: Say = say or (lambda _: None)
    election = create(scenario.manifest, scenario.actor)
    tell(f"election {election.slug} created (id {election.election_id[:16]}...)")
    imported = import_rolls(election, scenario.rolls, scenario.actor)
    if imported:
        tell("rolls imported: " + ", ".join(f"{count} {_ELECTORATE_PLURAL.get(kind, kind)}"
                                            for kind, count in imported.items()))
    staff, official_credentials = add_officials_with_credentials(
        scenario.officials, scenario.official_password, scenario.actor)
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
    ca: Authority | None = None
    if scenario.credentials and scenario.rolls:
        ca = issue_credentials(election, scenario.rolls, scenario.actor, ca_key_file=scenario.ca_key_file,
                               ca_dir=scenario.ca_dir, letters=scenario.letters,
                               voter_credential=scenario.voter_credential)
        tell(f"credential authority: {len(ca.credentials)} credentials issued and imported "
             f"(CA key {ca_keys.fingerprint(ca.ca_public_key)})")
        if staff:
            pin_opening(election, ca, scenario.actor, scenario.witnesses)
            tell(f"opening pinned by the CA (opening hash {ca.opening_hash and ca.opening_hash[:16]}...)")
    if scenario.open_polls:
        if len(staff) < 2:
            raise ValueError("opening the polls takes two officials")
        four_eyes(election, "open_polls", staff[0], staff[1], scenario.opened_at or utcnow())
        tell(f"polls opened by {staff[0].username} and {staff[1].username}")
    password_hash = passwords.hash_password(scenario.account_password) if scenario.accounts else ""
    accounts = {electorate: ready_accounts(election, electorate, count, password_hash,
                                           scenario.account_secret,
                                           ca.credentials if ca is not None else None)
                for electorate, count in scenario.accounts.items()}
    return ElectionSetup(election, imported, staff, ceremony, accounts, key_seconds, ca,
                         official_credentials)


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
    return add_officials_with_credentials(specs, password, actor)[0]


def add_officials_with_credentials(specs: Sequence[OfficialSpec], password: str,
                                   actor: str) -> tuple[list[Official], dict[str, str]]:
    """Add the officials; also returns each one's official credential (username → text)."""
    added = []
    credentials: dict[str, str] = {}
    for spec in specs:
        made = officials.add(spec.username, spec.display_name, spec.role, password, actor=actor)
        official = made.official
        if spec.totp_secret is not None:
            official.totp_secret = spec.totp_secret
            db.session.commit()
        added.append(official)
        credentials[official.username] = made.credential
    return added, credentials


# --- the credential authority (docs/record.md §6) --------------------------------------------------
def ca_folder() -> Path:
    """``<instance>/ca``: the scenario's CA key and its per-election folders."""
    return Path(current_app.instance_path) / "ca"


def ca_key(ca_key_file: Path | None = None) -> Ed25519PrivateKey:
    """The scenario's CA key: ``ca_key_file`` or ``<instance>/ca/ca-key.pem`` (made if missing).

    In development and test, when ``SSBVOTE_CA_KEY`` is left at its default
    (``<instance>/ca/ca-public-key.txt``), its public key is written there, so that the server
    checks the opening with it; a configured key that is not this one is refused."""
    path = ca_key_file or ca_folder() / "ca-key.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ca_keys.load_key(path) if path.exists() else ca_keys.generate_key(path)
    public = ca_keys.public_hex(key)
    config = current_app.config["SSBVOTE"]
    default = default_ca_key_path(config.instance_path)
    if config.ca_key == str(default) and not default.exists():
        default.parent.mkdir(parents=True, exist_ok=True)
        default.write_text(f"public key:  {public}\nfingerprint: {ca_keys.fingerprint(public)}\n")
    if ca_key_service.configured() != public:
        raise ValueError(f"SSBVOTE_CA_KEY is not the public key of the scenario's CA key {path}")
    return key


def issue_credentials(election: Election, rolls: Sequence[Path | str], actor: str, *,
                      ca_key_file: Path | None = None, ca_dir: Path | None = None, letters: bool = False,
                      voter_credential: Callable[[str, str], str] | None = None) -> Authority:
    """Play the credential authority (``python -m ca issue``) for ``rolls`` and import its
    mapping files and signed list into the server (``ssbvote credentials import`` / ``list``).
    With ``voter_credential`` the credentials are that function's, for the voters on the roll."""
    key = ca_key(ca_key_file)
    folder = ca_dir or ca_folder() / election.slug
    folder.mkdir(parents=True, exist_ok=True)
    if voter_credential is not None:
        return _fixed_credentials(election, key, folder, voter_credential, actor)
    paths: list[Path] = []
    for index, roll in enumerate(rolls):
        if isinstance(roll, Path):
            paths.append(roll)
        else:
            path = folder / f"roll-{index + 1}.csv"
            path.write_text(roll, encoding="utf-8")
            paths.append(path)
    summary = ca_issue.issue_credentials(election.manifest.encode(), paths, key, folder,
                                         write_letters=letters, keep_credentials=True)
    for electorate in summary.public_credentials:
        authority.import_mapping(election, (folder / ca_files.mapping_name(electorate)).read_bytes(),
                                 actor=actor)
    authority.import_list(election, (folder / ca_files.CREDENTIALS).read_bytes(), actor=actor)
    return Authority(key, folder, dict(summary.credentials), summary.public_credentials,
                     summary.credentials_hash)


def _fixed_credentials(election: Election, key: Ed25519PrivateKey, folder: Path,
                       voter_credential: Callable[[str, str], str], actor: str) -> Authority:
    """The CA's mapping files and signed list for credentials given by ``voter_credential``."""
    texts: dict[str, str] = {}
    public: dict[str, dict[str, str]] = {}
    routes: dict[str, dict[str, str]] = {}  # the roll import's routes (the real CA computes its own)
    by_contest: dict[str, list[str]] = {}
    for entry in db.session.scalars(select(RollEntry).where(RollEntry.election_pk == election.id)
                                    .order_by(RollEntry.id)):
        text = voter_credential(entry.electorate, entry.voter_key)
        texts[entry.voter_key] = text
        credential = public_credential(voter_key(text, election.election_id))
        public.setdefault(entry.electorate, {})[entry.voter_key] = credential
        route = entry.contest.code if entry.contest is not None else ""
        routes.setdefault(entry.electorate, {})[entry.voter_key] = route
        by_contest.setdefault(route, []).append(credential)
    for electorate, mapping in public.items():
        ca_files.write_json(folder / ca_files.mapping_name(electorate),
                            election_authority.mapping(election.election_id, electorate, mapping,
                                                       routes[electorate]))
        authority.import_mapping(election, (folder / ca_files.mapping_name(electorate)).read_bytes(), actor=actor)
    listed = canonical_json(signed.sign(election_authority.credential_list(
        election.election_id, ca_files.now_iso(), by_contest), key))
    ca_files.write_atomic(folder / ca_files.CREDENTIALS, listed)
    authority.import_list(election, listed, actor=actor)
    return Authority(key, folder, texts, public, hashlib.sha256(listed).hexdigest())


def pin_opening(election: Election, ca: Authority, actor: str,
                witnesses: Sequence[tuple[str, str]] = ()) -> str:
    """The CA signs the opening (``python -m ca pin`` with ``ssbvote official keys``' officials.json)
    and the server stores it (``ssbvote election pin``); returns the opening hash."""
    allow_test = bool(current_app.config["SSBVOTE"].allow_insecure_test_keys)
    made = ca_pin.build_opening(
        ca.ca_key, election.manifest.encode(), (election.election_key or "").encode(),
        canonical_json(signing.public_key_dict()), (ca.ca_dir / ca_files.CREDENTIALS).read_bytes(),
        canonical_json(authority.officials_keys()), allow_insecure_test_key=allow_test,
        witnesses=canonical_json([{"name": n, "public_key": k} for n, k in witnesses]))
    authority.pin(election, canonical_json(made.opening), actor=actor)
    ca.opening, ca.opening_hash = made.opening, made.opening_hash
    return made.opening_hash


def authorize(election: Election, rolls: Sequence[Path | str], actor: str = "scenario", **options: Any) -> Authority:
    """Issue, import and pin in one go, for tests that add their officials themselves."""
    ca = issue_credentials(election, rolls, actor, **options)
    pin_opening(election, ca, actor)
    return ca


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


def record_paper_votes(election: Election, proposer: Official, approver: Official,
                      credentials: Mapping[str, str], listing: str, now: datetime) -> None:
    """After close: ``proposer`` uploads the paper-vote list (CSV ``voter_id``) and signs it with
    their official credential, ``approver`` signs it too and so approves it (docs/record.md §2.4),
    as the officials' page does in the browser.  ``credentials``: username → credential text."""
    page = paper_votes.draft(election, proposer, listing, now)
    paper_votes.propose_signed(election, proposer, page.digest, _sign_paper(page.body, credentials[proposer.username]),
                               now)
    pending = paper_votes.approval_page(election, approver)
    assert pending is not None and pending.pending_id is not None
    paper_votes.approve_signed(pending.pending_id, approver, pending.digest,
                               _sign_paper(pending.body, credentials[approver.username]), now)


def _sign_paper(body: Mapping[str, Any], credential: str) -> str:
    return official_key(credential).sign(canonical_json(paper_list_body(body))).hex()


def ready_accounts(election: Election, electorate: str, count: int, password_hash: str,
                   secret: Callable[[str, int], str] | None = None,
                   credentials: Mapping[str, str] | None = None) -> list[ReadyAccount]:
    """Accounts with a confirmed TOTP for the first ``count`` voters of ``electorate`` on the roll
    (``credentials``: voter key → credential text, to hand each its credential)."""
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
        ready.append(ReadyAccount(electorate, entry.voter_key, entry.pseudonym, totp_secret,
                                  (credentials or {}).get(entry.voter_key, "")))
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


def sections_manifest(slug: str = "test-election", sections: Sequence[str] = ("33", "39", "40"),
                      candidates: int = 4) -> dict[str, Any]:
    """A compact format-2 manifest (docs/manifest.md §4) for fast tests: one one-vote insured
    contest per section, ``insured-<section>`` (seats 2 for 33, else 1), routed by the insured
    roll's ``section`` column, and the employer contest (one vote, 2 seats)."""
    def text(th: str, en: str) -> dict[str, str]:
        return {"th": th, "en": en}

    manifest = small_manifest(slug, employer=candidates, k_employer=1)
    manifest["format"] = "ssbvote-manifest/2"
    manifest["roll_attributes"] = {"insured": [{"name": "section", "title": text("มาตรา", "Section"),
                                                "values": list(sections)}]}
    employer = manifest["contests"][1]
    employer["seats"] = 2
    manifest["contests"] = [
        {"id": f"insured-{section}", "electorate": "insured", "eligibility": {"section": [section]},
         "max_selections": 1, "seats": 2 if section == "33" else 1,
         "title": text(f"ผู้ประกันตนมาตรา {section}", f"Insured persons, section {section}"), "teams": [],
         "candidates": [{"id": f"S{section}-{i}", "number": i,
                         "name": text(f"ผู้สมัครมาตรา {section} คนที่ {i}", f"Section {section} candidate {i}"),
                         "team": None} for i in range(1, candidates + 1)]}
        for section in sections] + [employer]
    return manifest


def sections_insured_csv(rows: Sequence[tuple[str, str]], name: str = "Voter") -> str:
    """An insured roll with a ``section`` column: (national ID, section) per voter."""
    lines = ["national_id,date_of_birth,name,section"]
    lines += [f"{nid},1980-01-{(i % 28) + 1:02d},{name} {i},{section}" for i, (nid, section) in enumerate(rows)]
    return "\n".join(lines) + "\n"


def insured_csv(ids: Sequence[str], name: str = "Voter") -> str:
    lines = ["national_id,date_of_birth,name"]
    lines += [f"{nid},1980-01-{(i % 28) + 1:02d},{name} {i}" for i, nid in enumerate(ids)]
    return "\n".join(lines) + "\n"


def employer_csv(rows: Sequence[tuple[str, str]]) -> str:
    lines = ["employer_account,authorised_national_id,employer_name"]
    lines += [f"{acct},{person},Company {i}" for i, (acct, person) in enumerate(rows)]
    return "\n".join(lines) + "\n"
