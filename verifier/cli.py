"""Command line: ``python -m verifier RECORD_DIR --ca-key KEY`` and ``ssbvote verify …``.

Exit status (docs/record.md §5): 0 every check passed, 1 a check failed, 2 the record cannot
be read.  Voter modes (§5.1), instead of the full verification: ``--receipt R`` (0 the
receipt's ballot is on the board, 1 it is missing or different, 2 the receipt is not one of
this election), ``--tracker T`` (0 the tracker is on the board, 1 it is not where the QR text
says or not at all, 2 T is not a tracker) and ``--audit CODE`` (0 the audited ballot opens and
its choices are printed, 1 it does not, 2 CODE is not an audit code).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from verifier import arith, i18n
from verifier.checks import Options, verify_record, verify_snapshot
from verifier.follow_cli import follow_main
from verifier.seen import load_seen
from verifier.errors import InvalidInput, RecordUnreadable
from verifier.parallel import default_processes
from verifier.progress import ProgressBar
from verifier.auditcode import check_audit_code
from verifier.receipt import check_receipt
from verifier.report import (audit_json, audit_text, exit_code, receipt_json, receipt_text,
                             to_json, to_text, tracker_json, tracker_text, unreadable_json)
from verifier.tracker import check_tracker
from verifier.signatures import read_key_option

PROGRESS_MIN_BALLOTS = 50


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m verifier",
        description="Independently verify an SSB Vote election record "
                    "(docs/record.md §5: checks 1–42), or check one voter's receipt, tracker "
                    "or audited ballot (§5.1).")
    p.add_argument("record", nargs="?", help="the election record directory")
    p.add_argument("--snapshot", metavar="DIR",
                   help="check a snapshot of an open board instead of a record "
                        "(docs/record.md §3.3): chain, checkpoints, every ballot's proofs, "
                        "credentials and signatures; reports turnout")
    p.add_argument("--follow", metavar="URL",
                   help="follow a live election: http(s)://host/api/elections/<slug>/ "
                        "(record.md §3.3); needs --state")
    p.add_argument("--state", metavar="FILE",
                   help="the observer's state file for --follow (every checkpoint seen, the "
                        "last verified head); the local copy is kept in FILE.board/")
    p.add_argument("--interval", type=float, metavar="S",
                   help="with --follow: repeat every S seconds (default: one round)")
    p.add_argument("--rounds", type=int, metavar="N",
                   help="with --follow --interval: stop after N rounds")
    p.add_argument("--seen", metavar="FILE",
                   help="the checkpoints an observer saw (a state file or a .jsonl): the "
                        "record or snapshot must extend every one (check 32, record.md §3.4)")
    p.add_argument("--ca-key", metavar="KEY",
                   help="the credential authority's public key as the CA itself publishes it "
                        "(printed on every credential letter): 64 hex digits, or a file "
                        "holding them or {\"public_key\": hex}; check 17 fails without it")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--receipt", metavar="FILE",
                      help="voter mode: check this receipt (the JSON the ballot page saved) "
                           "against the record, instead of the full verification (with "
                           "--ca-key, the record's opening is checked too)")
    mode.add_argument("--tracker", metavar="T",
                      help="voter mode: where a tracker is on the board and whether its "
                           "ballot was counted, superseded, audited or excluded; T is the "
                           "receipt's QR text (ssbvote-tracker:1:SEQ:HASH) or the full "
                           "tracker (64 hex digits)")
    mode.add_argument("--audit", metavar="CODE",
                      help="open an audited ballot with its published seed and print its "
                           "choices; CODE is the audit code the voting device showed "
                           "(ssbvote-audit:1:SEQ:HASH)")
    p.add_argument("--lang", choices=i18n.LANGUAGES, default="en",
                   help="report language: en (default) or th")
    p.add_argument("--json", action="store_true", help="print a JSON report for machines")
    p.add_argument("--processes", type=int, default=default_processes(),
                   help="worker processes for ballot proofs (default: all cores)")
    p.add_argument("--no-batch", action="store_true",
                   help="verify each proof on its own instead of batch verification (§7)")
    p.add_argument("--allow-test-key", action="store_true",
                   help="accept an election key below 2048 bits (test records only)")
    p.add_argument("--pure-python", action="store_true",
                   help="do not use gmpy2 (slower; same results)")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress bar on stderr (auto: on a terminal, for big records)")
    p.add_argument("--verbose", action="store_true", help="list every failure")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["witness"]:
        from verifier.witness_cli import main as witness_main
        return witness_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    modes = [m for m in (args.record, args.snapshot, args.follow) if m is not None]
    if len(modes) != 1:
        parser.error("give exactly one of RECORD, --snapshot DIR, --follow URL")
    if args.follow is not None and args.state is None:
        parser.error("--follow needs --state FILE")
    if args.record is None and any(m is not None for m in (args.receipt, args.tracker, args.audit)):
        parser.error("--receipt, --tracker and --audit check a RECORD")
    seen = None
    if args.seen is not None:
        try:
            seen = load_seen(args.seen)
        except InvalidInput as exc:
            parser.error(f"--seen: {exc}")
    ca_key = None
    if args.ca_key is not None:
        try:
            ca_key = read_key_option(args.ca_key)
        except InvalidInput as exc:
            parser.error(f"--ca-key: {exc}")  # exits with status 2
    if args.receipt is not None:
        return _voter_mode(args, ca_key)
    if args.tracker is not None or args.audit is not None:
        return _lookup_mode(args)
    if args.pure_python:
        arith.use_gmpy2(False)
    bar: ProgressBar | None = None
    if args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty()):
        bar = ProgressBar(i18n.ui("progress", args.lang))

    def progress(phase: str, done: int, total: int) -> None:
        if bar is not None and (args.progress == "always" or total >= PROGRESS_MIN_BALLOTS):
            bar.update(phase, done, total)

    options = Options(allow_test_key=args.allow_test_key, processes=max(1, args.processes),
                      batched=not args.no_batch, progress=progress, ca_key=ca_key, seen=seen)
    if args.follow is not None:
        return follow_main(args, options)
    try:
        if args.snapshot is not None:
            verification = verify_snapshot(args.snapshot, options)
        else:
            verification = verify_record(args.record, options)
    except RecordUnreadable as exc:
        if args.json:
            print(unreadable_json(args.record or args.snapshot, str(exc)))
        else:
            print(i18n.ui("unreadable", args.lang, error=str(exc)), file=sys.stderr)
        return 2
    if args.json:
        print(to_json(verification, args.lang))
    else:
        sys.stdout.write(to_text(verification, args.lang, verbose=args.verbose))
    return exit_code(verification)


def _voter_mode(args: argparse.Namespace, ca_key: bytes | None) -> int:
    """``--receipt R``: docs/record.md §5.1 (with ``--ca-key``, the opening is checked too)."""
    try:
        result = check_receipt(args.record, args.receipt, ca_key)
    except RecordUnreadable as exc:
        if args.json:
            print(unreadable_json(args.record, str(exc)))
        else:
            print(i18n.ui("unreadable", args.lang, error=str(exc)), file=sys.stderr)
        return 2
    if args.json:
        print(receipt_json(result, args.record, args.receipt, args.lang))
    else:
        sys.stdout.write(receipt_text(result, args.lang))
    return result.exit_code


def _lookup_mode(args: argparse.Namespace) -> int:
    """``--tracker T`` or ``--audit CODE`` (docs/record.md §5.1)."""
    try:
        if args.tracker is not None:
            tracked = check_tracker(args.record, args.tracker)
            text = (tracker_json(tracked, args.record, args.tracker, args.lang) + "\n"
                    if args.json else tracker_text(tracked, args.lang))
            code = tracked.exit_code
        else:
            if args.pure_python:
                arith.use_gmpy2(False)
            audited = check_audit_code(args.record, args.audit)
            text = (audit_json(audited, args.record, args.audit, args.lang) + "\n"
                    if args.json else audit_text(audited, args.lang))
            code = audited.exit_code
    except RecordUnreadable as exc:
        if args.json:
            print(unreadable_json(args.record, str(exc)))
        else:
            print(i18n.ui("unreadable", args.lang, error=str(exc)), file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return code


def _make_click_command() -> Any:
    """``ssbvote verify``: the same options, parsed by :func:`build_parser` (one definition)."""
    import click  # only the app's CLI needs click; ``python -m verifier`` does not

    @click.command("verify", context_settings={"ignore_unknown_options": True,
                                               "help_option_names": []},
                   add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def verify_command(args: tuple[str, ...]) -> None:
        """Independently verify an election record (python -m verifier --help)."""
        sys.exit(main(list(args)))

    return verify_command


try:
    verify_command = _make_click_command()
except ImportError:  # pragma: no cover - click absent: only python -m verifier
    verify_command = None
