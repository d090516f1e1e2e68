"""Reading and checking a closed board export (docs/record.md §1–§3, §6) for the tally.

The reader itself is :mod:`election.export` (the one reader of the export folder, streaming
``entries.jsonl``); this module gives its checks the tally's error types: a board that breaks
the rules is :class:`~tally.errors.BoardRefused`, a file that cannot be read a
:class:`~tally.errors.TallyError`.

The tally takes the CA key from the export's own ``opening.json``: it checks that the opening
is signed by the key it names and pins this export's election key, board key and credential
list, and that the list, the revocations and every voter's signature hold under those pins.
Whether that CA key is the real credential authority's is for the observers to check
(``python -m verifier --ca-key``, docs/record.md §2.0).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto.errors import InvalidInput
from crypto.keycheck import KeyCheckFailed, check_election_key as _check_election_key
from crypto.threshold import ElectionPublicKey
from election import export
from election.errors import BoardInvalid, ExportUnreadable
from election.export import EXPORT_FILES, OVERRIDES_MISSING, SNAPSHOT_FILES, BoardIndex, Pins
from election.manifest import Manifest
from election.voters import Voters

from .errors import BoardRefused, TallyError
from .files import read_json
from .progress import progress

__all__ = ["EXPORT_FILES", "OVERRIDES_MISSING", "SNAPSHOT_FILES", "BoardIndex", "Manifest", "Pins", "Voters",
           "CheckedBoard", "check_board", "check_election_key", "load_authority", "load_board_key", "load_checkpoints", "load_election_key", "load_manifest",
           "load_overrides", "scan_entries"]


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


def check_election_key(key: ElectionPublicKey) -> None:
    """The checks of docs/protocol.md §6.2 (crypto.keycheck); a key that fails one is refused,
    naming the check: a count decrypted under it would depend on the dealer."""
    try:
        _check_election_key(key)
    except KeyCheckFailed as exc:
        raise BoardRefused(f"election key refused ({exc.check}): {exc.reason}") from None


def load_board_key(path: Path) -> Ed25519PublicKey:
    with _refusing():
        return export.load_board_key(path)


def load_authority(folder: Path, election_id: str, board_key: Ed25519PublicKey,
                   contests: Optional[Collection[str]] = None) -> tuple[Pins, Voters]:
    with _refusing():
        return export.load_authority(folder, election_id, board_key, contests)


def load_checkpoints(path: Path, election_id: str, public_key: Ed25519PublicKey, closed: bool = True, *,
                     opening: str) -> list[dict[str, Any]]:
    with _refusing():
        return export.load_checkpoints(path, election_id, public_key, closed, opening=opening)


def load_overrides(path: Path, election_id: str, pins: Pins) -> frozenset[str]:
    with _refusing():
        return export.load_overrides(path, election_id, pins)


def scan_entries(path: Path, manifest: Manifest, checkpoints: list[dict[str, Any]], voters: Voters, opening: str,
                 advance: Callable[[int], None] = lambda _: None) -> BoardIndex:
    """The one pass over ``entries.jsonl`` (election.export.scan_entries) with the manifest's
    contests and their electorates."""
    with _refusing():
        return export.scan_entries(path, manifest.election_id, {c.id: c.electorate for c in manifest.contests},
                                   checkpoints, voters, opening, advance)


@dataclass(frozen=True)
class CheckedBoard:
    """A board export (or snapshot) that passed every check of docs/record.md §1–§3 and §6."""

    manifest: Manifest
    key: ElectionPublicKey
    pins: Pins
    voters: Voters
    checkpoints: list[dict[str, Any]]
    paper: frozenset[str]  # the paper-vote list's pseudonyms (empty for a snapshot)
    index: BoardIndex


def check_board(folder: Path, allow_insecure_test_key: bool, *, closed: bool, show_progress: bool) -> CheckedBoard:
    """Check the export in ``folder``: manifest, election key, board key; the opening and its
    pins, the credential list and the revocations; the signed checkpoints (the last one final
    if ``closed``); the paper-vote list signed by two officials (``closed`` only: a snapshot has
    none, §3.1); then the chain and every voter's signature in one pass over the entries.  For the
    closed board the election key's checks come first (docs/protocol.md §6.2)."""
    manifest = load_manifest(folder / export.MANIFEST)
    key = load_election_key(folder / export.ELECTION_KEY, allow_insecure_test_key)
    if closed:
        check_election_key(key)
    board_key = load_board_key(folder / export.BOARD_KEY)
    pins, voters = load_authority(folder, manifest.election_id, board_key,
                                  [c.id for c in manifest.contests])
    checkpoints = load_checkpoints(folder / export.CHECKPOINTS, manifest.election_id, board_key, closed,
                                   opening=pins.hash)
    paper = (load_overrides(folder / export.PAPER_OVERRIDES, manifest.election_id, pins) if closed
             else frozenset[str]())
    with progress("Checking chain, signatures ", checkpoints[-1]["seq"], show_progress) as advance:
        index = scan_entries(folder / export.ENTRIES, manifest, checkpoints, voters, pins.hash, advance)
    return CheckedBoard(manifest, key, pins, voters, checkpoints, paper, index)
