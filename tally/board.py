"""Reading and checking a closed board export (docs/record.md §1–§3) for the tally.

The reader itself is :mod:`election.export` (the one reader of the export folder, streaming
``entries.jsonl``); this module gives its checks the tally's error types: a board that breaks
the rules is :class:`~tally.errors.BoardRefused`, a file that cannot be read a
:class:`~tally.errors.TallyError`.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.errors import InvalidInput
from crypto.threshold import ElectionPublicKey
from election import export
from election.errors import BoardInvalid, ExportUnreadable
from election.export import EXPORT_FILES, OVERRIDES_MISSING, SNAPSHOT_FILES, BoardIndex
from election.manifest import Manifest

from .errors import BoardRefused, TallyError
from .files import read_json

__all__ = ["EXPORT_FILES", "OVERRIDES_MISSING", "SNAPSHOT_FILES", "BoardIndex", "Manifest", "load_board_key",
           "load_checkpoints", "load_election_key", "load_manifest", "load_overrides", "scan_entries"]


@contextmanager
def _refusing() -> Iterator[None]:
    try:
        yield
    except BoardInvalid as exc:
        raise BoardRefused(str(exc)) from None
    except ExportUnreadable as exc:
        raise TallyError(str(exc)) from None


def load_manifest(path: Path) -> Manifest:
    with _refusing():
        return export.load_manifest(path)


def load_election_key(path: Path, allow_insecure_test_key: bool) -> ElectionPublicKey:
    data = read_json(path, "election key")
    try:
        return ElectionPublicKey.from_dict(data, allow_insecure_test_key=allow_insecure_test_key)
    except InvalidInput as exc:
        raise TallyError(f"election key: {exc}") from None


def load_board_key(path: Path) -> Ed25519PublicKey:
    with _refusing():
        return export.load_board_key(path)


def load_checkpoints(path: Path, election_id: str, public_key: Ed25519PublicKey,
                     closed: bool = True) -> list[dict[str, Any]]:
    with _refusing():
        return export.load_checkpoints(path, election_id, public_key, closed)


def load_overrides(path: Path, election_id: str, public_key: Ed25519PublicKey) -> frozenset[str]:
    with _refusing():
        return export.load_overrides(path, election_id, public_key)


def scan_entries(path: Path, election_id: str, contest_ids: set[str], checkpoints: list[dict[str, Any]],
                 advance: Callable[[int], None] = lambda _: None) -> BoardIndex:
    with _refusing():
        return export.scan_entries(path, election_id, contest_ids, checkpoints, advance)
