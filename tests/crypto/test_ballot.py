"""Ballot encryption, proofs, verification and cast-as-intended (docs/protocol.md §5, §7)."""
from __future__ import annotations

import dataclasses
import secrets

import gmpy2
import pytest

from crypto import (
    ContestStatement,
    EncryptedContest,
    InvalidInput,
    InvalidProof,
    PublicKey,
    ballot_hash,
    encrypt_contest,
    precompute_contest,
    recover_selections,
    verify_contest,
    verify_many,
)
from crypto.batch import BatchVerifier

from .forge import forge_ballot, rsa_modulus

E, C, P = "election-1", "insured-board", "voter-pseudonym-1"
SEED = bytes(range(32))
SEL = [1, 0, 1, 0, 0]


def st(pk: PublicKey, num: int = 5, k: int = 2, *, e: str = E, c: str = C, p: str = P) -> ContestStatement:
    return ContestStatement(pk, e, c, p, num, k)


def enc(pk: PublicKey, selections: list[int], k: int, seed: bytes = SEED, p: str = P) -> EncryptedContest:
    return encrypt_contest(st(pk, len(selections), k, p=p), selections, seed)


@pytest.fixture(scope="module")
def ballot(pk: PublicKey) -> EncryptedContest:
    return enc(pk, SEL, 2)


def verify(pk: PublicKey, b: EncryptedContest, *, batch: bool = True, e: str = E, c: str = C, p: str = P,
           k: int = 2, num: int = 5) -> None:
    verify_contest(st(pk, num, k, e=e, c=c, p=p), b, batch=batch)


@pytest.mark.parametrize("batch", [True, False])
def test_honest_ballot_verifies(pk: PublicKey, ballot: EncryptedContest, batch: bool) -> None:
    verify(pk, ballot, batch=batch)  # raises on failure


def test_encryption_is_deterministic_and_seed_dependent(pk: PublicKey, ballot: EncryptedContest) -> None:
    assert enc(pk, SEL, 2) == ballot
    other = enc(pk, SEL, 2, bytes(31) + b"\x01")
    assert other.ciphertexts != ballot.ciphertexts


def test_precomputation_gives_same_ballot(pk: PublicKey, ballot: EncryptedContest) -> None:
    pre = precompute_contest(st(pk), SEED, processes=2)
    assert encrypt_contest(st(pk), SEL, SEED, precomputed=pre) == ballot
    with pytest.raises(InvalidInput, match="precomputation does not match"):
        encrypt_contest(st(pk, p="someone-else"), SEL, SEED, precomputed=pre)


def test_json_round_trip_and_hash(pk: PublicKey, ballot: EncryptedContest) -> None:
    text = ballot.to_json()
    again = EncryptedContest.from_json(text, pk)
    assert again == ballot
    assert again.to_json() == text
    assert ballot_hash(again) == ballot_hash(ballot)
    assert len(ballot_hash(ballot)) == 64


def test_recover_selections(pk: PublicKey, ballot: EncryptedContest) -> None:
    assert recover_selections(st(pk), ballot, SEED) == SEL
    with pytest.raises(InvalidInput, match="ciphertext 0: not made with the randomness"):
        recover_selections(st(pk), ballot, bytes(32))
    with pytest.raises(InvalidInput, match="ciphertext 0"):
        recover_selections(st(pk, p="another-voter"), ballot, SEED)


def test_abstention_and_full_selection(pk: PublicKey) -> None:
    for sel in ([0, 0, 0], [1, 1, 0]):
        b = enc(pk, sel, 2)
        verify_contest(st(pk, 3, 2), b)
        assert recover_selections(st(pk, 3, 2), b, SEED) == sel


@pytest.mark.parametrize(
    "selections, k, message",
    [([1, 1, 1, 0, 0], 2, "3 selected, at most 2"), ([2, 0, 0, 0, 0], 2, "entry 0 must be 0 or 1"),
     ([-1, 0, 0, 0, 0], 2, "entry 0"), ([True, 0, 0, 0, 0], 2, "entry 0"), ([], 0, "number of candidates")],
)
def test_encrypt_rejects_bad_selections(pk: PublicKey, selections: list[int], k: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        enc(pk, selections, k)


def test_encrypt_rejects_selections_of_another_shape(pk: PublicKey) -> None:
    with pytest.raises(InvalidInput, match="selections: expected 5 entries, got 4"):
        encrypt_contest(st(pk), [1, 0, 0, 0], SEED)


def test_statement_is_checked_on_construction(pk: PublicKey) -> None:
    for bad, message in [(dict(e=""), "election id"), (dict(c=""), "contest id"), (dict(p=""), "pseudonym")]:
        with pytest.raises(InvalidInput, match=f"{message}: expected a non-empty string"):
            st(pk, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="max_selections"):
        st(pk, 5, 6)
    with pytest.raises(InvalidInput, match="public key"):
        ContestStatement(pk.n, E, C, P, 5, 2)  # type: ignore[arg-type]


def test_encrypt_rejects_bad_seed(pk: PublicKey) -> None:
    with pytest.raises(InvalidInput, match="seed"):
        enc(pk, SEL, 2, b"short")


# --- adversarial (§5.4, §12) -----------------------------------------------------------------


@pytest.mark.parametrize("value", [2, -1])
@pytest.mark.parametrize("batch", [True, False])
def test_value_outside_zero_one_with_forged_proof_fails(pk: PublicKey, value: int, batch: bool) -> None:
    # 2 for candidate 3 with a *valid* sum proof (total 2 ≤ k): only the 0/1 proof can catch it;
    # −1 (= n − 1) would cancel another selection's weight in the tally
    values = [0, 0, 0, value, 0] if value == 2 else [1, 1, 0, value, 0]
    bad = forge_ballot(st(pk), values)
    with pytest.raises(InvalidProof, match="0/1 proof of candidate 3: verification equation of branch 1"):
        verify(pk, bad, batch=batch)


def test_forge_helper_is_honest_on_true_statements(pk: PublicKey) -> None:
    # guards the adversarial tests: the same builder with legal values produces a valid ballot
    verify(pk, forge_ballot(st(pk), [1, 0, 0, 1, 0]))


def test_k_plus_one_selections_with_valid_zero_one_proofs_fail(pk: PublicKey) -> None:
    bad = forge_ballot(st(pk), [1, 1, 1, 0, 0])
    with pytest.raises(InvalidProof, match="sum proof: verification equation of branch 2"):
        verify(pk, bad)


def test_k_plus_one_selections_fail(pk: PublicKey) -> None:
    # honest-looking ballot for k = 3 presented in a contest with k = 2: the sum proof has 4 branches
    b = enc(pk, [1, 1, 1, 0, 0], 3)
    with pytest.raises(InvalidInput, match="sum proof: expected 3 branches"):
        verify(pk, b)
    # cut the sum proof down to 3 branches: the Fiat–Shamir challenge no longer matches
    sp = b.sum_proof
    cut = dataclasses.replace(b, sum_proof=dataclasses.replace(
        sp, commitments=sp.commitments[:3], challenges=sp.challenges[:3], responses=sp.responses[:3]))
    with pytest.raises(InvalidProof, match="sum proof"):
        verify(pk, cut)


@pytest.mark.parametrize("field_value, message", [
    (lambda pk: 0, "ciphertext 1: below"), (lambda pk: pk.n * pk.n, "ciphertext 1: above"),
])
def test_ciphertext_range_in_json(pk: PublicKey, ballot: EncryptedContest, field_value: object, message: str) -> None:
    d = ballot.to_dict()
    d["ciphertexts"][1] = format(field_value(pk), "x")  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message):
        EncryptedContest.from_dict(d, pk)


@pytest.mark.parametrize("bad_c, message", [
    (lambda n: 0, "ciphertext 1: not in the range"),
    (lambda n: n, "ciphertext 1: not coprime to n"),
    (lambda n: 4 * n, "ciphertext 1: not coprime to n"),
    (lambda n: n * n, "ciphertext 1: not in the range"),
])
@pytest.mark.parametrize("batch", [True, False])
def test_ciphertext_outside_z_star_n2_rejected(pk: PublicKey, ballot: EncryptedContest, bad_c: object, message: str, batch: bool) -> None:
    value = bad_c(pk.n)  # type: ignore[operator]
    b = dataclasses.replace(ballot, ciphertexts=(ballot.ciphertexts[0], value) + ballot.ciphertexts[2:])
    with pytest.raises(InvalidInput, match=message):
        verify(pk, b, batch=batch)


def test_ciphertext_sharing_one_prime_factor_rejected() -> None:
    p, q = rsa_modulus(512)
    pk2 = PublicKey(p * q, allow_insecure_test_key=True)
    b = enc(pk2, [0, 1], 1)
    bad = dataclasses.replace(b, ciphertexts=(p * 12345, b.ciphertexts[1]))
    with pytest.raises(InvalidInput, match="ciphertext 0: not coprime to n"):
        verify_contest(st(pk2, 2, 1), bad)
    parsed = EncryptedContest.from_dict(
        dict(b.to_dict(), ciphertexts=[format(q * 7, "x"), b.to_dict()["ciphertexts"][1]]), pk2)
    with pytest.raises(InvalidInput, match="ciphertext 0: not coprime to n"):
        verify_contest(st(pk2, 2, 1), parsed, batch=False)


def test_swapped_commitments_fail(pk: PublicKey, ballot: EncryptedContest) -> None:
    p0 = ballot.proofs[0]
    swapped = dataclasses.replace(p0, commitments=p0.commitments[::-1])
    b = dataclasses.replace(ballot, proofs=(swapped,) + ballot.proofs[1:])
    with pytest.raises(InvalidProof, match="candidate 0"):
        verify(pk, b)


def test_proofs_swapped_between_candidates_fail(pk: PublicKey, ballot: EncryptedContest) -> None:
    b = dataclasses.replace(ballot, proofs=(ballot.proofs[1], ballot.proofs[0]) + ballot.proofs[2:])
    with pytest.raises(InvalidProof, match="candidate 0"):
        verify(pk, b)


@pytest.mark.parametrize("context", [{"p": "another-voter"}, {"c": "employer-board"}, {"e": "election-2"}])
def test_replay_to_other_context_fails(pk: PublicKey, ballot: EncryptedContest, context: dict[str, str]) -> None:
    with pytest.raises(InvalidProof, match="challenges do not sum"):
        verify(pk, ballot, **context)  # type: ignore[arg-type]


def test_replay_under_other_public_key_fails(pk: PublicKey, ballot: EncryptedContest) -> None:
    from crypto.ceremony import generate_election_key

    other, _ = generate_election_key(512, ["a"], 1, allow_insecure_test_key=True)
    with pytest.raises(InvalidInput):
        verify(other.public_key, ballot)


def test_response_malleability_rejected(pk: PublicKey, ballot: EncryptedContest) -> None:
    """Integer responses (protocol.md §5.3): z + 1 breaks (V2); z + 2^(S+1) — or any longer z, such as
    z plus a multiple of the unknown order of h_s — is refused by the range; a negative z cannot
    even be written (canonical hex)."""
    from crypto.proofs import response_limit, zero_one_witness_bits

    limit = response_limit(zero_one_witness_bits(pk))
    p0 = ballot.proofs[0]
    plus_one = dataclasses.replace(p0, responses=(p0.responses[0] + 1, p0.responses[1]))
    with pytest.raises(InvalidProof, match="candidate 0: verification equation of branch 0 fails"):
        verify(pk, dataclasses.replace(ballot, proofs=(plus_one,) + ballot.proofs[1:]))
    too_long = dataclasses.replace(p0, responses=(p0.responses[0] + limit, p0.responses[1]))
    with pytest.raises(InvalidInput, match=r"candidate 0 response 0: not in \[0, 2\^"):
        verify(pk, dataclasses.replace(ballot, proofs=(too_long,) + ballot.proofs[1:]))
    d = ballot.to_dict()
    d["proofs"][0]["responses"][0] = format(limit, "x")
    with pytest.raises(InvalidInput, match="response 0"):
        EncryptedContest.from_dict(d, pk)
    d["proofs"][0]["responses"][0] = "-1"
    with pytest.raises(InvalidInput, match="response 0"):
        EncryptedContest.from_dict(d, pk)


def test_challenge_out_of_range_rejected(pk: PublicKey, ballot: EncryptedContest) -> None:
    d = ballot.to_dict()
    d["proofs"][0]["challenges"][0] = format(2**128, "x")
    with pytest.raises(InvalidInput, match="challenge 0: above"):
        EncryptedContest.from_dict(d, pk)


def test_wrong_number_of_ciphertexts(pk: PublicKey, ballot: EncryptedContest) -> None:
    with pytest.raises(InvalidInput, match="expected 6 ciphertexts, got 5"):
        verify(pk, ballot, num=6)


def test_strict_json_shape(pk: PublicKey, ballot: EncryptedContest) -> None:
    d = ballot.to_dict()
    d["extra"] = 1
    with pytest.raises(InvalidInput, match="unexpected keys"):
        EncryptedContest.from_dict(d, pk)
    d = ballot.to_dict()
    d["proofs"][2]["responses"].append("1")
    with pytest.raises(InvalidInput, match="0/1 proof of candidate 2 responses: expected 2"):
        EncryptedContest.from_dict(d, pk)
    d = ballot.to_dict()
    d["ciphertexts"][0] = d["ciphertexts"][0].upper()
    with pytest.raises(InvalidInput, match="ciphertext 0: not a canonical"):
        EncryptedContest.from_dict(d, pk)


def test_batch_verifier_across_ballots_names_failures(pk: PublicKey) -> None:
    verifier = BatchVerifier(pk)
    ballots = []
    for i in range(6):
        sel = [secrets.randbelow(2) for _ in range(4)]
        while sum(sel) > 2:
            sel = [secrets.randbelow(2) for _ in range(4)]
        ballots.append(enc(pk, sel, 2, secrets.token_bytes(32), p=f"voter-{i}"))
    ballots[4] = forge_ballot(st(pk, 4, 2, p="voter-4"), [0, 2, 0, 0])
    items = [(st(pk, 4, 2, p=f"voter-{i}"), b) for i, b in enumerate(ballots)]
    for statement, b in items:
        verifier.add_contest(statement, b)
    assert len(verifier) == 6
    assert verifier.check() is False
    errors = verify_many(items)
    assert list(errors) == [4]
    assert str(errors[4]) == "0/1 proof of candidate 1: verification equation of branch 1 fails"


def test_verify_many_names_every_bad_ballot_as_alone(pk: PublicKey) -> None:
    """Any mix: each invalid ballot (cheap check or equation) gets the error of verify_contest
    on its own; the valid ones none; ballots under another key are a batch of their own."""
    from crypto.ceremony import generate_election_key

    other = generate_election_key(512, ["a"], 1, allow_insecure_test_key=True)[0].public_key
    good = [(st(pk, 4, 2, p=f"v{i}"), enc(pk, [1, 0, 0, 1], 2, secrets.token_bytes(32), p=f"v{i}"))
            for i in range(5)]
    elsewhere = (st(other, 4, 2, p="v-other"), enc(other, [0, 0, 1, 0], 2, p="v-other"))
    bad_equation = (st(pk, 4, 2, p="x1"), forge_ballot(st(pk, 4, 2, p="x1"), [0, 0, 0, 2]))
    bad_sum = (st(pk, 4, 2, p="x2"), forge_ballot(st(pk, 4, 2, p="x2"), [1, 1, 1, 0]))
    bad_shape = (st(pk, 5, 2, p="x3"), good[0][1])
    replayed = (st(pk, 4, 2, p="x4"), good[1][1])
    items = [good[0], bad_equation, good[1], elsewhere, good[2], bad_sum, bad_shape, good[3], replayed, good[4]]
    errors = verify_many(items)
    assert list(errors) == [1, 5, 6, 8]
    for position, error in errors.items():
        with pytest.raises(InvalidInput) as alone:
            verify_contest(*items[position], batch=False)
        assert type(error) is type(alone.value) and str(error) == str(alone.value)
    assert verify_many(iter(good)) == {} and verify_many([]) == {}


def test_order_two_error_batch_agrees_with_single(pk: PublicKey) -> None:
    # A prover publishes a_j = −ρ^n: z^n = −a·u^e holds only up to the order-2 element −1.
    # §5.3 accepts it (−1 = (−1)^n is an n-th residue, so soundness is unaffected) and §7.1
    # squares both sides so that batch and per-proof verification give the same answer on every
    # run — without squaring the batch would accept with probability 1/2 (odd/even weights).
    n2 = pk.n * pk.n

    def exact_branch_one(b: EncryptedContest) -> bool:
        p0 = b.proofs[0]
        u = b.ciphertexts[0] * gmpy2.invert(1 + pk.n, n2) % n2
        return bool(pk.short_power(p0.responses[1]) == p0.commitments[1] * gmpy2.powmod(u, p0.challenges[1], n2) % n2)

    b = forge_ballot(st(pk), [1, 0, 1, 0, 0], negate_commitments=True)
    exact = exact_branch_one(b)
    assert not exact  # the unsquared equation really fails
    verify(pk, b, batch=False)
    for _ in range(8):
        v = BatchVerifier(pk)
        v.add_contest(st(pk), b)
        assert v.check() is True


def test_batch_rejects_every_time(pk: PublicKey) -> None:
    bad = forge_ballot(st(pk), [0, 0, 2, 0, 0])
    for _ in range(8):
        v = BatchVerifier(pk)
        v.add_contest(st(pk), bad)
        assert v.check() is False


def test_too_small_key_refused() -> None:
    p, q = rsa_modulus(1024)
    n = p * q
    with pytest.raises(InvalidInput, match="below the production minimum of 2048 bits"):
        PublicKey(n)
    with pytest.raises(InvalidInput, match="production minimum"):
        PublicKey.from_dict({"n": format(n, "x")})
    assert PublicKey(n, allow_insecure_test_key=True).n == n
