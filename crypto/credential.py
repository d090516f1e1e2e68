"""Voter and official credentials, their signing keys, the ballot signature and the audit
signature (docs/protocol.md §13.1–§13.4, §14.2).

A credential is 28 symbols of Crockford's base-32 alphabet: 26 data symbols from the CSPRNG
(130 bits) and 2 check symbols (10 bits of a SHA-256) that catch a mistyped symbol (protocol.md §13.1).
HKDF-SHA256 of the data symbols, salted with a scope (the election id for voters), is the seed
of an Ed25519 key (protocol.md §13.2); its public key in hex is the **public credential**.  The voter's
device signs the protocol.md §13.3 ballot statement with it.

Primitives: ``secrets`` (through :mod:`crypto.randomness`), SHA-256, HKDF and Ed25519 from
``cryptography``; the LP encoding of :mod:`crypto.encoding`.  The browser twin is
``frontend/src/credential.js``; both reproduce ``tests/vectors/credentials.json``.

Generic signed objects (record.md §1: ``sign``/``verify`` of any object with a ``type``) live in
``election.signed``; ``crypto`` does not import ``election`` (dependencies point
election → crypto), so the ballot statement is signed and checked here with the same rule:
Ed25519 over the canonical JSON of the object without ``signature``.
"""
from __future__ import annotations

import hashlib
import re
from typing import Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .encoding import canonical_json, lp_encode
from .errors import InvalidInput
from .randomness import random_below

#: Crockford base 32 (protocol.md §13.1): no I, L, O, U.  A symbol's value is its index.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_SYMBOLS = 26
CHECK_SYMBOLS = 2
SYMBOLS = DATA_SYMBOLS + CHECK_SYMBOLS
GROUP = 4

DOMAIN_CHECK = "ssb-vote/v2/credential-check"
DOMAIN_SIGNING_KEY = "ssb-vote/v2/signing-key"
PURPOSE_VOTER = "voter"
PURPOSE_OFFICIAL = "official"
SCOPE_OFFICIALS = "ssbvote-officials"
QR_PREFIX = "ssbvote-credential:1:"
BALLOT_TYPE = "ssbvote-ballot"
AUDIT_TYPE = "ssbvote-audit"
BALLOT_STATEMENT_KEYS = frozenset({"type", "election_id", "opening", "contest", "pseudonym", "credential",
                                   "previous", "ballot_hash"})
AUDIT_STATEMENT_KEYS = frozenset({"type", "election_id", "opening", "contest", "pseudonym", "credential",
                                  "ballot_hash", "seed"})

#: The one message of a credential that cannot be read (protocol.md §13.1): the voter types it again.
MISTYPED = "credential mistyped"

_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
#: What a voter may type for a symbol (protocol.md §13.1): upper case, lower case, O for 0, I and L for 1.
_TYPED = {**{s: s for s in ALPHABET}, **{s.lower(): s for s in ALPHABET if s.isalpha()},
          "O": "0", "o": "0", "I": "1", "i": "1", "L": "1", "l": "1"}
#: Separators dropped when reading typed text (protocol.md §13.1): ASCII space, tab, CR, LF and '-'.
_SEPARATORS = frozenset(" \t\r\n-")
_CANONICAL = re.compile(rf"\A[{ALPHABET}]{{{SYMBOLS}}}\Z")
_HEX = re.compile(r"\A[0-9a-f]*\Z")
_SCOPE = re.compile(r"\A[\x21-\x7e]{1,256}\Z")
_MAX_CONTEST = 256

PublicOrPrivate = Union[Ed25519PrivateKey, Ed25519PublicKey]


# ---------------------------------------------------------------------------------------------
# protocol.md §13.1 Credential text


def check_symbols(data: str) -> str:
    """The 2 check symbols of 26 data symbols (protocol.md §13.1).

    x = the first 10 bits of SHA-256(LP("ssb-vote/v2/credential-check", data)), written as
    A[x >> 5] A[x & 31].
    """
    if not isinstance(data, str) or len(data) != DATA_SYMBOLS or any(c not in _VALUE for c in data):
        raise InvalidInput(f"credential data: expected {DATA_SYMBOLS} symbols of the alphabet")
    h = hashlib.sha256(lp_encode(DOMAIN_CHECK, data)).digest()
    x = (h[0] << 2) | (h[1] >> 6)
    return ALPHABET[x >> 5] + ALPHABET[x & 31]


def credential_from_data(data: str) -> str:
    """The 28-symbol credential (no separators) with data symbols ``data`` (protocol.md §13.1)."""
    return data + check_symbols(data)


def generate_credential() -> str:
    """A fresh credential from the CSPRNG (130 bits), formatted for a letter (protocol.md §13.1)."""
    data = "".join(ALPHABET[random_below(len(ALPHABET))] for _ in range(DATA_SYMBOLS))
    return format_credential(credential_from_data(data))


def format_credential(symbols: str) -> str:
    """7 groups of 4 joined by '-' (protocol.md §13.1); ``symbols`` is any form :func:`parse_credential`
    accepts, so a mistyped credential is never formatted."""
    canonical = parse_credential(symbols)
    return "-".join(canonical[i:i + GROUP] for i in range(0, SYMBOLS, GROUP))


def parse_credential(text: str) -> str:
    """What a voter typed → the 28 canonical symbols, or InvalidInput("credential mistyped").

    protocol.md §13.1: drop ASCII white space and '-', upper-case (ASCII letters only), read O as 0 and
    I, L as 1; then exactly 28 symbols of the alphabet whose check symbols match.  Every
    failure — a foreign character (U, punctuation, non-ASCII), a wrong length, a wrong check —
    is the same single error.
    """
    if not isinstance(text, str) or len(text) > 4 * SYMBOLS:
        raise InvalidInput(MISTYPED)
    out: list[str] = []
    for char in text:
        if char in _SEPARATORS:
            continue
        symbol = _TYPED.get(char)
        if symbol is None:
            raise InvalidInput(MISTYPED)
        out.append(symbol)
    symbols = "".join(out)
    if len(symbols) != SYMBOLS or check_symbols(symbols[:DATA_SYMBOLS]) != symbols[DATA_SYMBOLS:]:
        raise InvalidInput(MISTYPED)
    return symbols


def is_credential(text: str) -> bool:
    """True if ``text`` parses (protocol.md §13.1)."""
    try:
        parse_credential(text)
    except InvalidInput:
        return False
    return True


def _hex(value: object, digits: int, what: str) -> str:
    if not isinstance(value, str) or len(value) != digits or not _HEX.match(value):
        raise InvalidInput(f"{what}: expected {digits} lowercase hex digits")
    return value


def _election_id(election_id: object) -> str:
    return _hex(election_id, 64, "election_id")


def credential_qr_text(election_id: str, credential: str) -> str:
    """The letter's QR text ``ssbvote-credential:1:<election_id>:<28 symbols>`` (protocol.md §13.1)."""
    return f"{QR_PREFIX}{_election_id(election_id)}:{parse_credential(credential)}"


def parse_credential_qr(text: str) -> tuple[str, str]:
    """(election_id, 28 canonical symbols) from a letter's QR text (protocol.md §13.1).

    The QR text is machine-written, so it is read strictly: canonical symbols, no separators.
    """
    if not isinstance(text, str) or not text.startswith(QR_PREFIX):
        raise InvalidInput("credential QR code: not an SSB Vote credential")
    election_id, sep, symbols = text[len(QR_PREFIX):].partition(":")
    if not sep or len(election_id) != 64 or not _HEX.match(election_id):
        raise InvalidInput("credential QR code: bad election id")
    if not _CANONICAL.match(symbols):
        raise InvalidInput(MISTYPED)
    return election_id, parse_credential(symbols)


# ---------------------------------------------------------------------------------------------
# protocol.md §13.2 Signing key


def signing_seed(credential: str, purpose: str, scope: str) -> bytes:
    """seed = HKDF-SHA256(IKM = ASCII(data symbols), salt = ASCII(scope),
    info = LP("ssb-vote/v2/signing-key", purpose), 32 bytes) (protocol.md §13.2)."""
    symbols = parse_credential(credential)
    if not isinstance(purpose, str) or not purpose:
        raise InvalidInput("purpose: expected a non-empty string")
    if not isinstance(scope, str) or not _SCOPE.match(scope):
        raise InvalidInput("scope: expected 1 to 256 printable ASCII characters")
    info = lp_encode(DOMAIN_SIGNING_KEY, purpose)
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=scope.encode("ascii"), info=info)
    return hkdf.derive(symbols[:DATA_SYMBOLS].encode("ascii"))


def signing_key(credential: str, purpose: str, scope: str) -> Ed25519PrivateKey:
    """The Ed25519 key (RFC 8032) whose 32-byte seed is :func:`signing_seed` (protocol.md §13.2)."""
    return Ed25519PrivateKey.from_private_bytes(signing_seed(credential, purpose, scope))


def voter_key(credential: str, election_id: str) -> Ed25519PrivateKey:
    """A voter's key: purpose "voter", scope the election id (one election only, protocol.md §13.2)."""
    return signing_key(credential, PURPOSE_VOTER, _election_id(election_id))


def official_key(credential: str) -> Ed25519PrivateKey:
    """An official's key: purpose "official", scope "ssbvote-officials" (protocol.md §13.2)."""
    return signing_key(credential, PURPOSE_OFFICIAL, SCOPE_OFFICIALS)


def public_credential(key: PublicOrPrivate) -> str:
    """The public credential: lowercase hex of the 32-byte Ed25519 public key (protocol.md §13.2)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


# ---------------------------------------------------------------------------------------------
# protocol.md §13.3 Ballot signature, protocol.md §13.4 ballot party


def ballot_party(pseudonym: str, credential: str) -> str:
    """The Fiat–Shamir party and ballot-context string ``<pseudonym>/<credential>`` (protocol.md §13.4)."""
    return f"{_hex(pseudonym, 32, 'pseudonym')}/{_hex(credential, 64, 'credential')}"


def ballot_statement(
    election_id: str, opening: str, contest: str, pseudonym: str, credential: str, ballot_hash: str,
    *, previous: str,
) -> dict[str, str]:
    """The protocol.md §13.3 ballot statement (the signed object without ``signature``), validated.

    ``credential`` is the public credential (64 hex); ``previous`` the ``ballot_hash`` of this
    credential's current ballot on the board, ``""`` for its first ballot (keyword-only, so
    that nobody forgets the chain).
    """
    if not isinstance(contest, str) or not contest or len(contest) > _MAX_CONTEST:
        raise InvalidInput("contest: expected a non-empty string")
    if previous != "":
        _hex(previous, 64, "previous")
    return {
        "type": BALLOT_TYPE,
        "election_id": _election_id(election_id),
        "opening": _hex(opening, 64, "opening"),
        "contest": contest,
        "pseudonym": _hex(pseudonym, 32, "pseudonym"),
        "credential": _hex(credential, 64, "credential"),
        "previous": previous,
        "ballot_hash": _hex(ballot_hash, 64, "ballot_hash"),
    }


def audit_statement(
    election_id: str, opening: str, contest: str, pseudonym: str, credential: str, ballot_hash: str,
    seed: str,
) -> dict[str, str]:
    """The protocol.md §14.2 audit statement (the signed object without ``signature``), validated.

    Its ``type`` differs from the ballot statement's, so a signed audit can never pass as a cast
    ballot; ``seed`` is the audited ballot's 32-byte seed (64 hex) — the one that opens it.
    """
    body = ballot_statement(election_id, opening, contest, pseudonym, credential, ballot_hash, previous="")
    del body["previous"]
    return {**body, "type": AUDIT_TYPE, "seed": _hex(seed, 64, "seed")}


def _sign_statement(statement: dict[str, str], key: Ed25519PrivateKey, keys: frozenset[str], kind: str,
                    what: str) -> str:
    if set(statement) != keys or statement["type"] != kind:
        raise InvalidInput(f"{what}: not a protocol.md {'§14.2' if kind == AUDIT_TYPE else '§13.3'} statement")
    if public_credential(key) != statement["credential"]:
        raise InvalidInput(f"{what}: the key is not the statement's credential")
    return key.sign(canonical_json(statement)).hex()


def sign_ballot(statement: dict[str, str], key: Ed25519PrivateKey) -> str:
    """Ed25519 signature (128 hex) of the statement's canonical JSON (protocol.md §13.3).

    The key must be the statement's credential: a device never signs for another credential.
    """
    return _sign_statement(statement, key, BALLOT_STATEMENT_KEYS, BALLOT_TYPE, "ballot statement")


def sign_audit(statement: dict[str, str], key: Ed25519PrivateKey) -> str:
    """Ed25519 signature (128 hex) of an audit statement's canonical JSON (protocol.md §14.2)."""
    return _sign_statement(statement, key, AUDIT_STATEMENT_KEYS, AUDIT_TYPE, "audit statement")


def _signature_ok(statement: dict[str, str], credential: str, signature: str) -> bool:
    try:
        raw = bytes.fromhex(_hex(signature, 128, "signature"))
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(credential))
        public.verify(raw, canonical_json(statement))
    except (InvalidInput, InvalidSignature, ValueError):
        return False
    return True


def verify_ballot_signature(
    election_id: str, opening: str, contest: str, pseudonym: str, credential: str, ballot_hash: str,
    signature: str, *, previous: str,
) -> bool:
    """True if ``signature`` (128 hex) is the credential's Ed25519 signature of the protocol.md §13.3
    statement made of these fields; False for any malformed field or a wrong signature."""
    try:
        statement = ballot_statement(election_id, opening, contest, pseudonym, credential, ballot_hash,
                                     previous=previous)
    except InvalidInput:
        return False
    return _signature_ok(statement, credential, signature)


def verify_audit_signature(
    election_id: str, opening: str, contest: str, pseudonym: str, credential: str, ballot_hash: str,
    seed: str, signature: str,
) -> bool:
    """True if ``signature`` (128 hex) is the credential's Ed25519 signature of the protocol.md §14.2
    audit statement made of these fields; False for any malformed field or a wrong signature."""
    try:
        statement = audit_statement(election_id, opening, contest, pseudonym, credential, ballot_hash, seed)
    except InvalidInput:
        return False
    return _signature_ok(statement, credential, signature)


__all__ = [
    "ALPHABET", "AUDIT_TYPE", "BALLOT_TYPE", "MISTYPED", "audit_statement", "ballot_party", "ballot_statement",
    "check_symbols",
    "credential_from_data", "credential_qr_text", "format_credential", "generate_credential",
    "is_credential", "official_key", "parse_credential", "parse_credential_qr", "public_credential",
    "sign_audit", "sign_ballot", "signing_key", "signing_seed", "verify_audit_signature",
    "verify_ballot_signature", "voter_key",
]
