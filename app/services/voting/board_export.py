"""Writing the closed board for the tally (docs/record.md §3). The tally never imports app/.

The folder is written by :func:`election.export.write_export` (atomically) from the database's
rows: with the CA-signed opening, credential list and revocations (record format version 2)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from app.extensions import db
from app.models import Election, PaperOverrideList
from app.services.administration import authority
from app.services.platform import signing
from app.services.voting import board, poll_extensions, witnesses
from app.services.errors import Conflict
from election.export import BoardItem, write_export


def export(election: Election, out_dir: Path, snapshot: bool = False) -> Path:
    """Write the board export folder; refuses before close and before the paper list is signed.

    ``snapshot``: while the polls are open, write the board up to its latest signed checkpoint
    instead, without the paper list, for ``tally preverify`` (docs/record.md §3.1)."""
    authority.check_export_inputs(election)
    cps = board.checkpoints(election)
    if snapshot:
        if not cps:
            raise Conflict("the board has no signed checkpoint yet: a snapshot ends at one "
                               "(one is written every BOARD_CHECKPOINT_EVERY entries)")
        paper = None
    else:
        if not cps or not cps[-1]["final"]:  # the final checkpoint is the last one written
            raise Conflict("the board can be exported only after polls have closed")
        paper = db.session.get(PaperOverrideList, election.id)
        if paper is None:
            raise Conflict("the paper-vote list (possibly empty) must be approved before export")
    last_seq = cps[-1]["seq"]

    def items() -> Iterator[BoardItem]:
        for entry, ballot in board.iter_entries_with_ballots(election, limit=last_seq):
            if ballot is None:
                raise Conflict(f"board entry {entry.seq}: its ballot is missing")
            yield board.entry_dict(entry, election.election_id), ballot.encode()

    return write_export(
        out_dir,
        manifest=election.manifest.encode("utf-8"),
        election_key=(election.election_key or "").encode(),
        board_key=signing.public_key_dict(),
        opening=json.loads(election.opening or "{}"),
        credentials=authority.credential_list_bytes(election),
        revocations=authority.revocations(election),
        board=items(),
        checkpoints=cps,
        paper_overrides=None if paper is None else json.loads(paper.body),
        witnesses=() if snapshot else list(witnesses.latest(election).values()),
        poll_extensions=poll_extensions.extensions(election),
    )
