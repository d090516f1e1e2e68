"""``ssbvote simulate``: a complete election, end to end, with real crypto over real HTTP.

Officials' steps run through the same services the official pages call; the credential authority
issues every voter a credential and pins the election's keys (tools/scenario.py); every voter
registers, enrols TOTP, checks the pins against the CA key, encrypts in its own process (as a
browser would), signs with its credential and casts through the JSON API of a gunicorn server
(``audits`` of them first audit one or more encryptions — the Benaloh challenge,
docs/protocol.md §14 — and check each audit code as a second device would); then close, paper votes, board export, tally, trustees' decryption shares,
the election record, the independent verifier — and a comparison of the published counts with
what the simulated voters intended (their last ballot, unless they voted on paper).
"""
from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import click

from tools import scenario
from tools.serve import GunicornServer, ServerDidNotStart

if TYPE_CHECKING:
    from election.manifest import Manifest

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "simulated-voter-2569"
TRUSTEE_PASSPHRASE = "simulated trustee passphrase {}"


@dataclass(frozen=True)
class VoterPlan:
    kind: str
    voter_key: str
    attribute: str
    casts: tuple[tuple[int, ...], ...]  # the choices of each cast, in order
    audits: int = 0  # encryptions audited (and checked by audit code) before the first cast
    contest: str = ""  # the voter's route (docs/manifest.md §4.2); "" = the electorate's name


@dataclass(frozen=True)
class VoterOutcome:
    kind: str
    voter_key: str
    pseudonym: str
    last: tuple[int, ...]
    casts: int
    audits: int
    contest: str = ""  # the contest the server's ballot page gave the voter


@dataclass
class SimulationReport:
    record: Path
    instance: Path
    intended: dict[str, list[int]]
    published: dict[str, list[int]]
    verifier_exit: int
    verifier_summary: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return self.intended == self.published


# --- the plan ------------------------------------------------------------------------------
def _choices(rng: random.Random, popularity: Sequence[float], k: int) -> tuple[int, ...]:
    """0..k distinct candidates, the popular ones more often (so the elected are clear)."""
    count = rng.randint(0, k) if rng.random() < 0.1 else rng.randint(1, k)
    chosen: set[int] = set()
    while len(chosen) < count:
        chosen.add(rng.choices(range(len(popularity)), weights=popularity)[0])
    return tuple(1 if i in chosen else 0 for i in range(len(popularity)))


def make_plans(rng: random.Random, insured: int, employers: int, sizes: dict[str, tuple[int, int]],
               revote_rate: float, abstainers: int = 0, auditors: int = 0,
               manifest: Optional["Manifest"] = None) -> tuple[list[VoterPlan], str, str]:
    """Voters, and the roll CSVs they are on; ``abstainers`` more insured voters are on the roll
    (and get credentials) but never vote, as most do (82 % in 2023); the first ``auditors``
    voters audit one or two encryptions before casting (docs/protocol.md §14).

    ``sizes``: contest id → (candidates, max selections).  With a ``manifest`` that declares
    roll attributes (docs/manifest.md §4), each voter draws a value of each attribute of its
    electorate, written in the roll's attribute columns, and is routed by the manifest's rule
    (:meth:`Manifest.route`); without one, a contest id is its electorate's name."""
    used: set[str] = set()
    plans: list[VoterPlan] = []
    popularity = {cid: [1.0 / (1 + (i * 7919) % n) ** 0.8 for i in range(n)]
                  for cid, (n, _) in sizes.items()}
    attrs = {e: manifest.attributes_of(e) if manifest is not None else () for e in ("insured", "employer")}

    def draw(electorate: str) -> tuple[list[str], str]:
        values = [rng.choice(a.values) for a in attrs[electorate]]
        if manifest is None:
            return values, electorate
        named = {a.name: v for a, v in zip(attrs[electorate], values)}
        return values, manifest.route(electorate, named).id

    def header(base: str, electorate: str) -> str:
        return ",".join([base] + [a.name for a in attrs[electorate]])

    insured_rows = [header("national_id,date_of_birth,name", "insured")]
    employer_rows = [header("employer_account,authorised_national_id,employer_name", "employer")]
    for i in range(insured):
        nid = scenario.random_national_id(rng, used)
        dob = f"19{rng.randint(60, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        values, contest = draw("insured")
        insured_rows.append(",".join([nid, dob, f"ผู้ประกันตนจำลอง {i + 1}"] + values))
        plans.append(_plan(rng, "insured", nid, dob, popularity, sizes, revote_rate, contest))
    for i in range(abstainers):
        nid = scenario.random_national_id(rng, used)
        values, _contest = draw("insured")
        insured_rows.append(",".join([nid, "1970-01-01", f"ผู้ไม่มาใช้สิทธิ์จำลอง {i + 1}"] + values))
    accounts: set[str] = set()
    for j in range(employers):
        while True:
            account = f"{rng.randrange(10**9, 10**10)}"
            if account not in accounts:
                accounts.add(account)
                break
        person = scenario.random_national_id(rng, used)
        values, contest = draw("employer")
        employer_rows.append(",".join([account, person, f"บริษัทจำลอง {j + 1} จำกัด"] + values))
        plans.append(_plan(rng, "employer", account, person, popularity, sizes, revote_rate, contest))
    for i in range(min(auditors, len(plans))):
        plans[i] = dataclasses.replace(plans[i], audits=1 + i % 2)
    return plans, "\n".join(insured_rows) + "\n", "\n".join(employer_rows) + "\n"


def _plan(rng: random.Random, kind: str, key: str, attribute: str, popularity: dict[str, list[float]],
          sizes: dict[str, tuple[int, int]], revote_rate: float, contest: str) -> VoterPlan:
    k = sizes[contest][1]
    casts = [_choices(rng, popularity[contest], k)]
    if rng.random() < revote_rate:
        casts.append(_choices(rng, popularity[contest], k))
    return VoterPlan(kind, key, attribute, tuple(casts), contest=contest)


# --- one voter, in its own process ----------------------------------------------------------
def run_voter(base_url: str, slug: str, plan: VoterPlan, allow_test_key: bool, credential: str,
              ca_key: str, activation_code: str) -> VoterOutcome:
    """One voter: registers with the activation code from its letter, checks the pins with the
    CA key, audits ``plan.audits`` encryptions of its first choices and checks each audit code as
    a second device would (the choices must come back), then casts (signing with the credential
    from the CA's letter, each ballot with a fresh seed that is erased) and checks each receipt."""
    from tools.voting_client import VotingClient

    client = VotingClient(base_url, plan.kind, credential=credential, ca_key=ca_key,
                          allow_insecure_test_key=allow_test_key)
    client.register(plan.voter_key, activation_code, PASSWORD)
    context = client.ballot_context(slug)
    for _ in range(plan.audits):
        audited = client.audit(slug, plan.casts[0], context)
        if tuple(client.check_audit(slug, audited.code, context["election_key"])) != plan.casts[0]:
            raise RuntimeError(f"the audit at board entry {audited.seq} did not open to the voter's choices")
    receipt = None
    for selections in plan.casts:
        receipt = client.cast(slug, selections, context)
    assert receipt is not None
    if plan.contest and context["contest"]["id"] != plan.contest:
        raise RuntimeError(f"voter {plan.voter_key} was given contest {context['contest']['id']}, "
                           f"routed to {plan.contest}")
    return VoterOutcome(plan.kind, plan.voter_key, context["pseudonym"], plan.casts[-1],
                        len(plan.casts), plan.audits, context["contest"]["id"])


# --- the whole election ---------------------------------------------------------------------
def simulate(record: Path, *, insured: int, employers: int, revote_rate: float, paper: int,
             trustees: int, threshold: int, key_bits: int, seed: int, manifest_path: Path,
             processes: int, say: Callable[[str], None], show_progress: bool = True,
             abstainers: int = 0, audits: int = 0) -> SimulationReport:
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.models import Official
    from app.models.base import utcnow
    from app.services.voting import board_export
    from app.services.administration import manifest as manifests
    from app.services.platform import schema
    from app.services.identity import activation
    from tally.finish import finish
    from tally.prepare import ENCRYPTED_TALLY, prepare
    from tally.trustee import decrypt

    rng = random.Random(seed)
    record = record.resolve()
    base = record.parent / f".{record.name}.simulation"
    if base.exists():
        import shutil

        shutil.rmtree(base)
    instance = base / "instance"
    instance.mkdir(parents=True)
    allow_test = key_bits < 2048
    env = {
        "SSBVOTE_ENV": "development",
        "SSBVOTE_INSTANCE": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'simulation.sqlite3'}",
        "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1" if allow_test else "",
        "SSBVOTE_SIGNIN_IP_LIMIT": "100000 per minute",
    }
    timings: dict[str, float] = {}
    started = time.perf_counter()

    config = Config.from_env(env)
    schema.upgrade(config.database_url)
    app = create_app(config)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    manifest = scenario.with_poll_window(scenario.load_manifest(manifest_path), now - timedelta(minutes=1),
                                         now + timedelta(days=1), slug="ssb-simulation")
    from election.manifest import Manifest

    typed = Manifest.from_dict(manifest)
    sizes = {c.id: (len(c.candidates), c.max_selections) for c in typed.contests}
    plans, insured_csv, employer_csv = make_plans(rng, insured, employers, sizes, revote_rate, abstainers,
                                                  audits, typed)
    with app.app_context():
        setup = scenario.set_up(scenario.Scenario(
            manifest=manifest,
            rolls=([insured_csv] if insured else []) + ([employer_csv] if employers else []),
            officials=(scenario.OfficialSpec("sim-officer-a", "Simulated officer A"),
                       scenario.OfficialSpec("sim-officer-b", "Simulated officer B")),
            official_password=PASSWORD,
            trustees=[(f"Trustee {i}", TRUSTEE_PASSPHRASE.format(i)) for i in range(1, trustees + 1)],
            threshold=threshold, key_bits=key_bits, trustee_dir=base / "trustees", scrypt_log2_n=14,
            actor="simulation"), say)
        assert setup.ceremony is not None and setup.authority is not None
        ceremony = setup.ceremony
        credentials = setup.credentials
        official_credentials = setup.official_credentials
        ca_public = setup.authority.ca_public_key
        say(f"credential authority key {ca_public} (letters: none in a simulation)")
        slug = setup.slug
        officer_ids = (setup.officials[0].id, setup.officials[1].id)
        # Every voter's activation letter (docs/accounts.md §9), written to the development
        # sender's outbox; the simulated voters type the code from it.
        codes = activation.issue_for_election(setup.election.id, now, "simulation")
        db.session.remove()
    timings["setup"] = time.perf_counter() - started

    say(f"{len(plans)} voters register and cast over HTTP ...")
    try:
        server = GunicornServer(env, instance / "gunicorn.log", threads=8)  # as `ssbvote serve`
    except ServerDidNotStart as exc:
        raise click.ClickException(str(exc)) from exc
    outcomes: list[VoterOutcome] = []
    t0 = time.perf_counter()
    try:
        with ProcessPoolExecutor(max_workers=processes) as pool, \
                click.progressbar(length=len(plans), label="voting", file=sys.stderr,
                                  show_pos=True, hidden=not show_progress) as bar:
            futures = [pool.submit(run_voter, server.url, slug, plan, allow_test, credentials[plan.voter_key],
                                   ca_public, codes[plan.voter_key]) for plan in plans]
            for future in as_completed(futures):
                outcomes.append(future.result())
                bar.update(1)
    finally:
        server.stop()
    timings["voting"] = time.perf_counter() - t0
    casts = sum(o.casts for o in outcomes)
    say(f"{casts} ballots cast by {len(outcomes)} voters "
        f"({casts / timings['voting']:.1f} ballots/s); {sum(o.audits for o in outcomes)} ballots audited "
        f"by {sum(1 for o in outcomes if o.audits)} voters and checked by audit code")

    paper_voters = rng.sample(outcomes, min(paper, len(outcomes)))
    with app.app_context():
        election = manifests.get_election(slug)
        a, b = (db.session.get(Official, officer_ids[0]), db.session.get(Official, officer_ids[1]))
        assert a is not None and b is not None
        scenario.four_eyes(election, "close_polls", a, b, utcnow())
        listing = "voter_id\n" + "".join(f"{o.voter_key}\n" for o in paper_voters)
        scenario.record_paper_votes(election, a, b, official_credentials, listing, utcnow())
        export = board_export.export(election, base / "board-export")
        db.session.remove()
    say(f"polls closed; {len(paper_voters)} paper votes override e-votes; board exported")

    t0 = time.perf_counter()
    work = base / "tally-work"
    prepare(export, work, processes=processes, allow_insecure_test_key=allow_test,
            show_progress=show_progress)
    present = sorted(rng.sample(range(1, trustees + 1), threshold))
    share_outputs = []
    for index, path in enumerate(ceremony.share_files, 1):
        if index in present:
            out = base / f"decryption-trustee-{index}.json"
            decrypt(path, work / ENCRYPTED_TALLY, out, TRUSTEE_PASSPHRASE.format(index),
                    allow_insecure_test_key=allow_test)
            share_outputs.append(out)
    say(f"trustees {', '.join(map(str, present))} decrypted ({trustees - threshold} absent)")
    summary = finish(work, share_outputs, record, allow_insecure_test_key=allow_test)
    timings["tally"] = time.perf_counter() - t0
    with app.app_context():
        from app.services.voting import results as results_service

        try:
            results_service.publish(manifests.get_election(slug), record, actor="simulation",
                                    processes=processes)
            say(f"results published in the app at /results/{slug}")
        except Exception as exc:  # the comparison below reports the failure in detail
            say(f"results NOT published: {exc}")
        db.session.remove()

    t0 = time.perf_counter()
    verifier = subprocess.run([sys.executable, "-m", "verifier", str(record), "--json", "--ca-key", ca_public]
                              + (["--allow-test-key"] if allow_test else []),
                              capture_output=True, text=True, cwd=ROOT)
    timings["verify"] = time.perf_counter() - t0
    try:
        checks = json.loads(verifier.stdout).get("checks", [])
        passed = sum(1 for c in checks if c.get("status") == "pass")
        verifier_summary = f"{passed} of {len(checks)} checks passed"
    except (json.JSONDecodeError, AttributeError):
        verifier_summary = (verifier.stdout + verifier.stderr)[-500:]

    overridden = {o.pseudonym for o in paper_voters}
    intended: dict[str, list[int]] = {}
    for contest_id, contest in summary.results["contests"].items():
        totals = [0] * len(contest["candidates"])
        for outcome in outcomes:  # per contest: the voters routed to it (docs/manifest.md §4.4)
            if outcome.contest == contest_id and outcome.pseudonym not in overridden:
                totals = [t + s for t, s in zip(totals, outcome.last)]
        intended[contest_id] = totals
    published = {cid: [c["votes"] for c in contest["candidates"]]
                 for cid, contest in summary.results["contests"].items()}
    timings["total"] = time.perf_counter() - started
    return SimulationReport(record, instance, intended, published, verifier.returncode, verifier_summary, timings)


def print_report(report: SimulationReport, results: dict[str, Any], say: Callable[[str], None]) -> None:
    for contest_id, contest in results["contests"].items():
        say(f"\nContest {contest_id}: {contest['counted_ballots']} ballots counted")
        ranked = sorted(contest["candidates"], key=lambda c: (-c["votes"], c["number"]))
        for c in ranked[: max(10, contest.get("seats", contest["max_selections"]))]:
            mark = "ELECTED" if c["id"] in contest["elected"] else ""
            say(f"  {c['number']:>4}  {c['name']['en']:<32} {c['votes']:>6}  {mark}")
        ok = report.intended[contest_id] == report.published[contest_id]
        say(f"  counts {'MATCH' if ok else 'DO NOT MATCH'} the voters' intended last choices")
    say(f"\nVerifier: exit {report.verifier_exit} ({report.verifier_summary})")
    say("Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))
    say(f"Election record: {report.record}")
