"""Threshold decryption, decryption-share proofs, key ceremony, share files (docs/protocol.md §6)."""
from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from crypto.ceremony import generate_election_key, read_encrypted_share, write_encrypted_share
from crypto.errors import InvalidInput, InvalidProof
from crypto.paillier import PublicKey, add_ciphertexts, encrypt
from crypto.randomness import random_unit
from crypto.hazmat import combine_unchecked
from crypto.threshold import (
    DecryptionShare,
    ElectionPublicKey,
    TrusteeShare,
    combine,
    compute_decryption_share,
    verify_decryption_share,
)

E, C = "election-1", "insured-board"


@pytest.fixture(scope="module")
def tally(pk: PublicKey) -> tuple[list[int], list[int]]:
    plaintexts = [0, 1, 7, 123456]
    return plaintexts, [int(encrypt(pk, m, random_unit(pk.n))) for m in plaintexts]


@pytest.fixture(scope="module")
def dshares(trustee_shares: list[TrusteeShare], tally: tuple[list[int], list[int]]) -> list[DecryptionShare]:
    return [compute_decryption_share(s, E, C, tally[1]) for s in trustee_shares]


def test_every_t_subset_decrypts(election_key: ElectionPublicKey, dshares: list[DecryptionShare], tally: tuple[list[int], list[int]]) -> None:
    assert election_key.threshold == 3 and len(election_key.trustees) == 5
    for subset in itertools.combinations(dshares, 3):
        assert combine(election_key, E, C, tally[1], list(subset)) == tally[0]
    # more than t shares: still the plaintext
    assert combine(election_key, E, C, tally[1], dshares) == tally[0]


def test_fewer_than_t_refused_and_do_not_decrypt(election_key: ElectionPublicKey, dshares: list[DecryptionShare], tally: tuple[list[int], list[int]]) -> None:
    with pytest.raises(InvalidInput, match="need 3 valid decryption shares, got 2"):
        combine(election_key, E, C, tally[1], dshares[:2])
    # even bypassing the count check, the combination formula on t−1 shares yields no plaintext
    for subset in itertools.combinations(dshares, 2):
        try:
            got = combine_unchecked(election_key, list(subset))
        except InvalidInput:
            continue
        assert got != tally[0]


def test_duplicate_share_refused(election_key: ElectionPublicKey, dshares: list[DecryptionShare], tally: tuple[list[int], list[int]]) -> None:
    with pytest.raises(InvalidInput, match="given twice"):
        combine(election_key, E, C, tally[1], [dshares[0], dshares[0], dshares[1]])


def test_share_json_round_trip(election_key: ElectionPublicKey, dshares: list[DecryptionShare]) -> None:
    d = json.loads(json.dumps(dshares[1].to_dict()))
    assert DecryptionShare.from_dict(d, election_key) == dshares[1]
    d["proof"]["extra"] = "0"
    with pytest.raises(InvalidInput, match="unexpected keys"):
        DecryptionShare.from_dict(d, election_key)


def test_election_key_json_round_trip(election_key: ElectionPublicKey) -> None:
    d = json.loads(json.dumps(election_key.to_dict()))
    assert ElectionPublicKey.from_dict(d, allow_insecure_test_key=True) == election_key
    with pytest.raises(InvalidInput, match="production minimum"):
        ElectionPublicKey.from_dict(d)


def test_wrong_share_with_valid_looking_proof_rejected(
    election_key: ElectionPublicKey, trustee_shares: list[TrusteeShare], tally: tuple[list[int], list[int]]
) -> None:
    # a trustee uses a wrong secret and proves consistently for it: shares and a, z match that
    # secret, so only the link to the published v_i exposes it
    cheat = dataclasses.replace(trustee_shares[2], secret_share=trustee_shares[2].secret_share + 1)
    bad = compute_decryption_share(cheat, E, C, tally[1])
    with pytest.raises(InvalidProof, match="trustee 3: proof equation"):
        verify_decryption_share(election_key, E, C, tally[1], bad)


def test_tampered_share_value_rejected(election_key: ElectionPublicKey, dshares: list[DecryptionShare], tally: tuple[list[int], list[int]]) -> None:
    n2 = election_key.public_key.n_square
    values = list(dshares[0].shares)
    values[2] = int(values[2] * (1 + election_key.public_key.n) % n2)
    bad = dataclasses.replace(dshares[0], shares=tuple(values))
    with pytest.raises(InvalidProof, match="trustee 1"):
        verify_decryption_share(election_key, E, C, tally[1], bad)


def test_share_proof_bound_to_context(election_key: ElectionPublicKey, dshares: list[DecryptionShare], tally: tuple[list[int], list[int]]) -> None:
    with pytest.raises(InvalidProof):
        verify_decryption_share(election_key, E, "other-contest", tally[1], dshares[0])
    with pytest.raises(InvalidProof):
        verify_decryption_share(election_key, "other-election", C, tally[1], dshares[0])
    # claimed by another trustee
    with pytest.raises(InvalidProof):
        verify_decryption_share(election_key, E, C, tally[1], dataclasses.replace(dshares[0], index=2))


def test_homomorphic_tally_of_ballots_decrypts(
    election_key: ElectionPublicKey, trustee_shares: list[TrusteeShare]
) -> None:
    from crypto import ContestStatement, encrypt_contest

    pk = election_key.public_key
    votes = [[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 0, 0]]
    ballots = [encrypt_contest(ContestStatement(pk, E, C, f"v{i}", 3, 2), v, bytes([i]) * 32)
               for i, v in enumerate(votes)]
    totals = [add_ciphertexts(pk, [b.ciphertexts[j] for b in ballots]) for j in range(3)]
    shares = [compute_decryption_share(s, E, C, totals) for s in trustee_shares[2:]]
    assert combine(election_key, E, C, totals, shares) == [2, 1, 2]


def test_key_generation_policy() -> None:
    with pytest.raises(InvalidInput, match="production minimum"):
        generate_election_key(512, ["a", "b"], 2)
    with pytest.raises(InvalidInput, match="threshold"):
        generate_election_key(512, ["a", "b"], 3, allow_insecure_test_key=True)
    with pytest.raises(InvalidInput, match="distinct"):
        generate_election_key(512, ["a", "a"], 1, allow_insecure_test_key=True)


def test_fresh_key_2_of_3(tally: tuple[list[int], list[int]]) -> None:
    key, shares = generate_election_key(512, ["a", "b", "c"], 2, allow_insecure_test_key=True)
    assert key.public_key.n.bit_length() == 512
    ct = [int(encrypt(key.public_key, 42, random_unit(key.public_key.n)))]
    ds = [compute_decryption_share(s, E, C, ct) for s in shares]
    for subset in itertools.combinations(ds, 2):
        assert combine(key, E, C, ct, list(subset)) == [42]
    assert "secret" not in repr(shares[0]) and str(shares[0].secret_share) not in repr(shares[0])


# --- share files (§6.5) -----------------------------------------------------------------------


def test_share_file_round_trip(tmp_path: Path, trustee_shares: list[TrusteeShare]) -> None:
    path = tmp_path / "t1.json"
    write_encrypted_share(path, trustee_shares[0], "correct horse battery", scrypt_log2_n=14)
    doc = json.loads(path.read_text())
    assert doc["format"] == "ssb-vote/trustee-share" and doc["version"] == 2
    assert format(trustee_shares[0].secret_share, "x") not in path.read_text()
    assert read_encrypted_share(path, "correct horse battery", allow_insecure_test_key=True) == trustee_shares[0]


@pytest.mark.parametrize("tamper", ["passphrase", "ciphertext", "header", "nonce", "json"])
def test_share_file_wrong_passphrase_or_tampered(tmp_path: Path, trustee_shares: list[TrusteeShare], tamper: str) -> None:
    path = tmp_path / "t2.json"
    write_encrypted_share(path, trustee_shares[1], "pass", scrypt_log2_n=14)
    doc = json.loads(path.read_text())
    passphrase = "pass"
    if tamper == "passphrase":
        passphrase = "Pass"
    elif tamper == "ciphertext":
        doc["ciphertext"] = ("0" if doc["ciphertext"][0] != "0" else "1") + doc["ciphertext"][1:]
    elif tamper == "header":
        doc["trustee"] = "trustee-1"  # authenticated as associated data
    elif tamper == "nonce":
        doc["cipher"]["nonce"] = "00" * 12
    path.write_text("{not json" if tamper == "json" else json.dumps(doc))
    with pytest.raises(InvalidInput, match="wrong passphrase or corrupted share file"):
        read_encrypted_share(path, passphrase, allow_insecure_test_key=True)
