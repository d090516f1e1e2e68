"""Command line of the credential authority (``python -m ca``), docs/record.md §6.

    python -m ca keygen --out ca-key.pem
    python -m ca public-key --key ca-key.pem
    python -m ca issue --key ca-key.pem --manifest manifest.json ROLL.csv [ROLL2.csv ...] --out DIR
    python -m ca revoke --key ca-key.pem --dir DIR --electorate insured --voter-key K [--reissue]
    python -m ca pin --key ca-key.pem --manifest manifest.json --election-key election_key.json
                     --board-key board_key.json --credentials DIR/credentials.json
                     --officials officials.json --out opening.json
    python -m ca erase --dir DIR

Errors are printed as ``Error: …`` on stderr with exit status 1; progress goes to stderr.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

import click

from crypto.encoding import canonical_json

from .errors import CAError
from .erase import erase_letters
from .issue import issue_credentials
from .keys import fingerprint, generate_key, load_key, public_hex
from .pin import build_opening
from .revoke import revoke

_key_option = click.option(
    "--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The CA key (PEM written by 'keygen').")
_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("ca")
def ca_cli() -> None:
    """The credential authority's offline tool: a key, voter credentials and their letters,
    the signed public credential list, revocations and the opening object (docs/record.md §6).

    Run it on a machine that is not the voting server's, with a key only the CA holds."""


@ca_cli.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the new key (PEM, mode 0600; an existing file is never overwritten).")
def keygen(out: Path) -> None:
    """Make the CA key; print its public key (publish it) and its fingerprint (printed on
    every letter)."""
    try:
        key = generate_key(out)
    except CAError as exc:
        raise _fail(exc)
    public = public_hex(key)
    click.echo(f"CA key written to {out} (keep it offline; whoever has it can sign for the CA)")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {fingerprint(public)}")


@ca_cli.command("public-key")
@_key_option
def public_key(key_path: Path) -> None:
    """Print the CA key's public key and fingerprint."""
    try:
        public = public_hex(load_key(key_path))
    except CAError as exc:
        raise _fail(exc)
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {fingerprint(public)}")


class _Progress:
    """'insured: 120,000 / 1,000,000 voters (812/s)' on stderr, every few seconds."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, electorate: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.quiet or (now - self.last < 2.0 and done < total):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        click.echo(f"{electorate}: {done:,} / {total:,} voters ({rate:,.0f}/s)", err=True)


@ca_cli.command("issue")
@_key_option
@click.option("--manifest", "manifest_path", required=True, type=_file,
              help="The election's manifest (its SHA-256 in canonical JSON is the election id).")
@click.argument("rolls", nargs=-1, required=True, type=_file)
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The CA's folder of this election (created).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="Processes making credentials and letters (default: number of CPUs).")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def issue(key_path: Path, manifest_path: Path, rolls: tuple[Path, ...], out: Path,
          processes: Optional[int], quiet: bool) -> None:
    """Issue one credential per voter of the roll CSVs (docs/manifest.md §3).

    Every roll is checked first; if any line is wrong nothing is issued and every problem is
    named.  Writes OUT/letters/ (one printable letter per voter and mail-merge.csv: private,
    deliver them, then 'erase'), OUT/mapping-<electorate>.json (for the voting server:
    'ssbvote credentials import'), OUT/credentials.json (the signed public list: publish it)
    and OUT/issue-<electorate>.json.  An electorate is issued once per folder.  Issue every
    electorate before 'pin': the opening pins credentials.json."""
    try:
        key = load_key(key_path)
        summary = issue_credentials(manifest_path.read_bytes(), list(rolls), key, out,
                                    processes=processes or os.cpu_count() or 1,
                                    keep_credentials=False, progress=_Progress(quiet))
    except CAError as exc:
        raise _fail(exc)
    total = sum(summary.voters.values())
    for electorate, count in summary.voters.items():
        click.echo(f"{electorate}: {count:,} credentials issued")
    click.echo(f"election:          {summary.election_id}")
    click.echo(f"CA key fingerprint: {summary.fingerprint}")
    click.echo(f"credentials.json:  SHA-256 {summary.credentials_hash}")
    click.echo(f"letters:           {out / 'letters'} (private: deliver, then 'python -m ca erase')")
    click.echo(f"{total:,} voters in {summary.seconds:.1f} s ({total / max(summary.seconds, 1e-9):,.0f}/s)",
               err=True)


@ca_cli.command("revoke")
@_key_option
@click.option("--dir", "out_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="The CA's folder.")
@click.option("--electorate", required=True, type=click.Choice(["insured", "employer"]))
@click.option("--voter-key", "voter", required=True,
              help="The voter's key on the roll (national ID, or employer account number).")
@click.option("--reissue", is_flag=True, help="Issue a new credential and letter for the voter.")
@click.option("--name", default="", help="Addressee of the new letter (with --reissue).")
def revoke_command(key_path: Path, out_dir: Path, electorate: str, voter: str, reissue: bool,
                   name: str) -> None:
    """Revoke a voter's credential (lost or seen letter), optionally with a new one.

    The signed revocation is appended to DIR/revocations.jsonl: give it to the voting server
    ('ssbvote credentials revoke').  With --reissue the new letter is DIR/letters/<voter
    key>.html (mail merge: letters/reissued.csv).  Without --reissue it is final."""
    try:
        result = revoke(out_dir, load_key(key_path), electorate, voter, reissue=reissue, name=name)
    except CAError as exc:
        raise _fail(exc)
    click.echo(f"revoked {result.revocation['revoked']}")
    if result.letter is not None:
        click.echo(f"replacement {result.revocation['replacement']}, letter {result.letter}")
    click.echo(f"appended to {out_dir / 'revocations.jsonl'}")


@ca_cli.command("pin")
@_key_option
@click.option("--manifest", "manifest_path", required=True, type=_file)
@click.option("--election-key", "election_key", required=True, type=_file,
              help="election_key.json from the key ceremony (docs/protocol.md §9.2).")
@click.option("--board-key", "board_key", required=True, type=_file,
              help='The voting server\'s board_key.json {"algorithm": "Ed25519", "public_key": …}.')
@click.option("--credentials", required=True, type=_file, help="credentials.json from 'issue'.")
@click.option("--officials", required=True, type=_file,
              help='officials.json: [{"username": …, "public_key": <64 hex>}, …].')
@click.option("--witnesses", "witnesses", type=_file,
              help='witnesses.json: [{"name": …, "public_key": <64 hex>}, …] — the observers '
                   "whose co-signatures of the board head count (record.md §2.0, §3.5); "
                   "default: none.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the signed opening object.")
@click.option("--allow-insecure-test-key", is_flag=True, envvar="SSBVOTE_ALLOW_INSECURE_TEST_KEYS",
              help="Accept election keys below 2048 bits (tests and demos only).")
def pin(key_path: Path, manifest_path: Path, election_key: Path, board_key: Path,
        credentials: Path, officials: Path, witnesses: Optional[Path], out: Path,
        allow_insecure_test_key: bool) -> None:
    """Sign the opening object that pins the election's keys (docs/record.md §2.0); print
    the opening hash.  Give opening.json to the voting server before polls open."""
    try:
        opening = build_opening(load_key(key_path), manifest_path.read_bytes(),
                                election_key.read_bytes(), board_key.read_bytes(),
                                credentials.read_bytes(), officials.read_bytes(),
                                allow_insecure_test_key=allow_insecure_test_key,
                                witnesses=witnesses.read_bytes() if witnesses else b"[]")
    except CAError as exc:
        raise _fail(exc)
    out.write_bytes(canonical_json(opening.opening))
    click.echo(f"opening written to {out}")
    click.echo(f"opening hash: {opening.opening_hash}")


@ca_cli.command("erase")
@click.option("--dir", "out_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path), help="The CA's folder.")
def erase(out_dir: Path) -> None:
    """Overwrite, then delete DIR/letters (every private credential) once the letters are
    delivered.  The mapping, the public list and the revocations stay.

    This erases files only: the CA must also destroy every printed copy it keeps (and, on an
    SSD or a journalling file system, the encrypted volume's key), or it could still vote
    together with the server."""
    count = erase_letters(out_dir)
    click.echo(f"erased {count:,} files and {out_dir / 'letters'}" if count
               else f"nothing to erase in {out_dir}")


def main() -> None:
    ca_cli(prog_name="python -m ca")
