"""The audit log read as sentences (issue 18): who did what, to what, and the outcome, in the
page's language.  The raw entry (actor, action, subject, details JSON) stays what the hash
chain covers (app/services/administration/audit.py); the page folds it under each sentence.

An action this module does not know is still shown, as "<who>: <action> (<subject>)", so a new
kind of entry is never hidden.  New two-official actions are described by their label
(:data:`ACTION_NAMES`, which app/views/official.py also uses), e.g. "propose_extend_polls".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString, lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, Official

#: The two-official actions by name (the audit log's ``propose_<name>``, ``approve_<name>``, …).
ACTION_NAMES: dict[str, LazyString] = {
    "open_polls": _l("Open polls"),
    "close_polls": _l("Close polls"),
    "record_paper_votes": _l("Record paper votes"),
    "release_account": _l("Release a voter's account"),
    "extend_polls": _l("Extend the poll window"),  # docs/record.md §2.7
    "record_lot": _l("Record the lot at a tied last seat"),  # docs/record.md §4.6
}
#: Outcome of an entry, for its badge: done, refused, failed or info.
DONE, REFUSED, FAILED, INFO = "done", "refused", "failed", "info"

_FOUR_EYES = {
    "propose": (_l("%(who)s proposed: %(action)s (%(subject)s); a second official must approve it."), INFO),
    "approve": (_l("%(who)s approved and carried out: %(action)s (%(subject)s)."), DONE),
    "cancel": (_l("%(who)s cancelled the proposal: %(action)s (%(subject)s)."), INFO),
    "expire": (_l("The proposal %(action)s (%(subject)s) expired: no second official approved it in time."), REFUSED),
}
_PLAIN: dict[str, tuple[LazyString, str]] = {
    "self_approval_refused": (_l("%(who)s tried to approve their own proposal (%(subject)s): refused."), REFUSED),
    "official_login": (_l("%(who)s signed in."), DONE),
    "official_login_failed": (_l("%(who)s failed to sign in (wrong %(factor)s)."), FAILED),
    "official_logout": (_l("%(who)s signed out."), DONE),
    "official_added": (_l("%(who)s added the official %(subject)s (role %(role)s)."), DONE),
    "official_credential": (_l("%(who)s issued a new official credential to %(subject)s."), DONE),
    "voter_registered": (_l("A voter registered an account (pseudonym %(short)s)."), DONE),
    "voter_recovered": (_l("A voter recovered their account (pseudonym %(short)s)."), DONE),
    "voter_unlocked": (_l("%(who)s unlocked a voter's sign-in and registration (pseudonym %(short)s). Reason: %(reason)s"), DONE),
    "release_account": (_l("%(who)s released a voter's account (pseudonym %(short)s). Reason: %(reason)s"), DONE),
    "activation_code_issued": (_l("%(who)s issued an activation code to a voter (pseudonym %(short)s)."), DONE),
    "activation_letters_issued": (_l("%(who)s issued %(count)s activation letters."), DONE),
    "election.create": (_l("%(who)s created the election %(subject)s."), DONE),
    "election.key_ceremony": (_l("%(who)s recorded the key ceremony of %(subject)s."), DONE),
    "election.pin": (_l("%(who)s pinned the credential authority's opening of %(subject)s (hash %(opening)s)."), DONE),
    "roll.import": (_l("%(who)s imported %(rows)s voters into the %(electorate)s roll of %(subject)s."), DONE),
    "credentials.import_mapping": (_l("%(who)s imported the credential mapping of %(subject)s (%(added)s added)."), DONE),
    "credentials.import_list": (_l("%(who)s imported the signed credential list of %(subject)s."), DONE),
    "credentials.revoke": (_l("%(who)s recorded credential revocations for %(subject)s (%(revoked)s revoked)."), DONE),
    "results.publish": (_l("%(who)s published the results of %(subject)s."), DONE),
    "witness.statement": (_l("%(who)s (witness) countersigned the board of %(subject)s at entry %(seq)s."), DONE),
    "board_preverified": (_l("The server checked the board of %(subject)s in advance: %(entries)s entries, %(invalid)s invalid."), DONE),
    "board_preverify_failed": (_l("The server's advance check of the board of %(subject)s failed."), FAILED),
}
_UNKNOWN = _l("%(who)s: %(action)s (%(subject)s)")
_FACTORS = {"password": _l("password"), "totp": _l("authenticator code")}


@dataclass(frozen=True)
class Line:
    """One audit entry for the page: the sentence, its outcome and the raw entry."""

    entry: AuditEntry
    sentence: str
    outcome: str
    raw: str  # the entry as JSON (what the hash covers), folded on the page


def _who(actor: str, names: dict[str, str]) -> str:
    kind, _sep, rest = actor.partition(":")
    if kind == "official" and rest:
        people = [names.get(u, u) for u in rest.split("+")]
        return " + ".join(people)
    if actor == "system":
        return str(_l("The system"))
    if actor == "voter":
        return str(_l("A voter"))
    if actor == "cli":
        return str(_l("An operator (command line)"))
    return rest if kind == "witness" and rest else actor


def describe(entry: AuditEntry, names: dict[str, str]) -> Line:
    try:
        details: dict[str, Any] = json.loads(entry.details or "{}")
        if not isinstance(details, dict):
            details = {}
    except ValueError:
        details = {}
    values: dict[str, object] = {k: v for k, v in details.items() if isinstance(v, (str, int, float))}
    values.update(who=_who(entry.actor, names), subject=entry.subject, action=entry.action,
                  short=entry.subject[:16], reason=details.get("reason", ""),
                  opening=str(details.get("opening_hash", ""))[:16])
    factor = details.get("factor")
    values["factor"] = str(_FACTORS.get(str(factor), factor or ""))
    verb, _sep, name = entry.action.partition("_")
    template: LazyString
    if verb in _FOUR_EYES and name in ACTION_NAMES:
        template, outcome = _FOUR_EYES[verb]
        values["action"] = str(ACTION_NAMES[name])
    elif entry.action in _PLAIN:
        template, outcome = _PLAIN[entry.action]
    else:
        template, outcome = _UNKNOWN, INFO
    try:
        sentence = str(template) % values
    except (KeyError, TypeError, ValueError):  # a detail missing from an old entry
        sentence = str(_UNKNOWN) % values
    raw = json.dumps({"id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor,
                      "action": entry.action, "subject": entry.subject, "details": details,
                      "entry_hash": entry.entry_hash}, ensure_ascii=False, indent=1)
    return Line(entry, sentence, outcome, raw)


def describe_all(entries: list[AuditEntry]) -> list[Line]:
    names = {o.username: o.display_name for o in db.session.scalars(select(Official))}
    return [describe(e, names) for e in entries]

