"""``tally preverify``: check the proofs of a board snapshot's ballots while the polls are open
(docs/record.md §3.1).

A snapshot is a board export that ends at a signed checkpoint which need not be final
(``ssbvote board export --snapshot``).  Its pins, chain, voters' signatures and checkpoints are
checked as for the closed board; then every ballot that is its credential's latest so far (of a
credential not revoked so far), and not yet in the pre-verified file, is verified in batches across ballots like the tally's, and each valid one is appended to
the file (tally/preverified.py).  Run it as often as convenient during polling: each run only
verifies what is new.  A ballot that is latest when the polls close was latest in every earlier
snapshot that contained it, so the final ``tally prepare --preverified FILE`` finds all of them
there except those cast after the last snapshot.

Nothing here decides what is counted: invalid ballots are reported but not recorded (the final
prepare finds and names them again), and the paper-vote overrides, signed only after the close,
are not needed.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import board as board_mod
from .errors import BoardRefused, TallyError
from .prepare import _run_chunks, chunk_size, verify_context
from .preverified import Preverified
from .progress import progress

SNAPSHOT_FILES = board_mod.SNAPSHOT_FILES


@dataclass
class PreverifySummary:
    entries: int  # board positions in the snapshot (= its last checkpoint's seq)
    final: bool  # the snapshot ends at the final checkpoint (the polls had closed)
    verified: int  # ballots verified valid by this run and added to the file
    known: int  # ballots in the file after this run
    invalid: list[tuple[int, str]]  # (seq, reason)


def preverify(
    export: Path,
    known_file: Path,
    *,
    processes: Optional[int] = None,
    allow_insecure_test_key: bool = False,
    show_progress: bool = True,
    batch_size: Optional[int] = None,
) -> PreverifySummary:
    """Verify the snapshot's not yet verified latest ballots; record the valid ones in ``known_file``."""
    export, known_file = Path(export), Path(known_file)
    if not export.is_dir():
        raise TallyError(f"board snapshot {export} is not a folder")
    for name in SNAPSHOT_FILES:
        if not (export / name).is_file():
            raise BoardRefused(f"board snapshot: {name} is missing")
    processes = processes or os.cpu_count() or 1
    checked = board_mod.check_board(export, allow_insecure_test_key, closed=False, show_progress=show_progress)
    manifest, key, index, checkpoints = checked.manifest, checked.key, checked.index, checked.checkpoints
    known = Preverified.load(known_file, manifest.election_id, key.public_key.n, create=True)
    context = verify_context(manifest, key.public_key.n, allow_insecure_test_key, export)
    added = 0
    invalid: dict[int, str] = {}
    stats = {"reused": 0, "computed": 0, "preverified": 0}
    known_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".preverify-", dir=known_file.parent) as scratch, \
            progress("Verifying ballots          ", index.count, show_progress) as advance:
        for result in _run_chunks(export, Path(scratch), context, index, frozenset(checked.voters.revoked),
                                  frozenset(), processes, advance, stats,
                                  chunk_size(index.count, processes, batch_size), None, known,
                                  only_unverified=True):
            added += known.add(result.verified)  # durable chunk by chunk: an interrupted run loses little
            invalid.update(result.invalid)
    return PreverifySummary(index.count, bool(checkpoints[-1]["final"]), added, len(known), sorted(invalid.items()))
