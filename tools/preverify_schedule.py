"""Scheduled preverification (``ssbvote board preverify``, deploy/systemd/ssbvote-preverify.*):
one pass = a board snapshot up to its latest signed checkpoint (docs/record.md §3.1) and
``tally preverify`` of the ballots not verified before, into ``WORK/preverified.txt``.

Each pass — its progress or its failure — is an entry of the audit log (action
``board_preverified`` / ``board_preverify_failed``), so officials see on /official/audit how
far the verification has come, whichever host ran it.  After the close,
``tally prepare --preverified WORK/preverified.txt`` verifies only what is left.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from flask import Flask

from app.extensions import db
from app.services.administration import audit
from app.services.administration.manifest import get_election
from app.services.errors import ServiceError
from app.services.voting import board_export
from tally.errors import TallyError
from tally.preverify import preverify

ACTOR = "preverify"
PREVERIFIED_FILE = "preverified.txt"


class PreverifyFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class PassStatus:
    election: str
    entries: int  # board positions up to the snapshot's checkpoint
    verified_now: int
    preverified: int  # valid ballots in the preverified file after this pass
    invalid: int
    final: bool
    seconds: float

    def line(self) -> str:
        state = "final checkpoint (polls closed)" if self.final else "checkpoint"
        return (f"preverify {self.election}: board up to entry {self.entries:,} (signed {state}); "
                f"{self.verified_now:,} verified now, {self.preverified:,} preverified in all, "
                f"{self.invalid:,} invalid; {self.seconds:.1f} s")


def run_pass(app: Flask, slug: str, work: Path, *, processes: Optional[int] = None) -> PassStatus:
    """One pass; recorded in the audit log either way."""
    started = time.monotonic()
    work.mkdir(parents=True, exist_ok=True)
    snapshot = work / f"snapshot-{time.time_ns()}"
    allow_test_key = bool(app.config["SSBVOTE"].allow_insecure_test_keys)
    try:
        with app.app_context():
            try:
                board_export.export(get_election(slug), snapshot, snapshot=True)
            finally:
                db.session.remove()
        summary = preverify(snapshot, work / PREVERIFIED_FILE, processes=processes,
                            allow_insecure_test_key=allow_test_key, show_progress=False)
    except (ServiceError, TallyError) as exc:
        _record(app, "board_preverify_failed", slug, {"error": str(exc)})
        raise PreverifyFailed(f"preverify of {slug} failed: {exc}") from exc
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    status = PassStatus(slug, summary.entries, summary.verified, summary.known, len(summary.invalid),
                        summary.final, time.monotonic() - started)
    _record(app, "board_preverified", slug, {
        "entries": status.entries, "verified_now": status.verified_now, "preverified": status.preverified,
        "invalid": status.invalid, "invalid_seqs": [seq for seq, _ in summary.invalid][:50],
        "final": status.final, "seconds": round(status.seconds, 1)})
    return status


def _record(app: Flask, action: str, slug: str, details: dict[str, object]) -> None:
    with app.app_context():
        try:
            audit.record(ACTOR, action, slug, details)
            db.session.commit()
        finally:
            db.session.remove()
