"""The append-only, hash-chained audit log of official and system actions."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditEntry
from app.models.base import utcnow

GENESIS = "0" * 64
#: PostgreSQL advisory lock (any constant; "audi" in ASCII) held by a transaction appending to
#: the chain until it ends.
_APPEND_LOCK = 0x61756469


def record(actor: str, action: str, subject: str = "", details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits).

    Appends are serialised: on PostgreSQL the transaction first takes a transaction-level
    advisory lock, so a concurrent append (e.g. two voters registering at once) waits for the
    other's commit and then reads its entry as the last one, instead of linking to the same
    predecessor and failing on ``uq_audit_entry_prev_hash``. (SQLite transactions already hold
    the write lock.) Keep the rest of an auditing transaction short.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    last = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    prev_hash = last.entry_hash if last else GENESIS
    at = utcnow()
    body = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    material = "\x00".join([prev_hash, at.isoformat(), actor, action, subject, body])
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=body,
        prev_hash=prev_hash,
        entry_hash=hashlib.sha256(material.encode("utf-8")).hexdigest(),
    )
    db.session.add(entry)
    return entry


def verify_chain() -> list[str]:
    """Recompute the chain; return a problem per broken link (empty if intact)."""
    problems = []
    prev = GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        material = "\x00".join(
            [entry.prev_hash, entry.at.isoformat(), entry.actor, entry.action, entry.subject,
             entry.details]
        )
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.id}: previous hash does not match")
        if hashlib.sha256(material.encode("utf-8")).hexdigest() != entry.entry_hash:
            problems.append(f"entry {entry.id}: content does not match its hash")
        prev = entry.entry_hash
    return problems


def recent(limit: int) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first."""
    return list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
