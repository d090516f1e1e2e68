"""The election record's layout (docs/record.md §4): file names, ``FORMAT.json`` and
``HASHES.json`` (§4.5)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Union

from crypto.encoding import canonical_json

from .export import EXPORT_FILES

FORMAT: dict[str, Any] = {"format": "ssbvote-record", "version": 2}  # record.md §4
FORMAT_FILE = "FORMAT.json"
RESULTS = "results.json"  # §4.4
HASHES = "HASHES.json"  # §4.5
COUNTED = "tally/counted.json"  # §4.1
ENCRYPTED_TALLY = "tally/encrypted_tally.json"  # §4.2
SHARES_DIR = "tally/decryption_shares"  # §4.3: trustee-<index>.json


def share_file(index: int) -> str:
    """The record path of trustee ``index``'s decryption shares (record.md §4.3)."""
    return f"{SHARES_DIR}/trustee-{index}.json"


#: Files every record holds besides the decryption shares: the board export (§3), the tally's
#: outputs, the results and the format marker (HASHES.json, written last, lists them).
FIXED_FILES = (FORMAT_FILE, *EXPORT_FILES, COUNTED, ENCRYPTED_TALLY, RESULTS)


def sha256_file(path: Union[str, Path]) -> str:
    """Lowercase hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hashes(record: Path) -> dict[str, Any]:
    """The content of ``HASHES.json`` (record.md §4.5): every other file's SHA-256 by relative
    path (``/``-separated, sorted) and ``record_hash`` = SHA-256 of the canonical JSON of that
    listing."""
    files = {}
    for path in sorted(record.rglob("*")):
        rel = path.relative_to(record).as_posix()
        if path.is_file() and rel != HASHES:
            files[rel] = sha256_file(path)
    return {"files": files, "record_hash": hashlib.sha256(canonical_json(files)).hexdigest()}
