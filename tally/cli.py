"""Command line of the tally (``python -m tally``, also ``ssbvote tally`` / ``ssbvote trustee``).

    python -m tally preverify BOARD_SNAPSHOT --preverified FILE [--processes N]   (while polls are open)
    python -m tally prepare BOARD_EXPORT --work WORK [--processes N | --scheduler tcp://HOST:8786]
                                         [--preverified FILE]
    python -m tally trustee decrypt --share SHARE_FILE --tally WORK/tally/encrypted_tally.json --out OUT
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
@_quiet_option
@_batch_size_option
@_hardlink_option
@_test_key_option
def prepare_cmd(board_export: Path, work: Path, processes: Optional[int], scheduler: Optional[str],
                preverified: Optional[Path], quiet: bool, batch_size: Optional[int], hardlink: bool,
                allow_insecure_test_key: bool) -> None:
    """Check the closed board, select and verify the counted ballots, aggregate them.

    Writes WORK/tally/counted.json and WORK/tally/encrypted_tally.json (the TALLY_FILE the
    trustees decrypt).  Safe to re-run after an interruption: finished work is reused and the
    output is byte-identical.
    """
    from .prepare import ENCRYPTED_TALLY, prepare

    try:
        summary = prepare(board_export, work, processes=processes or os.cpu_count() or 1,
                          allow_insecure_test_key=allow_insecure_test_key, show_progress=not quiet,
                          hardlink=hardlink, scheduler=scheduler, preverified=preverified, batch_size=batch_size)
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


@trustee_cli.command("decrypt")
@click.option("--share", "share", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Your encrypted key-share file from the key ceremony.")
@click.option("--tally", "tally_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The tally file (tally/encrypted_tally.json).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write your decryption shares (trustee-<index>.json).")
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the passphrase from this file (automation); otherwise you are asked for it.")
@_test_key_option
def decrypt_cmd(share: Path, tally_file: Path, out: Path, passphrase_file: Optional[Path],
                allow_insecure_test_key: bool) -> None:
    """Compute your decryption shares of the tally, with proofs (docs/record.md §4.3)."""
    from .trustee import decrypt

    if passphrase_file is not None:
        passphrase = passphrase_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        passphrase = click.prompt("Passphrase of your key share", hide_input=True, err=True)
    try:
        summary = decrypt(share, tally_file, out, passphrase, allow_insecure_test_key=allow_insecure_test_key)
    except TallyError as exc:
        raise _fail(exc) from None
    click.echo(f"Trustee {summary.trustee} (index {summary.index}), election {summary.election_id}")
    for contest, counted in sorted(summary.contests.items()):
        click.echo(f"  contest {contest}: {counted} counted ballots")
    click.echo(f"Decryption shares written to {out}")


tally_cli.add_command(trustee_cli)
