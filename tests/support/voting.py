"""A voter's device in tests, record format version 3 (docs/protocol.md §13, §14): encrypt for
the ballot party ``<pseudonym>/<credential>`` and sign the §13.3 ballot statement with the
voter's credential and ``previous`` (the body of a cast request: no seed), or the §14.2 audit
statement (the body of an audit request: with the seed)."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any, Sequence

from crypto import ContestStatement, ElectionPublicKey, encrypt_contest
from crypto.credential import (audit_statement, ballot_party, ballot_statement, public_credential, sign_audit,
                               sign_ballot, voter_key)
from crypto.encoding import canonical_json


def party(ctx: dict[str, Any]) -> str:
    return ballot_party(ctx["pseudonym"], ctx["credential"])


def statement(ctx: dict[str, Any], selections: Sequence[int], max_selections: int | None = None,
              party_: str | None = None) -> ContestStatement:
    key = ElectionPublicKey.from_dict(ctx["election_key"], allow_insecure_test_key=True)
    return ContestStatement(key.public_key, ctx["election_id"], ctx["contest"]["id"], party_ or party(ctx),
                            len(selections), ctx["contest"]["max_selections"] if max_selections is None
                            else max_selections)


def encrypt(ctx: dict[str, Any], selections: Sequence[int], seed: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    seed = seed or secrets.token_bytes(32)
    return encrypt_contest(statement(ctx, selections), list(selections), seed).to_dict(), seed


def ballot_hash(ballot: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(ballot)).hexdigest()


def sign(ctx: dict[str, Any], credential: str, ballot: dict[str, Any], previous: str | None = None,
         contest: str | None = None) -> str:
    """The voter's signature of the ballot statement (``previous`` default: the context's)."""
    key = voter_key(credential, ctx["election_id"])
    made = ballot_statement(ctx["election_id"], ctx["opening_hash"], contest or ctx["contest"]["id"],
                            ctx["pseudonym"], public_credential(key), ballot_hash(ballot),
                            previous=ctx.get("previous", "") if previous is None else previous)
    return sign_ballot(made, key)


def body(ctx: dict[str, Any], credential: str, ballot: dict[str, Any], seed: bytes | None = None,
         previous: str | None = None) -> dict[str, Any]:
    """The cast request of ``ballot`` signed with ``credential`` (text); ``seed`` is not sent
    (docs/protocol.md §4.4) and is accepted only so that callers may pass it along."""
    return {"contest": ctx["contest"]["id"], "ballot": ballot,
            "credential": public_credential(voter_key(credential, ctx["election_id"])),
            "previous": ctx.get("previous", "") if previous is None else previous,
            "signature": sign(ctx, credential, ballot, previous)}


def sign_audit_statement(ctx: dict[str, Any], credential: str, ballot: dict[str, Any], seed: bytes,
                         contest: str | None = None) -> str:
    """The voter's signature of the audit statement (docs/protocol.md §14.2)."""
    key = voter_key(credential, ctx["election_id"])
    made = audit_statement(ctx["election_id"], ctx["opening_hash"], contest or ctx["contest"]["id"],
                           ctx["pseudonym"], public_credential(key), ballot_hash(ballot), seed.hex())
    return sign_audit(made, key)


def audit_body(ctx: dict[str, Any], credential: str, ballot: dict[str, Any], seed: bytes,
               signature: str | None = None) -> dict[str, Any]:
    """The audit request of ``ballot`` with its ``seed``, signed with ``credential`` (text)."""
    return {"contest": ctx["contest"]["id"], "ballot": ballot,
            "credential": public_credential(voter_key(credential, ctx["election_id"])),
            "seed": seed.hex(),
            "signature": signature if signature is not None else sign_audit_statement(ctx, credential, ballot, seed)}
