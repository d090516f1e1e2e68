"""Ballot encryption, proofs, verification and cast-as-intended (docs/protocol.md §5, §7)."""
from __future__ import annotations

import dataclasses
import secrets

import gmpy2
import pytest

from crypto.ballot import (
    EncryptedContest,
    ballot_hash,
    encrypt_contest,
    precompute_contest,
    recover_selections,
    verify_contest,
)
from crypto.batch import BatchVerifier
from crypto.errors import InvalidInput, InvalidProof
from crypto.paillier import PublicKey

from .forge import forge_ballot

E, C, P = "election-1", "insured-board", "voter-pseudonym-1"
SEED = bytes(range(32))
SEL = [1, 0, 1, 0, 0]


@pytest.fixture(scope="module")
def ballot(pk: PublicKey) -> EncryptedContest:
    return encrypt_contest(pk, E, C, P, SEL, 2, SEED)


def verify(pk: PublicKey, b: EncryptedContest, *, batch: bool = True, e: str = E, c: str = C, p: str = P,
           k: int = 2, num: int = 5) -> None:
    verify_contest(pk, e, c, p, num, k, b, batch=batch)


@pytest.mark.parametrize("batch", [True, False])
def test_honest_ballot_verifies(pk: PublicKey, ballot: EncryptedContest, batch: bool) -> None:
    verify(pk, ballot, batch=batch)  # raises on failure


def test_encryption_is_deterministic_and_seed_dependent(pk: PublicKey, ballot: EncryptedContest) -> None:
    assert encrypt_contest(pk, E, C, P, SEL, 2, SEED) == ballot
    other = encrypt_contest(pk, E, C, P, SEL, 2, bytes(31) + b"\x01")
    assert other.ciphertexts != ballot.ciphertexts


def test_precomputation_gives_same_ballot(pk: PublicKey, ballot: EncryptedContest) -> None:
    pre = precompute_contest(pk, E, C, P, 5, 2, SEED, processes=2)
    assert encrypt_contest(pk, E, C, P, SEL, 2, SEED, precomputed=pre) == ballot
    with pytest.raises(InvalidInput, match="precomputation does not match"):
        encrypt_contest(pk, E, C, "someone-else", SEL, 2, SEED, precomputed=pre)


def test_json_round_trip_and_hash(pk: PublicKey, ballot: EncryptedContest) -> None:
    text = ballot.to_json()
    again = EncryptedContest.from_json(text, pk)
    assert again == ballot
    assert again.to_json() == text
    assert ballot_hash(again) == ballot_hash(ballot)
    assert len(ballot_hash(ballot)) == 64


def test_recover_selections(pk: PublicKey, ballot: EncryptedContest) -> None:
    assert recover_selections(pk, ballot, E, C, P, SEED) == SEL
    with pytest.raises(InvalidInput, match="ciphertext 0: not made with the randomness"):
        recover_selections(pk, ballot, E, C, P, bytes(32))
    with pytest.raises(InvalidInput, match="ciphertext 0"):
        recover_selections(pk, ballot, E, C, "another-voter", SEED)


def test_abstention_and_full_selection(pk: PublicKey) -> None:
    for sel in ([0, 0, 0], [1, 1, 0]):
        b = encrypt_contest(pk, E, C, P, sel, 2, SEED)
        verify_contest(pk, E, C, P, 3, 2, b)
        assert recover_selections(pk, b, E, C, P, SEED) == sel


@pytest.mark.parametrize(
    "selections, k, message",
    [([1, 1, 1, 0, 0], 2, "3 selected, at most 2"), ([2, 0, 0, 0, 0], 2, "entry 0 must be 0 or 1"),
     ([-1, 0, 0, 0, 0], 2, "entry 0"), ([True, 0, 0, 0, 0], 2, "entry 0"), ([], 0, "number of candidates")],
)
def test_encrypt_rejects_bad_selections(pk: PublicKey, selections: list[int], k: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        encrypt_contest(pk, E, C, P, selections, k, SEED)


def test_encrypt_rejects_bad_seed(pk: PublicKey) -> None:
    with pytest.raises(InvalidInput, match="seed"):
        encrypt_contest(pk, E, C, P, SEL, 2, b"short")


# --- adversarial (§5.4, §12) -----------------------------------------------------------------


@pytest.mark.parametrize("value", [2, -1])
@pytest.mark.parametrize("batch", [True, False])
def test_value_outside_zero_one_with_forged_proof_fails(pk: PublicKey, value: int, batch: bool) -> None:
    # 2 for candidate 3 with a *valid* sum proof (total 2 ≤ k): only the 0/1 proof can catch it;
    # −1 (= n − 1) would cancel another selection's weight in the tally
    values = [0, 0, 0, value, 0] if value == 2 else [1, 1, 0, value, 0]
    bad = forge_ballot(pk, E, C, P, values, 2)
    with pytest.raises(InvalidProof, match="0/1 proof of candidate 3: verification equation of branch 1"):
        verify(pk, bad, batch=batch)


def test_forge_helper_is_honest_on_true_statements(pk: PublicKey) -> None:
    # guards the adversarial tests: the same builder with legal values produces a valid ballot
    verify(pk, forge_ballot(pk, E, C, P, [1, 0, 0, 1, 0], 2))


def test_k_plus_one_selections_with_valid_zero_one_proofs_fail(pk: PublicKey) -> None:
    bad = forge_ballot(pk, E, C, P, [1, 1, 1, 0, 0], 2)
    with pytest.raises(InvalidProof, match="sum proof: verification equation of branch 2"):
        verify(pk, bad)


def test_k_plus_one_selections_fail(pk: PublicKey) -> None:
    # honest-looking ballot for k = 3 presented in a contest with k = 2: the sum proof has 4 branches
    b = encrypt_contest(pk, E, C, P, [1, 1, 1, 0, 0], 3, SEED)
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
    from phe import paillier

    pub, priv = paillier.generate_paillier_keypair(n_length=512)
    pk2 = PublicKey(pub.n, allow_insecure_test_key=True)
    b = encrypt_contest(pk2, E, C, P, [0, 1], 1, SEED)
    bad = dataclasses.replace(b, ciphertexts=(priv.p * 12345, b.ciphertexts[1]))
    with pytest.raises(InvalidInput, match="ciphertext 0: not coprime to n"):
        verify_contest(pk2, E, C, P, 2, 1, bad)
    parsed = EncryptedContest.from_dict(
        dict(b.to_dict(), ciphertexts=[format(priv.q * 7, "x"), b.to_dict()["ciphertexts"][1]]), pk2)
    with pytest.raises(InvalidInput, match="ciphertext 0: not coprime to n"):
        verify_contest(pk2, E, C, P, 2, 1, parsed, batch=False)


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


def test_response_sign_flip_rejected(pk: PublicKey, ballot: EncryptedContest) -> None:
    # z ↦ n − z satisfies the squared equation; the canonical range [1, (n−1)/2] rejects it (§5.3)
    p0 = ballot.proofs[0]
    flipped = dataclasses.replace(p0, responses=(pk.n - p0.responses[0], p0.responses[1]))
    b = dataclasses.replace(ballot, proofs=(flipped,) + ballot.proofs[1:])
    with pytest.raises(InvalidInput, match=r"candidate 0 response 0: not in \[1, \(n−1\)/2\]"):
        verify(pk, b)


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
        ballots.append(encrypt_contest(pk, E, C, f"voter-{i}", sel, 2, secrets.token_bytes(32)))
    ballots[4] = forge_ballot(pk, E, C, "voter-4", [0, 2, 0, 0], 2)
    for i, b in enumerate(ballots):
        verifier.add_contest(E, C, f"voter-{i}", 4, 2, b, tag=f"voter-{i}")
    assert len(verifier) == 6
    assert verifier.check() is False
    assert verifier.verify() == ["voter-4"]


def test_order_two_error_batch_agrees_with_single(pk: PublicKey) -> None:
    # A prover publishes a_j = −ρ^n: z^n = −a·u^e holds only up to the order-2 element −1.
    # §5.3 accepts it (−1 = (−1)^n is an n-th residue, so soundness is unaffected) and §7.1
    # squares both sides so that batch and per-proof verification give the same answer on every
    # run — without squaring the batch would accept with probability 1/2 (odd/even weights).
    n2 = pk.n * pk.n

    def exact_branch_one(b: EncryptedContest) -> bool:
        p0 = b.proofs[0]
        u = b.ciphertexts[0] * gmpy2.invert(1 + pk.n, n2) % n2
        return bool(gmpy2.powmod(p0.responses[1], pk.n, n2) == p0.commitments[1] * gmpy2.powmod(u, p0.challenges[1], n2) % n2)

    # the response normalisation flips the sign back half of the time; keep a forgery where it did not
    b = forge_ballot(pk, E, C, P, [1, 0, 1, 0, 0], 2, negate_commitments=True)
    while exact_branch_one(b):
        b = forge_ballot(pk, E, C, P, [1, 0, 1, 0, 0], 2, negate_commitments=True)
    exact = exact_branch_one(b)
    assert not exact  # the unsquared equation really fails
    verify(pk, b, batch=False)
    for _ in range(8):
        v = BatchVerifier(pk)
        v.add_contest(E, C, P, 5, 2, b)
        assert v.check() is True


def test_batch_rejects_every_time(pk: PublicKey) -> None:
    bad = forge_ballot(pk, E, C, P, [0, 0, 2, 0, 0], 2)
    for _ in range(8):
        v = BatchVerifier(pk)
        v.add_contest(E, C, P, 5, 2, bad)
        assert v.check() is False


def test_too_small_key_refused() -> None:
    from phe import paillier

    pub, _ = paillier.generate_paillier_keypair(n_length=1024)
    with pytest.raises(InvalidInput, match="below the production minimum of 2048 bits"):
        PublicKey(pub.n)
    with pytest.raises(InvalidInput, match="production minimum"):
        PublicKey.from_dict({"n": format(pub.n, "x")})
    assert PublicKey(pub.n, allow_insecure_test_key=True).n == pub.n
