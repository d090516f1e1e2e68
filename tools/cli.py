"""The ``ssbvote`` command line for officials and operators (README §Operating)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import click
from flask import Flask

from app.config import Config, ConfigError
from app.services.errors import ServiceError
from tools.paths import examples_dir
from tools.serve import exec_gunicorn



def make_app(config: Config | None = None) -> Flask:
    from app import create_app

    try:
        return create_app(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def server_config() -> Config:
    """The configuration the server would run with, from the same environment (one rule,
    README "Which database the CLI uses"): ``DATABASE_URL`` (or ``SSBVOTE_DATABASE_URL``) if set,
    otherwise ``<SSBVOTE_INSTANCE>/ssbvote.sqlite3`` (``SSBVOTE_INSTANCE`` defaults to ``./instance``)."""
    try:
        return Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def require_database(config: Config) -> None:
    """Refuse, in one line, to work on a database that is not an SSB Vote database at the newest
    schema — above all, never create an empty SQLite file by accident (only ``ssbvote db upgrade``
    creates one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from app.services.platform import schema

    url = config.database_url
    shown = make_url(url).render_as_string(hide_password=True)
    hint = ("set DATABASE_URL or SSBVOTE_INSTANCE as the server has them "
            "(after 'ssbvote demo': export SSBVOTE_ENV=development SSBVOTE_INSTANCE=instance/demo), "
            "or create a new database with 'ssbvote db upgrade'")
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise click.ClickException(f"no SSB Vote database at {path}: {hint}")
    try:
        state = schema.state_for_url(url)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot open the database {shown}: {_first_line(exc)}") from exc
    if state.current is None:
        raise click.ClickException(f"the database {shown} has no SSB Vote schema: {hint}")
    if not state.up_to_date:
        raise click.ClickException(f"the database {shown} is at schema {state.current}, this ssbvote "
                                   f"needs {state.head}: run 'ssbvote db upgrade'")


def _require_sqlite_file(url: str) -> None:
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise click.ClickException(f"no SSB Vote database at {url.removeprefix('sqlite:///')} "
                                   "(DATABASE_URL unset; SSBVOTE_INSTANCE names the folder)")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an application context on the server's database (which must
    exist: :func:`require_database`); service and database errors become one-line exits."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        config = server_config()
        require_database(config)
        app = make_app(config)
        with app.app_context():
            try:
                return func(*args, **kwargs)
            except ServiceError as exc:
                raise click.ClickException(str(exc)) from exc
            except SQLAlchemyError as exc:
                raise click.ClickException(f"database error: {_first_line(exc)}") from exc

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@click.group()
def main() -> None:
    """SSB Vote: verifiable internet voting for the Social Security Board."""


# --- database ------------------------------------------------------------------------------
@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Upgrade the database schema."""
    from app.services.platform import schema

    url = server_config().database_url
    schema.upgrade(url, revision)
    click.echo(f"database at {schema.state_for_url(url).current}")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database schema to REVISION ('base' for empty)."""
    from app.services.platform import schema

    config = server_config()
    _require_sqlite_file(config.database_url)
    url = config.database_url
    schema.downgrade(url, revision)
    click.echo(f"database at {schema.state_for_url(url).current}")


@db_group.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one."""
    from app.services.platform import schema

    url = server_config().database_url
    _require_sqlite_file(url)
    state = schema.state_for_url(url)
    click.echo(f"current: {state.current}\nhead:    {state.head}")


# --- election setup ------------------------------------------------------------------------
@main.group("election")
def election_group() -> None:
    """Create and inspect elections."""


@election_group.command("create")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def election_create(manifest: Path) -> None:
    """Create an election from a MANIFEST JSON file (docs/manifest.md)."""
    from app.services.administration import manifest as manifests

    data = manifests.parse_manifest_text(manifest.read_text(encoding="utf-8"), str(manifest))
    election = manifests.create_election(data)
    click.echo(f"created election {election.slug}")
    click.echo(f"election id (manifest SHA-256): {election.election_id}")
    for code, electorate, k, count in manifests.summary(election).contests:
        click.echo(f"  contest {code}: {electorate}, up to {k} of {count} candidates")


@election_group.command("keygen")
@click.option("--election", "slug", required=True)
@click.option("--trustee", "trustees", multiple=True, required=True,
              help="A trustee's name; repeat once per trustee, in order (index 1, 2, ...).")
@click.option("--threshold", type=int, required=True, help="How many trustees must decrypt.")
@click.option("--bits", type=int, default=3072, show_default=True, help="Paillier modulus size.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the encrypted share files (hand each to its trustee).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One passphrase per line, in trustee order (automation); default: prompt.")
@with_app
def election_keygen(slug: str, trustees: tuple[str, ...], threshold: int, bits: int, out_dir: Path,
                    passphrase_file: Path | None) -> None:
    """Key ceremony: make the election key and one encrypted share file per trustee."""
    from app.services.administration import election_keys
    from app.services.administration.manifest import get_election

    election = get_election(slug)
    if passphrase_file:
        phrases = passphrase_file.read_text(encoding="utf-8").splitlines()
        if len(phrases) < len(trustees):
            raise click.ClickException("the passphrase file has fewer lines than trustees")
    else:
        phrases = [click.prompt(f"Passphrase for {name}", hide_input=True, confirmation_prompt=True)
                   for name in trustees]
    click.echo(f"generating a {bits}-bit key with safe primes and its proofs (this can take a minute) ...", err=True)
    result = election_keys.run_ceremony(election, list(zip(trustees, phrases)), threshold, bits, out_dir)
    click.echo(f"election key stored for {slug}: {bits} bits, {threshold} of {len(trustees)} trustees; "
               "key proofs, verification base and shared secret checked (docs/protocol.md §6.2)")
    from crypto.hashing import object_hash

    click.echo(f"election key SHA-256: {object_hash(result.election_key.to_dict())}")
    for path, trustee in zip(result.share_files, result.election_key.trustees):
        click.echo(f"  share file: {path}  (signing key of {trustee.trustee}: {trustee.signing_key})")
    click.echo("each trustee checks their file: ssbvote trustee check-share --share FILE")


@election_group.command("ca-inputs")
@click.option("--election", "slug", required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write manifest.json, election_key.json, board_key.json and officials.json.")
@with_app
def election_ca_inputs(slug: str, out_dir: Path) -> None:
    """Write what the credential authority pins in the opening (docs/record.md §2.0): the
    canonical manifest, the election key, the server's board key and the officials' keys.
    Take them to the CA's machine for 'python -m ca pin' (with the CA's credentials.json)."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election
    from app.services.platform import signing
    from crypto.encoding import canonical_json

    election = get_election(slug)
    authority.election_key_hash(election)  # NotReady before the key ceremony
    out_dir.mkdir(parents=True, exist_ok=True)
    officials = authority.officials_keys()
    files = {
        "manifest.json": election.manifest.encode(),
        "election_key.json": (election.election_key or "").encode(),
        "board_key.json": canonical_json(signing.public_key_dict()),
        "officials.json": canonical_json(officials),
    }
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
        click.echo(f"  {out_dir / name}")
    _warn_officials_without_key(authority.officials_without_key())
    click.echo(f"{len(officials)} officials' keys; election key SHA-256 {authority.election_key_hash(election)}")


@election_group.command("pin")
@click.option("--election", "slug", required=True)
@click.argument("opening", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def election_pin(slug: str, opening: Path) -> None:
    """Store the OPENING object the credential authority signed ('python -m ca pin'): its CA
    signature is checked with SSBVOTE_CA_KEY and its pins against this election's key, the
    server's board key, the imported credential list and the officials' keys.  Polls open only
    with a valid opening."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election

    election = get_election(slug)
    digest = authority.pin(election, opening.read_bytes(), actor="cli", source=opening.name)
    click.echo(f"opening of {slug} stored; opening hash {digest}")


@main.group("activation")
def activation_group() -> None:
    """Activation codes: the voting server's own letters/SMS that register accounts
    (docs/accounts.md §9; never the ballot credential)."""


@activation_group.command("issue")
@click.option("--election", "slug", required=True)
@click.option("--voter", "voter_key", default=None, help="Only this voter (national ID or employer number).")
@with_app
def activation_issue(slug: str, voter_key: str | None) -> None:
    """Send an activation code to every voter on the roll without an account (or to one),
    through the configured sender (SSBVOTE_NOTIFY_SENDER).  The codes are not printed: they
    go to the voters only; at most 3 open codes per voter."""
    from datetime import datetime, timezone

    from app.services.administration.manifest import get_election
    from app.services.identity import activation

    issued = activation.issue_for_election(get_election(slug).id, datetime.now(timezone.utc), "cli",
                                           voter_key)
    click.echo(f"{len(issued):,} activation codes sent")


@main.group("credentials")
def credentials_group() -> None:
    """Voters' credentials from the credential authority (docs/record.md §6)."""


@credentials_group.command("import")
@click.option("--election", "slug", required=True)
@click.argument("mappings", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def credentials_import(slug: str, mappings: tuple[Path, ...]) -> None:
    """Import the CA's MAPPINGS (mapping-<electorate>.json: voter key → public credential) into
    the roll; all or nothing per file; importing again changes nothing."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election

    election = get_election(slug)
    for path in mappings:
        result = authority.import_mapping(election, path.read_bytes(), actor="cli", source=path.name)
        click.echo(f"{path.name}: {result.added:,} {result.electorate} credentials added, "
                   f"{result.unchanged:,} already imported")
        if result.without_credential:
            click.echo(f"  warning: {result.without_credential:,} {result.electorate} voters on the roll "
                       "have no credential (they cannot vote)", err=True)


@credentials_group.command("list")
@click.option("--election", "slug", required=True)
@click.argument("credentials_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def credentials_list(slug: str, credentials_file: Path) -> None:
    """Store the CA-signed public credential list (credentials.json, byte for byte): signed
    with SSBVOTE_CA_KEY, of this election, listing exactly the imported credentials."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election

    result = authority.import_list(get_election(slug), credentials_file.read_bytes(), actor="cli",
                                   source=credentials_file.name)
    if result.unchanged:
        click.echo(f"this credential list is stored already (SHA-256 {result.sha256})")
    else:
        counts = ", ".join(f"{n:,} in {c}" for c, n in result.contests.items())
        click.echo(f"credential list stored: {counts}; SHA-256 {result.sha256}")


@credentials_group.command("revoke")
@click.option("--election", "slug", required=True)
@click.argument("revocation", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The CA's updated mapping-<electorate>.json (checked to map the voter to the replacement).")
@with_app
def credentials_revoke(slug: str, revocation: Path, mapping: Path | None) -> None:
    """Import CA-signed revocations: REVOCATION is one revocation or the CA's revocations.jsonl
    (lines imported before are skipped).  The revoked credential can no longer cast; its
    replacement, if any, becomes the voter's credential.  Allowed while polls are open."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election

    result = authority.import_revocations(get_election(slug), revocation.read_bytes(),
                                          mapping.read_bytes() if mapping else None, actor="cli",
                                          source=revocation.name)
    for revoked in result.revoked:
        click.echo(f"revoked {revoked}")
    for replacement in result.replacements:
        click.echo(f"replacement {replacement} is now live")
    if result.unchanged:
        click.echo(f"{result.unchanged} revocation(s) imported before, skipped")


def _warn_officials_without_key(names: list[str]) -> None:
    if names:
        click.echo("warning: no official credential for " + ", ".join(names)
                   + " ('ssbvote official credential --username …'); they cannot sign paper-vote lists",
                   err=True)


@main.group("board")
def board_group() -> None:
    """The bulletin board."""


@board_group.command("export")
@click.option("--election", "slug", required=True)
@click.option("--snapshot", is_flag=True,
              help="While polls are open: the board up to its latest signed checkpoint, for 'tally preverify'.")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@with_app
def board_export(slug: str, out_dir: Path, snapshot: bool) -> None:
    """Write the closed board for the tally (docs/record.md §3), or a snapshot of it (§3.1)."""
    from app.services.voting import board_export as exporter
    from app.services.administration.manifest import get_election

    path = exporter.export(get_election(slug), out_dir, snapshot=snapshot)
    click.echo(f"board {'snapshot ' if snapshot else ''}of {slug} exported to {path}")


@board_group.command("verify")
@click.option("--election", "slug", required=True)
@with_app
def board_verify(slug: str) -> None:
    """Recompute the board's hash chain."""
    from app.services.voting import board
    from app.services.administration.manifest import get_election

    election = get_election(slug)
    problems = board.verify_chain(election)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"the chain of {slug} is broken ({len(problems)} problems)")
    click.echo(f"board of {slug}: {board.size(election)} entries, chain intact")


@board_group.command("preverify")
@click.option("--election", "slug", required=True)
@click.option("--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the snapshot and preverified.txt (keep it between runs).")
@click.option("--every", "every", type=float, default=None,
              help="Minutes between passes; without it, one pass (for the systemd timer). "
                   "With it, passes repeat until a pass has seen the final checkpoint.")
@click.option("--processes", type=int, default=None, help="Verifying processes (default: all cores).")
def board_preverify(slug: str, work: Path, every: float | None, processes: int | None) -> None:
    """While polls are open: snapshot the board up to its latest signed checkpoint and verify the
    ballots not verified before (docs/record.md §3.1; 'tally prepare --preverified
    WORK/preverified.txt' after the close).  Each pass is recorded in the audit log, which
    officials see at /official/audit (docs/operations.md §3)."""
    import time as clock

    from tools import preverify_schedule

    config = server_config()
    require_database(config)
    if every is not None and not 0.1 <= every <= 24 * 60:
        raise click.ClickException("--every must be between 0.1 and 1440 minutes")
    app = make_app(config)
    while True:
        try:
            status = preverify_schedule.run_pass(app, slug, work, processes=processes)
        except preverify_schedule.PreverifyFailed as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(status.line())
        if every is None or status.final:
            return
        clock.sleep(every * 60)


@main.group("deploy")
def deploy_group() -> None:
    """Deployment files (deploy/: nginx, systemd units, production environment)."""


@deploy_group.command("nginx")
@click.option("--server-name", required=True, help="The public host name, e.g. vote.sso.go.th.")
@click.option("--certificate", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--certificate-key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--upstream", "upstreams", multiple=True, required=True,
              help="An app host's HOST:PORT (ssbvote serve); repeat per host.")
@click.option("--log-dir", default="/var/log/nginx", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def deploy_nginx(server_name: str, certificate: Path, certificate_key: Path, upstreams: tuple[str, ...],
                 log_dir: Path) -> None:
    """Print the nginx site for SSB Vote (deploy/nginx/ssbvote.conf.template, filled in)."""
    from tools.deploy import DeployError, NginxSite, render_nginx

    try:
        click.echo(render_nginx(NginxSite(server_name, certificate.absolute(), certificate_key.absolute(),
                                          upstreams, log_dir=log_dir.absolute())), nl=False)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group("roll")
def roll_group() -> None:
    """Voter rolls."""


@roll_group.command("import")
@click.option("--election", "slug", required=True, help="Election id (the manifest's 'election').")
@click.option("--electorate", type=click.Choice(["insured", "employer"]), default=None,
              help="Default: recognised from the CSV header.")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_app
def roll_import(slug: str, electorate: str | None, csv_file: Path) -> None:
    """Import a voter roll CSV; all or nothing (docs/manifest.md §3)."""
    from app.services.administration import roll_import as rolls

    def progress(count: int) -> None:
        click.echo(f"  checked {count:,} rows...", err=True)

    result = rolls.import_roll_file(slug, csv_file, electorate, progress=progress)
    click.echo(f"imported {result.imported:,} {result.electorate} voters into {slug}")


# --- officials ------------------------------------------------------------------------------
@main.group("official")
def official_group() -> None:
    """Election officials (admins and returning officers)."""


@official_group.command("add")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Full name shown in the audit log.")
@click.option("--role", type=click.Choice(["admin", "returning-officer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def official_add(username: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create an official; prints their TOTP secret once (store it in their authenticator)."""
    from app.services.administration import officials

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = officials.add(username, display_name, role, password, actor="cli")
    click.echo(f"official {created.official.username} ({role}) created")
    click.echo("TOTP secret (shown once; add it to the official's authenticator app now):")
    click.echo(f"  {created.totp_secret}")
    click.echo(f"  {created.totp_uri}")
    _show_official_credential(created.credential, created.official.public_key or "")


def _show_official_credential(credential: str, public_key: str) -> None:
    click.echo("Official credential (shown once; the official keeps it to sign paper-vote lists):")
    click.echo(f"  {credential}")
    click.echo(f"  public key {public_key} (given to the credential authority: 'ssbvote official keys')")


@official_group.command("credential")
@click.option("--username", required=True)
@with_app
def official_credential(username: str) -> None:
    """Give an official a new official credential (lost, or made before version 2); prints it
    once.  An opening that pinned the old key must be signed again before polls open."""
    from app.services.administration import officials

    official, credential = officials.new_credential(username, actor="cli")
    click.echo(f"new official credential for {official.username}")
    _show_official_credential(credential, official.public_key or "")


@official_group.command("keys")
@click.option("--election", "slug", default=None,
              help="Check that the election can still be pinned (before polls open).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write officials.json here instead of standard output.")
@with_app
def official_keys(slug: str | None, out: Path | None) -> None:
    """Print officials.json, [{"username", "public_key"}] of the active officials, for the
    credential authority's 'python -m ca pin --officials' (docs/record.md §2.0)."""
    from app.services.administration import authority
    from app.services.administration.manifest import get_election
    from crypto.encoding import canonical_json
    from election.lifecycle import Status

    if slug is not None and get_election(slug).status != Status.DRAFT.value:
        raise click.ClickException(f"polls of {slug} have opened: its opening is pinned already")
    data = canonical_json(authority.officials_keys())
    _warn_officials_without_key(authority.officials_without_key())
    if out is not None:
        out.write_bytes(data)
        click.echo(f"officials.json written to {out}")
    else:
        click.echo(data.decode())


# --- serving -------------------------------------------------------------------------------
@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="request threads per worker: more than SSBVOTE_CAST_MAX_INFLIGHT (docs/operations.md)")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app under gunicorn (configuration from the environment)."""
    os.environ["SSBVOTE_WORKERS"] = str(workers)  # production refuses memory:// with more than 1
    inflight = make_app().config["SSBVOTE"].cast_max_inflight
    if threads <= inflight:  # a full worker could not answer 503 "busy" at once
        raise click.ClickException(f"--threads must be more than SSBVOTE_CAST_MAX_INFLIGHT ({inflight})")
    exec_gunicorn(host, port, workers, threads)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--instance", default="instance/demo", show_default=True,
              help="Folder for the demo's SQLite database and keys (recreated).")
@click.option("--no-serve", is_flag=True, help="Set up and print logins, but do not serve.")
@click.option("--key-bits", default=2048, show_default=True,
              help="Election key size (the demo allows small keys, e.g. 1024, for slow machines).")
@click.option("--rules", type=click.Choice(["current", "sections"]), default="current", show_default=True,
              help="current: up to 7 of 228 (today's rule); sections: the 2026 draft, one vote per "
                   "voter, seats by insured section 33/39/40 (docs/manifest.md §4).")
def demo(host: str, port: int, instance: str, no_serve: bool, key_bits: int, rules: str) -> None:
    """Set up a fresh demo election on SQLite, print the demo logins, and serve it."""
    from tools import demo as demo_service

    os.environ["SSBVOTE_ENV"] = "development"
    os.environ["SSBVOTE_INSTANCE"] = str(Path(instance).resolve())
    os.environ["SSBVOTE_ALLOW_INSECURE_TEST_KEYS"] = "1"
    os.environ.pop("DATABASE_URL", None)
    app = make_app()
    with app.app_context():
        try:
            report = demo_service.build(app, examples_dir(), click.echo, key_bits, rules)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(report)
    click.echo(f"Officials' CLI on this database (the same rule as the server): "
               f"export SSBVOTE_ENV=development; "  # production otherwise (fails closed)
               f"export SSBVOTE_INSTANCE={os.environ['SSBVOTE_INSTANCE']}")
    if not no_serve:
        click.echo(f"\nServing the demo on http://{host}:{port}/  (Ctrl-C to stop)\n")
        exec_gunicorn(host, port, 2)


@main.group("results")
def results_group() -> None:
    """Published results."""


@results_group.command("publish")
@click.option("--election", "slug", required=True)
@click.argument("record", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_app
def results_publish(slug: str, record: Path) -> None:
    """Verify an election RECORD with the independent verifier and publish its results."""
    from app.services.voting import results
    from app.services.administration.manifest import get_election

    published = results.publish(get_election(slug), record)
    for contest_id, contest in published["contests"].items():
        click.echo(f"{contest_id}: {contest['counted_ballots']} ballots; elected "
                   + ", ".join(contest["elected"]))
    click.echo(f"published at /results/{slug}")


@main.command("simulate")
@click.option("--record", "record", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the election record.")
@click.option("--insured", default=200, show_default=True, help="Insured voters who vote online.")
@click.option("--employers", default=20, show_default=True, help="Employers who vote online.")
@click.option("--abstainers", default=0, show_default=True,
              help="Insured voters on the roll (with credentials) who never vote.")
@click.option("--revote-rate", default=0.2, show_default=True, help="Share of voters who vote twice.")
@click.option("--paper", default=3, show_default=True, help="Online voters who also vote on paper.")
@click.option("--audits", default=0, show_default=True,
              help="Voters who audit one or two encryptions before casting (docs/protocol.md §14).")
@click.option("--trustees", default=3, show_default=True)
@click.option("--threshold", default=2, show_default=True)
@click.option("--key-bits", default=2048, show_default=True,
              help="Election key size; below 2048 only for simulations and tests.")
@click.option("--seed", default=1, show_default=True, help="Random seed of the voters' behaviour.")
@click.option("--manifest", "manifest_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=examples_dir() / "demo-manifest.json", show_default="the demo manifest")
@click.option("--processes", default=2, show_default=True, help="Voter and tally processes.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def simulate(record: Path, insured: int, employers: int, abstainers: int, revote_rate: float, paper: int,
             audits: int, trustees: int, threshold: int, key_bits: int, seed: int, manifest_path: Path, processes: int,
             quiet: bool) -> None:
    """Run a whole election end to end and check the result against the voters' intent."""
    from tools import simulation
    from tally.files import read_json

    if not 1 <= threshold <= trustees:
        raise click.ClickException("--threshold must be between 1 and --trustees")
    report = simulation.simulate(
        record, insured=insured, employers=employers, revote_rate=revote_rate, paper=paper,
        trustees=trustees, threshold=threshold, key_bits=key_bits, seed=seed,
        manifest_path=manifest_path, processes=processes, say=click.echo, show_progress=not quiet,
        abstainers=abstainers, audits=audits)
    simulation.print_report(report, read_json(record / "results.json", "results"), click.echo)
    if not report.matches or report.verifier_exit != 0:
        raise click.ClickException("the simulated election did NOT check out")
    click.echo("The published result equals the voters' intent and the record verifies.")


from tally.cli import tally_cli, trustee_cli  # noqa: E402  (tally is its own package; ssbvote exposes its CLI)

main.add_command(tally_cli)
main.add_command(trustee_cli)


from verifier.cli import verify_command  # noqa: E402  (tools may import verifier, not vice versa)
main.add_command(verify_command, "verify")


if __name__ == "__main__":  # pragma: no cover
    main()
