"""The election record's layout (docs/record.md §4): file names, ``FORMAT.json``, the trustees'
signed decryption share files (§4.3) and ``HASHES.json`` (record.md §4.5)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Mapping, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import canonical_json

from .export import EXPORT_FILES
from .signed import sign, verify

FORMAT: dict[str, Any] = {"format": "ssbvote-record", "version": 4}  # record.md §4 (version 4: issue 21)
FORMAT_FILE = "FORMAT.json"
RESULTS = "results.json"  # §4.4
HASHES = "HASHES.json"  # record.md §4.5
COUNTED = "tally/counted.json"  # §4.1
ENCRYPTED_TALLY = "tally/encrypted_tally.json"  # §4.2
SHARES_DIR = "tally/decryption_shares"  # §4.3: trustee-<index>.json


def share_file(index: int) -> str:
    """The record path of trustee ``index``'s decryption shares (record.md §4.3)."""
    return f"{SHARES_DIR}/trustee-{index}.json"


DECRYPTION_SHARES_TYPE = "ssbvote-decryption-shares"
DECRYPTION_SHARES_KEYS = frozenset({"type", "election_id", "trustee", "index", "tally", "contests", "signature"})


def encrypted_tally_hash(tally: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of an encrypted tally (§4.2): the ``tally`` a trustee
    signs (§4.3), equal to the hash of ``tally/encrypted_tally.json``'s bytes."""
    return hashlib.sha256(canonical_json(tally)).hexdigest()


def signed_share_file(election_id: str, trustee: str, index: int, tally_hash: str, contests: Mapping[str, Any],
                      key: Ed25519PrivateKey) -> dict[str, Any]:
    """A trustee's decryption share file (§4.3), signed with the trustee's signing key."""
    return sign({"type": DECRYPTION_SHARES_TYPE, "election_id": election_id, "trustee": trustee, "index": index,
                 "tally": tally_hash, "contests": dict(contests)}, key)


def share_file_problems(obj: Mapping[str, Any], *, election_id: str, tally_hash: str, signing_key: str) -> list[str]:
    """Why a decryption share file (§4.3) is not trustee-signed for this election and tally
    (empty if it is): its type, election id, tally hash and signature by ``signing_key``
    (64 hex, the election key's ``signing_key`` of the trustee it names)."""
    problems = []
    if set(obj) != DECRYPTION_SHARES_KEYS:
        return [f"not a signed decryption share file (keys {sorted(obj)}; version 1 files are unsigned)"]
    if obj["type"] != DECRYPTION_SHARES_TYPE:
        problems.append(f"type is {obj['type']!r}, not {DECRYPTION_SHARES_TYPE!r}")
    if obj["election_id"] != election_id:
        problems.append("made for another election")
    if obj["tally"] != tally_hash:
        problems.append("made for another encrypted tally (its tally hash differs)")
    if not verify(obj, signing_key):
        problems.append("its signature is not by the trustee's signing key")
    return problems


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
