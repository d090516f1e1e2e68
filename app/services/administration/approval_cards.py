"""What two officials approve, shown before they approve it (issue 18; docs/accounts.md §6).

Every two-official action kind has a *summary*: the thing proposed in the terms the officials
check it by — how many (ballots, voters), who (IDs and names, the page folds a long list) and
the digest of what is approved (for the paper-vote list the SHA-256 digest of
docs/record.md §2.4 that the officials sign).  The officials' dashboard renders the one card
template (app/templates/official/_approval_card.html) for every kind; a new kind plugs in with

    approval_cards.register("extend_polls", summarize)   # summarize(election, pending) -> Card

(``pending`` is None when the card is shown before a proposal exists, e.g. on the confirmation
step).  When a card has a ``digest`` the approval form sends back the digest the approver saw
and :func:`check_seen` refuses the approval if the proposal no longer has it.  ``confirm``
cards (closing the polls) need an explicit confirmation step, naming the election and the
time, before they are proposed or approved.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Callable, TypeAlias

from flask_babel import LazyString, lazy_gettext as _l
from sqlalchemy import distinct, func, select

from app.extensions import db
from app.models import BoardEntry, BoardHead, Election, PendingAction, RollEntry
from app.services.errors import Conflict
from election.board import KIND_BALLOT, paper_list_body, paper_list_digest

#: A label: plain text or a lazy translation (rendered in the page's language).
Text: TypeAlias = "str | LazyString"


@dataclass(frozen=True)
class Item:
    """One thing the action names: an ID (national ID, employer account, contest code, …),
    a name and a short note (electorate, counts)."""

    key: str
    name: str = ""  # (Thai, or the only name)
    note: Text = ""
    name_en: str = ""  # the English name, when it differs


@dataclass(frozen=True)
class Card:
    """What an approver sees of a two-official action before approving it."""

    count: int | None = None  # how many things are approved (voters, ballots); None: not countable
    count_label: Text = ""  # what ``count`` counts, e.g. "Voters on the list"
    items: list[Item] = field(default_factory=list)  # the names/IDs (all of them; the page folds)
    items_label: Text = ""  # caption of the items table
    item_headers: tuple[Text, Text, Text] = (_l("ID"), _l("Name"), _l("Details"))
    digest: str | None = None  # hex digest of exactly what is approved; bound to the approval
    digest_label: Text = _l("Digest of what is approved")
    facts: list[tuple[Text, str]] = field(default_factory=list)  # (label, value) lines shown as-is
    confirm: bool = False  # proposing/approving needs the confirmation step
    problems: list[Text] = field(default_factory=list)  # why approving now would be refused


Summarizer = Callable[[Election, PendingAction | None], Card]
_SUMMARIZERS: dict[str, Summarizer] = {}


class DigestChanged(Conflict):
    """The approver approved a digest that is not (or no longer) the proposal's."""


def register(action: str, summarizer: Summarizer) -> None:
    """``summarizer(election, pending_or_None) -> Card`` for every proposal of ``action``."""
    _SUMMARIZERS[action] = summarizer


def card(election: Election, action: str, pending: PendingAction | None = None) -> Card:
    """The card of ``action`` (a pending proposal, or the action about to be proposed)."""
    summarizer = _SUMMARIZERS.get(action)
    if summarizer is None:  # a kind without a summary still shows what it carries
        return _payload_card(pending)
    return summarizer(election, pending)


def check_seen(pending: PendingAction, seen: str) -> None:
    """Refuse the approval unless the approver saw this proposal's digest (if it has one)."""
    expected = card(pending.election, pending.action, pending).digest
    if expected is not None and not hmac.compare_digest(seen.strip().lower(), expected):
        raise DigestChanged("the proposal is not the one you saw (its digest differs): "
                            "check it again before approving")


def payload_digest(pending: PendingAction | None) -> str | None:
    """SHA-256 of the proposal's payload (canonical JSON), for kinds that sign nothing else."""
    if pending is None or pending.payload is None:
        return None
    return hashlib.sha256(pending.payload.encode("utf-8")).hexdigest()


def _payload_card(pending: PendingAction | None) -> Card:
    facts: list[tuple[Text, str]] = []
    if pending is not None and pending.payload:
        facts.append((_l("What is proposed"), pending.payload))
    return Card(digest=payload_digest(pending), facts=facts)


# --- the built-in kinds ---------------------------------------------------------------------
def _contest_counts(election: Election) -> dict[str, tuple[int, int]]:
    return {code: (int(n), int(v)) for code, n, v in db.session.execute(
        select(BoardEntry.contest, func.count(), func.count(distinct(BoardEntry.pseudonym)))
        .where(BoardEntry.election_pk == election.id, BoardEntry.kind == KIND_BALLOT)
        .group_by(BoardEntry.contest)).all()}


def _eligible(election: Election) -> dict[str, int]:
    return {e: int(n) for e, n in db.session.execute(
        select(RollEntry.electorate, func.count()).where(RollEntry.election_pk == election.id)
        .group_by(RollEntry.electorate)).all()}


def _contests(election: Election) -> list[tuple[str, str, str]]:
    return [(c.code, c.title_th, c.title_en) for c in sorted(election.contests, key=lambda c: c.position)]


def open_polls(election: Election, pending: PendingAction | None) -> Card:
    """Opening: the voters on each contest's roll; the digest is the CA-signed opening's hash
    (docs/record.md §2.0), which every ballot, checkpoint and receipt is bound to."""
    eligible = _eligible(election)
    items = [Item(c.code, c.title_th, _l("%(n)d voters on the roll", n=eligible.get(c.electorate, 0)),
                  c.title_en)
             for c in sorted(election.contests, key=lambda c: c.position)]
    problems: list[Text] = []
    if not election.election_key:
        problems.append(_l("The key ceremony has not made the election key yet."))
    if election.opening_hash is None:
        problems.append(_l("The credential authority's signed opening has not been pinned yet."))
    return Card(count=sum(eligible.values()), count_label=_l("Voters on the rolls"), items=items,
                items_label=_l("Contests"), item_headers=(_l("Contest"), _l("Title"), _l("Roll")),
                digest=election.opening_hash, digest_label=_l("Opening hash (signed by the credential authority)"),
                facts=[(_l("Election"), election.slug)], problems=problems)


def close_polls(election: Election, pending: PendingAction | None) -> Card:
    """Closing: what is on the board now, per contest; the final checkpoint will sign the head
    the board has at the moment of approval (it still moves while voters cast)."""
    counts = _contest_counts(election)
    items = [Item(code, title_th, _l("%(ballots)d ballots, %(voters)d voters",
                                     ballots=counts.get(code, (0, 0))[0], voters=counts.get(code, (0, 0))[1]),
                  title_en)
             for code, title_th, title_en in _contests(election)]
    head = db.session.scalar(select(BoardHead).where(BoardHead.election_pk == election.id))
    facts: list[tuple[Text, str]] = [(_l("Election"), election.slug)]
    if head is not None:
        facts.append((_l("Board head now (entry %(seq)d)", seq=head.seq), head.head))
    return Card(count=sum(n for n, _v in counts.values()), count_label=_l("Ballots on the board now"),
                items=items, items_label=_l("Contests"),
                item_headers=(_l("Contest"), _l("Title"), _l("On the board")),
                facts=facts, confirm=True)


def record_paper_votes(election: Election, pending: PendingAction | None) -> Card:
    """The paper-vote list: its voters (IDs, names) and the SHA-256 digest the officials sign."""
    from app.services.voting import paper_votes  # paper_votes imports approvals

    if pending is None or not pending.payload:
        return Card(count_label=_l("Voters on the list"))
    body = paper_list_body(json.loads(pending.payload))
    people = paper_votes.identities(election, list(body.get("pseudonyms", [])))
    items = [Item(p["voter_id"], p["name"], _electorate_label(p["electorate"])) for p in people]
    return Card(count=len(body.get("pseudonyms", [])), count_label=_l("Voters on the list"),
                items=items, items_label=_l("The voters who voted on paper"),
                item_headers=(_l("Voter ID"), _l("Name"), _l("Electorate")),
                digest=paper_list_digest(body), digest_label=_l("Digest of the list (SHA-256, signed by both officials)"))


def release_account(election: Election, pending: PendingAction | None) -> Card:
    """Releasing an account: the voter (ID, name from the roll), the reason; the digest is the
    proposal's payload hash."""
    if pending is None or not pending.payload:
        return Card(count_label=_l("Accounts released"))
    data = json.loads(pending.payload)
    entry = db.session.scalar(select(RollEntry).where(RollEntry.pseudonym == str(data.get("pseudonym", ""))))
    items = [Item(entry.voter_key, entry.display_name, _electorate_label(entry.electorate))] if entry else []
    return Card(count=1, count_label=_l("Accounts released"), items=items,
                items_label=_l("The voter whose account is released"),
                item_headers=(_l("Voter ID"), _l("Name"), _l("Electorate")),
                digest=payload_digest(pending), digest_label=_l("Digest of the proposal (SHA-256)"),
                facts=[(_l("Reason"), str(data.get("reason", ""))),
                       (_l("Voter (pseudonym)"), str(data.get("pseudonym", "")))])


def _electorate_label(electorate: str) -> Text:
    labels: dict[str, Text] = {"insured": _l("Insured employee"), "employer": _l("Employer")}
    return labels.get(electorate, electorate)


def init_builtin() -> None:
    register("open_polls", open_polls)
    register("close_polls", close_polls)
    register("record_paper_votes", record_paper_votes)
    register("release_account", release_account)
