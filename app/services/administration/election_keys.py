"""The key ceremony for an election (docs/protocol.md §6.1, §10).

Run offline with the trustees present: the dealer key is generated, each trustee's share is
written to a file encrypted under that trustee's passphrase, the dealer secret is discarded
with the process, and only the public election key is stored in the database.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import current_app

from app.extensions import db
from app.models import Election
from app.services.administration import audit
from app.services.errors import Conflict, InvalidRequest, NotReady
from crypto.ceremony import generate_election_key, write_encrypted_share
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from crypto.threshold import ElectionPublicKey
from election.lifecycle import SETUP

MIN_PASSPHRASE = 12


@dataclass(frozen=True)
class CeremonyResult:
    election_key: ElectionPublicKey
    share_files: tuple[Path, ...]


def run_ceremony(election: Election, trustees: list[tuple[str, str]], threshold: int, bits: int,
                 out_dir: Path, actor: str = "cli", scrypt_log2_n: int = 17) -> CeremonyResult:
    """Generate the key, write one encrypted share file per trustee, store the public key."""
    if election.status not in SETUP:
        raise Conflict("the election key can only be made before polls open")
    if election.election_key:
        raise Conflict("this election already has a key")
    names = [name for name, _ in trustees]
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise InvalidRequest("trustee names must be non-empty and distinct")
    if not 1 <= threshold <= len(trustees):
        raise InvalidRequest(f"threshold must be between 1 and {len(trustees)}")
    if any(len(p) < MIN_PASSPHRASE for _, p in trustees):
        raise InvalidRequest(f"every trustee passphrase needs at least {MIN_PASSPHRASE} characters")
    allow_test = bool(current_app.config["SSBVOTE"].allow_insecure_test_keys)
    try:
        key, shares = generate_election_key(bits, names, threshold, allow_insecure_test_key=allow_test)
    except InvalidInput as exc:
        raise InvalidRequest(f"cannot make the key: {exc}") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for share, (_, passphrase) in zip(shares, trustees):
        path = out_dir / f"{election.slug}-trustee-{share.index}.share.json"
        write_encrypted_share(path, share, passphrase, scrypt_log2_n=scrypt_log2_n)
        files.append(path)
    del shares  # the dealer's secrets leave with this process (docs/protocol.md §10)
    election.election_key = canonical_json(key.to_dict()).decode()
    audit.record(actor, "election.key_ceremony", election.slug,
                 {"bits": bits, "threshold": threshold, "trustees": names})
    db.session.commit()
    return CeremonyResult(key, tuple(files))


def election_key(election: Election) -> ElectionPublicKey:
    if not election.election_key:
        raise NotReady("this election has no key yet (run the key ceremony)")
    allow_test = bool(current_app.config["SSBVOTE"].allow_insecure_test_keys)
    return _parsed_key(election.election_key, allow_test)


@lru_cache(maxsize=16)
def _parsed_key(text: str, allow_test: bool) -> ElectionPublicKey:
    """Parsing validates the key (units, sizes): done once per key text, not on every cast."""
    return ElectionPublicKey.from_dict(json.loads(text), allow_insecure_test_key=allow_test)
