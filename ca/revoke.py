"""Revocation and reissue of one voter's credential (docs/record.md §6.3).

A voter whose letter was lost (or seen by someone else) asks the CA.  :func:`revoke` signs a
``ssbvote-revocation`` of the voter's current public credential and appends it to
``DIR/revocations.jsonl``, from which the server imports it (``ssbvote credentials revoke``).
With ``reissue`` a new credential is made for the same voter: the revocation names it as the
``replacement``, a new letter is written to ``DIR/letters/`` (mail merge:
``letters/reissued.csv``) and ``DIR/mapping-<electorate>.json`` maps the voter to it.  The
published ``credentials.json`` is not changed (it may be pinned already): the replacement is
published by the revocation itself.

A credential is revoked once: revoking without reissue is final for that voter in this
election.  Revoking a reissued credential again (the new letter was lost too) is allowed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import parse_json
from crypto.errors import InvalidInput
from crypto.credential import credential_qr_text, generate_credential, public_credential, voter_key
from election import authority
from election.signed import sign

from . import files
from .errors import CAError
from .issue import existing_list, load_manifest
from .keys import fingerprint, public_hex
from .letters import (
    REISSUED_MAIL_MERGE,
    LetterContext,
    MailMerge,
    QrMaker,
    letter_path,
    letters_dir,
    render_letter,
)


@dataclass(frozen=True)
class RevokeSummary:
    revocation: dict[str, Any]  # the signed object appended to revocations.jsonl
    credential: Optional[str]  # the new credential (reissue only; also in its letter)
    letter: Optional[Path]


def revocations(out_dir: Path) -> list[dict[str, Any]]:
    """The revocations in ``DIR/revocations.jsonl`` (an empty list if there is none)."""
    path = out_dir / files.REVOCATIONS
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if line.strip():
            try:
                out.append(parse_json(line, f"{path} line {number}"))
            except InvalidInput as exc:
                raise CAError(str(exc)) from None
    return out


def revoke(out_dir: Path, key: Ed25519PrivateKey, electorate: str, voter: str, *,
           reissue: bool = False, name: str = "") -> RevokeSummary:
    """Revoke ``voter``'s current credential in ``electorate``; with ``reissue`` a new one
    (its letter addressed to ``name``, if given)."""
    mapping_path = out_dir / files.mapping_name(electorate)
    if not mapping_path.exists():
        raise CAError(f"{out_dir} has no issue for the {electorate} roll ({mapping_path.name} is missing)")
    mapping = files.read_json(mapping_path, "mapping")
    problems = authority.check_mapping(mapping)
    if problems:
        raise CAError(f"{mapping_path} is malformed: " + "; ".join(problems))
    election_id: str = mapping["election_id"]
    if mapping["electorate"] != electorate:
        raise CAError(f"{mapping_path} is of the {mapping['electorate']} electorate")
    listed = existing_list(out_dir, key, election_id)  # the folder is this CA's, for this election
    credentials: dict[str, str] = mapping["credentials"]
    current = credentials.get(voter)
    if current is None:
        raise CAError(f"voter {voter} is not on the {electorate} roll of this issue")
    earlier_revocations = revocations(out_dir)
    for earlier in earlier_revocations:
        if earlier.get("revoked") == current:
            raise CAError(f"the credential of voter {voter} was revoked already ({earlier.get('at')})"
                          + ("" if earlier.get("replacement") else
                             " without a replacement: that is final for this election"))

    credential: Optional[str] = None
    replacement: Optional[str] = None
    letter: Optional[Path] = None
    if reissue:
        manifest_path = out_dir / files.MANIFEST
        raw = manifest_path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != election_id:
            raise CAError(f"{manifest_path} is not the manifest of election {election_id}")
        manifest = load_manifest(raw)
        # A replacement must be new (record.md §6.3; the verifier's check 18).
        taken: set[object] = set(credentials.values()) | {c for cs in listed.values() for c in cs}
        taken |= {r.get(k) for r in earlier_revocations for k in ("revoked", "replacement")}
        credential = generate_credential()
        replacement = public_credential(voter_key(credential, election_id))
        if replacement in taken:  # 2^-130: a broken random generator
            raise CAError("the new credential collides with an issued one: the random number "
                          "generator of this machine is broken")
        ca_key = public_hex(key)
        ctx = LetterContext(election_id, manifest.title.th, manifest.title.en, ca_key,
                            fingerprint(ca_key))
        letters = letters_dir(out_dir)
        qr_text = credential_qr_text(election_id, credential)
        render_letter(ctx, QrMaker(), electorate, voter, name, credential, qr_text, letters)
        letter = letter_path(letters, voter)
        with MailMerge(letters / REISSUED_MAIL_MERGE) as merge:
            merge.row(voter, name, electorate, credential, qr_text)

    routes: dict[str, str] = mapping["contests"]
    # record.md §6.3 (version 4): the revocation names the voter's contest, their route
    signed = sign(authority.revocation(election_id, routes[voter], current, replacement,
                                       files.now_iso()), key)
    files.append_line(out_dir / files.REVOCATIONS, signed)
    if replacement is not None:
        credentials[voter] = replacement
        files.write_json(mapping_path, authority.mapping(election_id, electorate, credentials, routes))
    return RevokeSummary(signed, credential, letter)
