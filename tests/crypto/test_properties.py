"""Hypothesis properties (docs/protocol.md §5, §6)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import (
    ContestStatement,
    ElectionPublicKey,
    EncryptedContest,
    PublicKey,
    TrusteeShare,
    add_ciphertexts,
    combine,
    compute_decryption_share,
    encrypt_contest,
    recover_selections,
    verify_contest,
)
from crypto.hazmat import combine_unchecked
from crypto.paillier import encrypt
from crypto.randomness import random_unit

FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def contests(draw: st.DrawFn) -> tuple[list[int], int]:
    n = draw(st.integers(1, 8))
    k = draw(st.integers(0, min(n, 4)))
    chosen = draw(st.sets(st.integers(0, n - 1), max_size=k))
    return [1 if i in chosen else 0 for i in range(n)], k


@FAST
@given(contests(), st.binary(min_size=32, max_size=32), st.text(min_size=1, max_size=12))
def test_encrypt_verify_recover_round_trip(pk: PublicKey, contest: tuple[list[int], int], seed: bytes, pseudonym: str) -> None:
    selections, k = contest
    statement = ContestStatement(pk, "e", "c", pseudonym, len(selections), k)
    ballot = encrypt_contest(statement, selections, seed)
    again = EncryptedContest.from_json(ballot.to_json(), pk)
    verify_contest(statement, again, batch=True)
    verify_contest(statement, again, batch=False)
    assert recover_selections(statement, again, seed) == selections


@FAST
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=6), st.data())
def test_homomorphic_sum_and_threshold(
    election_key: ElectionPublicKey, trustee_shares: list[TrusteeShare], values: list[int], data: st.DataObject
) -> None:
    pk = election_key.public_key
    total = add_ciphertexts(pk, [int(encrypt(pk, v, random_unit(pk.n))) for v in values])
    subset = data.draw(st.lists(st.sampled_from(trustee_shares), min_size=3, max_size=5, unique_by=lambda s: s.index))
    shares = [compute_decryption_share(s, "e", "c", [total]) for s in subset]
    assert combine(election_key, "e", "c", [total], shares) == [sum(values)]
    # any t−1 shares do not give the plaintext
    few = shares[:2]
    try:
        assert combine_unchecked(election_key, few) != [sum(values)]
    except ValueError:
        pass
