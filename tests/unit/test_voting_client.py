"""The Python voting client's own checks (tools/voting_client.py, docs/record.md §2.0, §2.5):
before encrypting it checks the opening against the CA key the *user* gives and the election key
it was sent; after casting, the receipt against the pinned board key, the opening hash and the
ballot hash."""
from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.encoding import canonical_json
from election import authority
from election.board import receipt
from election.signed import public_key_dict, sign
from tools.voting_client import PinsMismatch, ReceiptInvalid, VotingClient, check_pins

ELECTION_ID = hashlib.sha256(b"voting client test").hexdigest()
ELECTION_KEY = {"n": "c5", "trustees": [], "threshold": 1}  # the client hashes it; it is never parsed here


def keys() -> tuple[Ed25519PrivateKey, Ed25519PrivateKey]:
    return Ed25519PrivateKey.from_private_bytes(bytes([1]) * 32), Ed25519PrivateKey.from_private_bytes(bytes([2]) * 32)


def context(ca: Ed25519PrivateKey, board: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    ca_hex = public_key_dict(ca)["public_key"]
    opening = sign(authority.opening(
        ELECTION_ID, hashlib.sha256(canonical_json(ELECTION_KEY)).hexdigest(), public_key_dict(board)["public_key"],
        ca_hex, "cd" * 32, [{"username": "ro-a", "public_key": "ef" * 32}], "2026-12-20T00:00:00.000000Z"), ca)
    return {"election_id": ELECTION_ID, "election_key": ELECTION_KEY, "opening": opening,
            "opening_hash": authority.object_hash(opening), "ca_key": ca_hex, "pseudonym": "ab" * 16,
            "credential": "12" * 32, **changes}


def test_pins_are_checked_with_the_ca_key_the_user_gives() -> None:
    ca, board = keys()
    ctx = context(ca, board)
    assert check_pins(ctx, public_key_dict(ca)["public_key"]) == authority.object_hash(ctx["opening"])
    other = Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32)
    # A server that signs its own opening and names its own CA key in the context is refused:
    # the client trusts the key the user gave, not the context's ca_key.
    forged = context(other, board)
    with pytest.raises(PinsMismatch, match="not signed by the credential authority's key"):
        check_pins(forged, public_key_dict(ca)["public_key"])
    with pytest.raises(PinsMismatch, match="election key is not the one"):
        check_pins({**ctx, "election_key": {**ELECTION_KEY, "n": "c7"}}, public_key_dict(ca)["public_key"])
    with pytest.raises(PinsMismatch, match="another election"):
        check_pins({**ctx, "election_id": "00" * 32}, public_key_dict(ca)["public_key"])
    with pytest.raises(PinsMismatch, match="opening hash"):
        check_pins({**ctx, "opening_hash": "00" * 32}, public_key_dict(ca)["public_key"])
    with pytest.raises(PinsMismatch, match="no well-formed opening"):
        check_pins({**ctx, "opening": None}, public_key_dict(ca)["public_key"])


def test_casting_needs_the_registered_credential_and_refuses_before_encrypting() -> None:
    from crypto.credential import generate_credential
    from tools.voting_client import ClientError

    ca, board = keys()
    client = VotingClient("http://127.0.0.1:9", "insured", credential=generate_credential(),
                          ca_key=public_key_dict(ca)["public_key"])
    # Not the registered credential: refused before any request (the address is unreachable).
    with pytest.raises(ClientError, match="not the one registered"):
        client.cast("x", [1, 0], context(ca, board))
    no_key = VotingClient("http://127.0.0.1:9", "insured", credential=generate_credential())
    with pytest.raises(ClientError, match="needs the voter's credential and the CA's public key"):
        no_key.cast("x", [1, 0], context(ca, board))


def test_receipts_are_checked_against_the_pinned_board_key() -> None:
    ca, board = keys()
    ctx = context(ca, board)
    entry = {"seq": 1, "election_id": ELECTION_ID, "pseudonym": ctx["pseudonym"], "credential": ctx["credential"],
             "contest": "insured", "ballot_hash": "34" * 32, "entry_hash": "56" * 32,
             "cast_at": "2026-12-20T01:00:00.000000Z"}
    good = sign(receipt(entry, opening=ctx["opening_hash"]), board)
    VotingClient.check_receipt(good, ctx, "34" * 32)
    with pytest.raises(ReceiptInvalid, match="ballot_hash"):
        VotingClient.check_receipt(good, ctx, "78" * 32)
    with pytest.raises(ReceiptInvalid, match="pinned board key"):
        VotingClient.check_receipt(sign(receipt(entry, opening=ctx["opening_hash"]), ca), ctx, "34" * 32)
    with pytest.raises(ReceiptInvalid, match="opening"):
        VotingClient.check_receipt(sign(receipt(entry, opening="00" * 32), board), ctx, "34" * 32)
