"""A published result without running the tally: the results page's tests store a result of
the shape of docs/record.md §4.4 (elected and tie flag by the tally's own rule,
tally.finish._rank), the signed paper-vote list's pseudonyms and the final checkpoint's time,
as :func:`app.services.voting.results.publish` and closing the polls would leave them."""
from __future__ import annotations

import json
from typing import Callable, Sequence

from app.extensions import db
from app.models import Candidate, Checkpoint, Election, PaperOverrideList, RollEntry
from election.lifecycle import Status
from tally.finish import _rank

CLOSED_AT = "2026-05-31T09:00:00Z"  # 16:00 in Bangkok


def publish(election: Election, votes: Callable[[Candidate], int], counted: int,
            paper_voters: Sequence[RollEntry] = (), status: Status = Status.TALLIED) -> dict[str, object]:
    contests: dict[str, object] = {}
    for contest in election.contests:
        candidates = [{"id": c.code, "number": c.ballot_number,
                       "name": {"th": c.name_th, "en": c.name_en}, "team": None, "votes": votes(c)}
                      for c in contest.candidates]
        elected, tie = _rank(candidates, contest.max_selections)
        contests[contest.code] = {"counted_ballots": counted, "max_selections": contest.max_selections,
                                  "candidates": candidates, "elected": elected, "tie_at_last_seat": tie}
    results: dict[str, object] = {"election_id": election.election_id, "trustees_used": [1, 2],
                                  "contests": contests}
    election.results = json.dumps(results, ensure_ascii=False)
    election.status = status.value
    db.session.add(PaperOverrideList(election_pk=election.id, body=json.dumps(
        {"pseudonyms": sorted(e.pseudonym for e in paper_voters), "signatures": []})))
    db.session.add(Checkpoint(election_pk=election.id, seq=0, final=True,
                              body=json.dumps({"at": CLOSED_AT, "final": True, "seq": 0})))
    db.session.commit()
    return results
