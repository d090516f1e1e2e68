"""The CA folder's files: canonical JSON written atomically, read back strictly."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from crypto.encoding import canonical_json, parse_json
from crypto.errors import InvalidInput
from election.board import iso_utc

from .errors import CAError

MANIFEST = "manifest.json"
CREDENTIALS = "credentials.json"
REVOCATIONS = "revocations.jsonl"


def mapping_name(electorate: str) -> str:
    return f"mapping-{electorate}.json"


def issue_name(electorate: str) -> str:
    """The issue record of an electorate: written first (exclusively), so a roll is issued once."""
    return f"issue-{electorate}.json"


def now_iso() -> str:
    return iso_utc(datetime.now(timezone.utc))


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` by ``data`` all at once (a temporary file, fsync, rename)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Mapping[str, Any]) -> None:
    """``obj`` as canonical JSON (docs/protocol.md §2.1), atomically."""
    write_atomic(path, canonical_json(obj))


def read_json(path: Path, what: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CAError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return parse_json(data, f"{what} {path}")
    except InvalidInput as exc:
        raise CAError(str(exc)) from None


def append_line(path: Path, obj: Mapping[str, Any]) -> None:
    """Append ``obj`` as one line of canonical JSON and make it durable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "ab") as handle:
        handle.write(canonical_json(obj) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
