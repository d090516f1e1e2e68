"""The approval cards (issue 18, ``app.services.administration.approval_cards``, built on
another branch) of the poll extension and the lot (docs/record.md §2.7, §4.6): what the
dashboard shows of a pending proposal — the facts the officials sign and its digest (the
SHA-256 of the object without ``signatures``, the digest both officials see when signing).

:func:`register` plugs them in when that module is present and does nothing otherwise, so this
branch and the cards' branch merge in either order.  Approval itself is by signature on the
decision's own page (app/views/official.py), never by the card's plain approve button: a
proposal approved without the second signature is refused by the approval hook.
"""
from __future__ import annotations

import importlib
import json
from typing import Any, Callable

from flask_babel import lazy_gettext as _l

from app.models import Election, PendingAction
from election.board import paper_list_body, paper_list_digest

_LABELS = {"previous_closes": _l("Close in force"), "closes": _l("New closing time"),
           "reason": _l("Reason for the extension"), "at": _l("Made at (UTC)"), "contest": _l("Contest"),
           "seats": _l("Seats decided by lot")}


def _card(cards: Any, election: Election, pending: PendingAction | None, kind: str) -> Any:
    if pending is None or not pending.payload:
        return cards.Card()
    body = paper_list_body(json.loads(pending.payload))
    if kind == "extend_polls":
        facts = [(_LABELS[k], str(body.get(k, ""))) for k in ("previous_closes", "closes", "reason", "at")]
        return cards.Card(facts=facts, digest=paper_list_digest(body))
    names = {c.code: {x.code: x.name_th for x in c.candidates}
             for c in election.contests}.get(str(body.get("contest")), {})
    chosen = set(body.get("chosen", []))
    items = [cards.Item(key=cid, name=names.get(cid, ""), note=_l("Chosen by lot") if cid in chosen else "")
             for cid in body.get("tied", [])]
    return cards.Card(count=len(chosen), count_label=_l("Chosen by lot"), items=items,
                      items_label=_l("Tied candidates"), digest=paper_list_digest(body),
                      facts=[(_LABELS["contest"], str(body.get("contest"))),
                             (_LABELS["seats"], str(body.get("seats")))])


def register() -> None:
    """Register the two summaries with the approval cards, if that module exists."""
    try:
        cards = importlib.import_module("app.services.administration.approval_cards")
    except ModuleNotFoundError:
        return
    for kind in ("extend_polls", "record_lot"):
        cards.register(kind, _summarizer(cards, kind))


def _summarizer(cards: Any, kind: str) -> Callable[[Election, PendingAction | None], Any]:
    def summarize(election: Election, pending: PendingAction | None) -> Any:
        return _card(cards, election, pending, kind)
    return summarize
