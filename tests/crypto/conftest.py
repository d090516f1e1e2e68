"""Shared fixtures: the committed 512-bit 3-of-5 test key (tests/vectors/test_key.json)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crypto.paillier import PublicKey
from crypto.threshold import ElectionPublicKey, TrusteeShare

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@pytest.fixture(scope="session")
def key_material() -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    data = json.loads((VECTORS / "test_key.json").read_text())
    key = ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True)
    shares = [TrusteeShare.from_dict(s, allow_insecure_test_key=True) for s in data["shares"]]
    return key, shares


@pytest.fixture(scope="session")
def election_key(key_material: tuple[ElectionPublicKey, list[TrusteeShare]]) -> ElectionPublicKey:
    return key_material[0]


@pytest.fixture(scope="session")
def trustee_shares(key_material: tuple[ElectionPublicKey, list[TrusteeShare]]) -> list[TrusteeShare]:
    return key_material[1]


@pytest.fixture(scope="session")
def pk(election_key: ElectionPublicKey) -> PublicKey:
    return election_key.public_key
