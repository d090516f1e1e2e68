"""Writing the closed board for the tally (docs/record.md §3). The tally never imports app/."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from app.extensions import db
from app.models import Election, PaperOverrideList
from app.services import board, signing
from app.services.errors import ServiceError
from crypto.encoding import canonical_json


def export(election: Election, out_dir: Path, snapshot: bool = False) -> Path:
    """Write the board export folder; refuses before close and before the paper list is signed.

    ``snapshot``: while the polls are open, write the board up to its latest signed checkpoint
    instead, without the paper list, for ``tally preverify`` (docs/record.md §3.1)."""
    cps = board.checkpoints(election)
    if snapshot:
        if not cps:
            raise ServiceError("the board has no signed checkpoint yet: a snapshot ends at one "
                               "(one is written every BOARD_CHECKPOINT_EVERY entries)")
        paper = None
    else:
        if not cps or not cps[-1]["final"]:  # the final checkpoint is the last one written
            raise ServiceError("the board can be exported only after polls have closed")
        paper = db.session.get(PaperOverrideList, election.id)
        if paper is None:
            raise ServiceError("the paper-vote list (possibly empty) must be approved before export")
    last_seq = cps[-1]["seq"]
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (work / "board").mkdir()
        (work / "manifest.json").write_bytes(election.manifest.encode("utf-8"))
        (work / "election_key.json").write_bytes((election.election_key or "").encode())
        (work / "board_key.json").write_bytes(canonical_json(signing.public_key_dict()))
        if paper is not None:
            (work / "paper_overrides.json").write_bytes(paper.body.encode())
        with (work / "board" / "entries.jsonl").open("wb") as entries, \
                (work / "board" / "ballots.jsonl").open("wb") as ballots:
            for entry, ballot in board.iter_entries_with_ballots(election, limit=last_seq):
                if ballot is None:
                    raise ServiceError(f"board entry {entry.seq}: its ballot is missing")
                entries.write(canonical_json(board.entry_dict(entry, election.election_id)) + b"\n")
                ballots.write(canonical_json({
                    "seq": entry.seq, "pseudonym": entry.pseudonym, "contest": entry.contest,
                    "ballot": json.loads(ballot)}) + b"\n")
        with (work / "board" / "checkpoints.jsonl").open("wb") as cps_file:
            for checkpoint in cps:
                cps_file.write(canonical_json(checkpoint) + b"\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out_dir
