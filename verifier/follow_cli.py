"""``python -m verifier --follow URL --state FILE [--interval S]`` (docs/record.md §3.3):
rounds of :func:`verifier.follow.follow_round`, a line of progress each."""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

from verifier import i18n
from verifier.checks import Options
from verifier.errors import InvalidInput, RecordUnreadable
from verifier.follow import Client, FollowFailed, follow_round
from verifier.report import to_text


def follow_main(args: argparse.Namespace, options: Options) -> int:
    """Exit 0 if the last round passed, 1 if it found the server at fault, 2 if it could not
    run (network, unreadable data, bad arguments)."""
    lang = args.lang
    try:
        client = Client(args.follow if args.follow.endswith("/") else args.follow + "/")
    except InvalidInput as exc:
        print(i18n.ui("follow_error", lang, error=str(exc)), file=sys.stderr)
        return 2
    state = Path(args.state)
    number = 0
    while True:
        number += 1
        code = _round(client, state, copy.copy(options), number, args)
        if code == 1 or args.interval is None or (args.rounds and number >= args.rounds):
            return code
        time.sleep(max(0.0, args.interval))


def _round(client: Client, state: Path, options: Options, number: int,
           args: argparse.Namespace) -> int:
    lang = args.lang
    try:
        result = follow_round(client, state, options)
    except FollowFailed as exc:
        print(i18n.ui("follow_failed", lang, round=number, error=str(exc)), flush=True)
        return 1
    except (RecordUnreadable, InvalidInput) as exc:
        print(i18n.ui("follow_error", lang, error=str(exc)), file=sys.stderr, flush=True)
        return 2
    if not result.verification.ok or args.verbose:
        sys.stdout.write(to_text(result.verification, lang, verbose=args.verbose))
    if not result.verification.ok:
        failed = [r for r in result.verification.results if not r.passed]
        print(i18n.ui("follow_failed", lang, round=number,
                      error=", ".join(f"{r.number} {r.name}" for r in failed)), flush=True)
        return 1
    print(i18n.ui("follow_round", lang, round=number, seq=result.seq, head=result.head[:16],
                  new=result.new_ballots), flush=True)
    for r in result.verification.results:
        for note in r.notes:
            if note.code == "board_turnout.contest":
                print("  " + i18n.message(note.code, note.params, lang), flush=True)
    return 0
