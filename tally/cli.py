"""Command line of the tally (``python -m tally``, also ``ssbvote tally`` / ``ssbvote trustee``).

    python -m tally preverify BOARD_SNAPSHOT --preverified FILE [--processes N]   (while polls are open)
    python -m tally prepare BOARD_EXPORT --work WORK [--processes N | --scheduler tcp://HOST:8786]
                                         [--preverified FILE]
    python -m tally trustee decrypt --share SHARE_FILE --board WORK --out OUT [--ca-key HEX] [--verify-all]
                                    [--state FILE] [--force]   (or --tally WORK/tally/encrypted_tally.json)
    python -m tally trustee check-share --share SHARE_FILE      (at the key ceremony)
    python -m tally finish --work WORK --record RECORD --shares S1 S2 ...   (or --shares S1 --shares S2)

Errors are printed as ``Error: …`` on stderr with exit status 1.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from .errors import TallyError

_hardlink_option = click.option(
    "--hardlink", is_flag=True,
    help="Hard-link the (large) board files instead of copying them; they must then never be edited in place.",
)
_processes_option = click.option(
    "--processes", type=click.IntRange(min=1), default=None,
    help="Verification processes (default: number of CPUs).",
)
_quiet_option = click.option("--quiet", is_flag=True, help="No progress bars.")
_batch_size_option = click.option(
    "--batch-size", type=click.IntRange(min=32, max=4096), default=None,
    help="Ballots verified in one batch at most (default 1024, ~0.9 GB per process at 2048 bits; "
         "smaller uses less memory and a little more time).",
)
_test_key_option = click.option(
    "--allow-insecure-test-key", is_flag=True, envvar="SSBVOTE_ALLOW_INSECURE_TEST_KEYS",
    help="Accept election keys below 2048 bits (tests and demos only).",
)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group("tally")
def tally_cli() -> None:
    """Tally a closed board: prepare, trustees decrypt offline, finish the election record."""


@tally_cli.command("prepare")
@click.argument("board_export", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--work", "work", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Work folder (created); holds the copied board and tally/.")
@_processes_option
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Verify on a Dask distributed cluster (e.g. tcp://host:8786) instead of local processes; "
                   "the workers must see the work folder at the same path.  Needs the 'scale' extra.")
@click.option("--preverified", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Ballots 'tally preverify' already verified during polling: their proofs are not checked again.")
@click.option("--witness", "witness_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A witness statement a witness handed over (docs/record.md §3.5); repeatable.  Prepare "
                   "refuses to start if a pinned witness's latest statement is not on the board.")
@_quiet_option
@_batch_size_option
@_hardlink_option
@_test_key_option
def prepare_cmd(board_export: Path, work: Path, processes: Optional[int], scheduler: Optional[str],
                preverified: Optional[Path], witness_files: tuple[Path, ...], quiet: bool,
                batch_size: Optional[int], hardlink: bool, allow_insecure_test_key: bool) -> None:
    """Check the closed board, select and verify the counted ballots, aggregate them.

    Writes WORK/tally/counted.json and WORK/tally/encrypted_tally.json (the TALLY_FILE the
    trustees decrypt).  Safe to re-run after an interruption: finished work is reused and the
    output is byte-identical.
    """
    from .prepare import ENCRYPTED_TALLY, prepare

    try:
        summary = prepare(board_export, work, processes=processes or os.cpu_count() or 1,
                          allow_insecure_test_key=allow_insecure_test_key, show_progress=not quiet,
                          hardlink=hardlink, scheduler=scheduler, preverified=preverified, batch_size=batch_size,
                          witnesses=witness_files)
    except TallyError as exc:
        raise _fail(exc) from None
    click.echo(f"Board: {summary.entries} entries, voters' signatures and final checkpoint verified.")
    if preverified is not None:
        click.echo(f"Pre-verified during polling: {summary.preverified} counted ballots (proofs not checked again).")
    if summary.chunks_reused:
        click.echo(f"Resumed: {summary.chunks_reused} verified chunks reused, {summary.chunks_computed} computed.")
    for contest, count in summary.counted.items():
        reasons = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.excluded[contest].items())) or "none"
        click.echo(f"Contest {contest}: {count} ballots counted; excluded: {reasons}.")
    for seq, reason in summary.invalid:
        click.echo(f"EXCLUDED invalid ballot seq {seq}: {reason}", err=True)
    click.echo(f"Tally file for the trustees: {work / ENCRYPTED_TALLY}")


@tally_cli.command("preverify")
@click.argument("board_snapshot", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--preverified", "known_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File of ballots verified so far (created, then appended to).")
@_processes_option
@_quiet_option
@_batch_size_option
@_test_key_option
def preverify_cmd(board_snapshot: Path, known_file: Path, processes: Optional[int], quiet: bool,
                  batch_size: Optional[int], allow_insecure_test_key: bool) -> None:
    """While polls are open: verify the new ballots of a board snapshot ahead of the tally.

    BOARD_SNAPSHOT is written by 'ssbvote board export --snapshot'.  Valid ballots are added to
    the --preverified file; 'tally prepare --preverified FILE' then skips their proof checks, so
    the count after the close only has to verify the ballots cast after the last snapshot.
    """
    from .preverify import preverify

    try:
        summary = preverify(board_snapshot, known_file, processes=processes or os.cpu_count() or 1,
                            allow_insecure_test_key=allow_insecure_test_key, show_progress=not quiet,
                            batch_size=batch_size)
    except TallyError as exc:
        raise _fail(exc) from None
    state = "final checkpoint (polls closed)" if summary.final else "checkpoint"
    click.echo(f"Snapshot: {summary.entries} entries up to a signed {state}.")
    click.echo(f"Verified now: {summary.verified} ballots; pre-verified in all: {summary.known} ({known_file}).")
    for seq, reason in summary.invalid:
        click.echo(f"INVALID ballot seq {seq}: {reason}", err=True)


@tally_cli.command("finish")
@click.option("--work", "work", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--shares", "shares", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trustee's decryption share file; repeat it, or list the files after it: --shares A B C.")
@click.option("--record", "record", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.argument("more_shares", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_hardlink_option
@_test_key_option
def finish_cmd(work: Path, shares: tuple[Path, ...], record: Path, more_shares: tuple[Path, ...], hardlink: bool,
               allow_insecure_test_key: bool) -> None:
    """Verify the trustees' shares, combine t of them, write results.json and the record."""
    from .finish import finish

    try:
        if not shares and not more_shares:
            raise TallyError("no decryption share files given (--shares FILE ...)")
        summary = finish(work, list(shares) + list(more_shares), record, allow_insecure_test_key=allow_insecure_test_key,
                         warn=lambda message: click.echo(message, err=True), hardlink=hardlink)
    except TallyError as exc:
        raise _fail(exc) from None
    click.echo(f"Trustees used: {', '.join(map(str, summary.trustees_used))} "
               f"(valid shares from {', '.join(map(str, summary.valid))}).")
    for contest_id, contest in summary.results["contests"].items():
        click.echo(f"Contest {contest_id}: {contest['counted_ballots']} ballots; elected {', '.join(contest['elected'])}"
                   + ("  [TIE AT LAST SEAT: decide by lot]" if contest["tie_at_last_seat"] else ""))
    click.echo(f"Election record written to {record}")


@click.group("trustee")
def trustee_cli() -> None:
    """Trustee tools (offline): decrypt the tally with your key share."""


def _passphrase(passphrase_file: Optional[Path]) -> str:
    if passphrase_file is not None:
        return passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    return str(click.prompt("Passphrase of your key share", hide_input=True, err=True))


def _hex_key(value: str) -> str:
    """64 lowercase hex, given as such or as a file that holds it (the CA's published key)."""
    import re

    text = value
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError:
            raise click.BadParameter("not 64 hex digits nor a readable file", param_hint="--ca-key") from None
    found: list[str] = re.findall(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])", text)
    if len(set(h.lower() for h in found)) != 1:
        raise click.BadParameter("expected one 64-hex Ed25519 public key", param_hint="--ca-key")
    return found[0].lower()


_share_option = click.option("--share", "share", required=True,
                             type=click.Path(exists=True, dir_okay=False, path_type=Path),
                             help="Your encrypted key-share file from the key ceremony.")
_passphrase_option = click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                                  help="Read the passphrase from this file (automation); otherwise you are asked for it.")


@trustee_cli.command("decrypt")
@_share_option
@click.option("--board", "board", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="The closed board export, or the tally's work folder (which holds a copy of it and "
                   "tally/counted.json); default: the work folder of --tally.")
@click.option("--tally", "tally_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The tally's encrypted tally (WORK/tally/encrypted_tally.json): compared with the tally this "
                   "tool rebuilds from the board; any difference is refused.")
@click.option("--counted", "counted", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The tally's counted set (default BOARD/tally/counted.json); without one, every counted "
                   "ballot's proofs are verified.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write your signed decryption shares (trustee-<index>.json).")
@_passphrase_option
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="State file recording what you decrypted (default: beside the share file, "
                   "<share>.decrypted.jsonl).")
@click.option("--force", is_flag=True,
              help="Decrypt a contest again although other ciphertexts of it were decrypted before (recorded).")
@click.option("--verify-all", is_flag=True,
              help="Verify the proofs of every counted ballot (default: a random sample of 100 per contest).")
@click.option("--ca-key", "ca_key", default=None, metavar="KEY",
              help="The credential authority's public key — 64 hex (printed on the letters) or a file holding "
                   "it: the board's opening must be signed by it.")
@_processes_option
@_quiet_option
@_test_key_option
def decrypt_cmd(share: Path, board: Optional[Path], tally_file: Optional[Path], counted: Optional[Path], out: Path,
                passphrase_file: Optional[Path], state: Optional[Path], force: bool, verify_all: bool,
                ca_key: Optional[str], processes: Optional[int], quiet: bool, allow_insecure_test_key: bool) -> None:
    """Rebuild the tally from the closed board and decrypt it: your signed decryption shares, with
    proofs (docs/protocol.md §6.11, docs/record.md §4.3).  Each contest of an election once."""
    from .trustee import decrypt

    if board is None and tally_file is None:
        raise click.UsageError("give --board (the closed board export or the tally's work folder) or --tally")
    if ca_key is not None:
        ca_key = _hex_key(ca_key)
    passphrase = _passphrase(passphrase_file)
    try:
        summary = decrypt(share, tally_file, out, passphrase, board=board, counted=counted, state=state, force=force,
                          verify_all=verify_all, processes=processes or 1, ca_key=ca_key,
                          allow_insecure_test_key=allow_insecure_test_key, show_progress=not quiet,
                          warn=lambda message: click.echo(message, err=True))
    except TallyError as exc:
        raise _fail(exc) from None
    click.echo(f"Trustee {summary.trustee} (index {summary.index}), election {summary.election_id}")
    click.echo(f"Tally rebuilt from the board; proofs of {summary.verified} ballots verified.")
    for contest, counted_ballots in sorted(summary.contests.items()):
        note = " (decrypted again: FORCED, recorded)" if contest in summary.forced else (
            " (same tally as decrypted before)" if contest in summary.repeated else "")
        click.echo(f"  contest {contest}: {counted_ballots} counted ballots{note}")
    click.echo(f"Signed decryption shares written to {out}")


@trustee_cli.command("check-share")
@_share_option
@_passphrase_option
@_test_key_option
def check_share_cmd(share: Path, passphrase_file: Optional[Path], allow_insecure_test_key: bool) -> None:
    """At the key ceremony: check the election key in your share file (docs/protocol.md §6.2) and
    that your share matches it; prints the key's SHA-256 to compare with the published one."""
    from .trustee import check_share

    try:
        checked, digest = check_share(share, _passphrase(passphrase_file), allow_insecure_test_key=allow_insecure_test_key)
    except TallyError as exc:
        raise _fail(exc) from None
    key = checked.election_key
    click.echo(f"Trustee {checked.trustee} (index {checked.index} of {len(key.trustees)}, threshold {key.threshold})")
    click.echo(f"Election key: every check passes (key proofs, verification base, shared secret); "
               f"{key.public_key.n.bit_length()} bits")
    click.echo(f"Your signing key: {key.trustees[checked.index - 1].signing_key}")
    click.echo(f"Election key SHA-256 (compare with the published election_key.json): {digest}")


tally_cli.add_command(trustee_cli)
