"""The append-only, hash-chained audit log of official and system actions."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry
from app.models.base import utcnow

GENESIS = "0" * 64


def record(actor: str, action: str, subject: str = "", details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction (the caller commits)."""
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
