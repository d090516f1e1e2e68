"""The tally's fast paths agree exactly with the reference code they shortcut.

* challenge hashing from canonical hex (crypto.hashing.challenge_prefix …) = ``challenge``;
* the skeleton parse of canonical ballot bytes accepts only what the strict path accepts
  (parse, canonical re-encoding, ``EncryptedContest.from_dict``) and yields the same ballot;
* bulk structural checks (crypto.batch._checks_pass) pass exactly when the check-by-check
  reference passes, except the unit check, which the batch does on its results (§7.1);
* the variable-window multi-exponentiation equals the product of powmods.
"""
from __future__ import annotations

import json
import random
import secrets

import gmpy2
import pytest

from crypto import ContestStatement, EncryptedContest, InvalidInput, PublicKey, encrypt_contest, verify_contest, verify_many
from crypto.ballot import ballot_from_canonical_values, canonical_ballot_values, parse_canonical_ballot
from crypto.batch import BatchVerifier, _checks_pass, _structural_checks_reference
from crypto.encoding import canonical_json, lp_encode
from crypto.hashing import (
    DOMAIN_SUM,
    DOMAIN_ZERO_ONE,
    challenge,
    challenge_from_digest,
    challenge_prefix,
    lp_int_hex,
    lp_list_hex,
)
from crypto.hazmat import multi_exp, window_schedule
from crypto.proofs import verify_branches
from crypto.randomness import random_weights

from .forge import ballot_with_non_unit, forge_ballot

E, C, P = "election-fast", "insured", "voter-fast"
N, K = 6, 3


def st(pk: PublicKey, n: int = N, k: int = K, party: str = P) -> ContestStatement:
    return ContestStatement(pk, E, C, party, n, k)


@pytest.fixture(scope="module")
def ballot(pk: PublicKey) -> EncryptedContest:
    return encrypt_contest(st(pk), [1, 0, 1, 0, 0, 1], bytes(range(32)))


def _hex(x: int) -> bytes:
    return format(x, "x").encode()


def test_challenge_from_hex_equals_challenge(pk: PublicKey) -> None:
    rng = random.Random(5)
    for _ in range(50):
        ints = [rng.getrandbits(rng.choice([1, 8, 128, 4096])) for _ in range(rng.randint(0, 9))]
        commitments = [rng.getrandbits(4096) for _ in range(rng.randint(1, 9))]
        i = rng.randint(0, 1000)
        h = challenge_prefix(DOMAIN_ZERO_ONE, E, pk.n, C, P)
        h.update(b"l" + (2).to_bytes(4, "big") + lp_int_hex(_hex(i)) + lp_list_hex([_hex(x) for x in ints])
                 + lp_list_hex([_hex(a) for a in commitments]))
        assert challenge_from_digest(h.digest()) == challenge(DOMAIN_ZERO_ONE, E, pk.n, C, P, [i, ints], commitments)
    assert lp_list_hex([_hex(0), _hex(255)]) == lp_encode([0, 255])
    assert challenge_prefix(DOMAIN_SUM, E, pk.n, C, P).digest() != challenge_prefix(DOMAIN_SUM, E, pk.n, C, "x").digest()


def test_fast_parse_of_a_canonical_ballot(pk: PublicKey, ballot: EncryptedContest) -> None:
    data = ballot.to_json()
    fast = parse_canonical_ballot(data, pk, N, K)
    assert fast is not None and fast == ballot == EncryptedContest.from_json(data, pk)
    assert fast.hex_cache is not None
    ct_hex, commitment_hex = fast.hex_cache
    assert list(ct_hex) == [_hex(c) for c in ballot.ciphertexts]
    assert [list(h) for h in commitment_hex] == [[_hex(a) for a in p.commitments]
                                                 for p in list(ballot.proofs) + [ballot.sum_proof]]
    assert canonical_json(json.loads(data)) == data
    # another shape is not this skeleton: the caller takes the strict path
    assert canonical_ballot_values(data, N, K + 1) is None
    assert canonical_ballot_values(data, N - 1, K) is None


def _mutations(data: bytes) -> list[bytes]:
    text = data.decode()
    first = json.loads(data)["ciphertexts"][0]
    out = [
        text.replace(first, first.upper(), 1),  # upper case hex
        text.replace('"' + first, '"0' + first, 1),  # leading zero
        text.replace('"' + first + '"', '"' + first[:-1] + '\\u00' + format(ord(first[-1]), "x") + '"', 1),
        text.replace(":[", ": [", 1),  # white space
        text.replace('"ciphertexts"', '"ciphertexts" ', 1),
        text.replace('"challenges"', '"chalenges"', 1),  # a key changed
        text.replace('"commitments"', '"Commitments"', 1),
        text.replace('"' + first + '"', '""', 1),  # empty value
        text.replace('"' + first + '"', '"' + first + 'g"', 1),  # non-hex
        text.replace('"' + first + '"', "1", 1),  # a number, not a string
        text[:-1] + ',"extra":"1"}',  # extra key
        text.replace('{"ciphertexts"', '{"ciphertexts":["1"],"ciphertexts"', 1),  # duplicate key
        text.replace('"sum_proof":{"challenges"', '"sum_proof":{"challenges":["0"],"challenges"', 1),
        text.replace('"' + first + '"', '"' + "f" * 4097 + '"', 1),  # too long, out of range
        text.replace('"' + first + '"', '"0"', 1),  # out of range (c = 0)
    ]
    proofs = json.loads(data)
    proofs["proofs"][0]["commitments"], proofs["proofs"][0]["responses"] = (proofs["proofs"][0]["responses"],
                                                                            proofs["proofs"][0]["commitments"])
    out.append(canonical_json(proofs).decode())  # canonical, values swapped (range of responses)
    return [m.encode() for m in out if m.encode() != data]


def _strict(data: bytes, pk: PublicKey) -> EncryptedContest | None:
    """What the tally's strict path accepts: canonical JSON and from_dict."""
    try:
        obj = json.loads(data)
        if canonical_json(obj) != data:
            return None
        return EncryptedContest.from_dict(obj, pk)
    except (ValueError, InvalidInput):
        return None


def test_fast_parse_accepts_nothing_the_strict_path_refuses(pk: PublicKey, ballot: EncryptedContest) -> None:
    for data in _mutations(ballot.to_json()):
        fast = parse_canonical_ballot(data, pk, N, K)
        if fast is not None:
            assert fast == _strict(data, pk), data[:200]
        assert parse_canonical_ballot(data, pk, N, K) is None or _strict(data, pk) is not None


def test_fast_values_then_out_of_range_falls_back(pk: PublicKey, ballot: EncryptedContest) -> None:
    d = ballot.to_dict()
    d["proofs"][1]["responses"][0] = format(pk.n - 1, "x")  # canonical hex, above (n−1)/2
    data = canonical_json(d)
    values = canonical_ballot_values(data, N, K)
    assert values is not None  # canonical bytes …
    assert ballot_from_canonical_values(values, pk, N, K) is None  # … but from_dict must name the field
    with pytest.raises(InvalidInput, match="0/1 proof of candidate 1 response 0: above"):
        EncryptedContest.from_dict(json.loads(data), pk)


def _reference_passes(pk: PublicKey, b: object, n: int = N, k: int = K, party: str = P) -> bool:
    try:
        _structural_checks_reference(st(pk, n, k, party), b)
    except InvalidInput:
        return False
    return True


def test_bulk_checks_agree_with_reference(pk: PublicKey, ballot: EncryptedContest) -> None:
    fast = parse_canonical_ballot(ballot.to_json(), pk, N, K)
    cases: list[tuple[object, int, int, str]] = [(ballot, N, K, P), (fast, N, K, P), (ballot, N, K, "other"),
                                                 (fast, N, K, "other"), (ballot, N + 1, K, P), (ballot, N, K - 1, P),
                                                 ("not a ballot", N, K, P)]
    forged = forge_ballot(st(pk), [0, 2, 0, 0, 0, 0])  # V1 holds, V2 fails: structurally fine
    cases.append((forged, N, K, P))
    d = ballot.to_dict()
    d["proofs"][3]["challenges"][0] = format((int(d["proofs"][3]["challenges"][0], 16) + 1) % 2**128, "x")
    cases.append((EncryptedContest.from_dict(d, pk), N, K, P))  # challenge sum broken
    for b, n, k, party in cases:
        assert _checks_pass(st(pk, n, k, party), b) == _reference_passes(pk, b, n, k, party)
    assert _checks_pass(st(pk), ballot) and _checks_pass(st(pk), forged)


def test_non_units_are_refused_by_the_batch_and_named_by_the_reference() -> None:
    """The bulk checks leave the unit check (§5.4 step 3) to the batch, which gets it from the
    gcd of its multi-exponentiation result (§7.1): every non-unit — ciphertext or commitment —
    fails the batch, and the fallback names it.  (With integer responses over h_s, (V2) alone
    would refuse them too: h_s^z is a unit, protocol.md §5.3.)"""
    p, q = gmpy2.next_prime(3 * 2**254 + 12345), gmpy2.next_prime(3 * 2**254 + 98765)
    small = PublicKey(int(p * q), allow_insecure_test_key=True)
    values = [0, 1, 1, 0, 0, 1]
    good = encrypt_contest(st(small), values, bytes(range(32)))
    for where in ("ciphertext", "commitment"):
        bad = ballot_with_non_unit(st(small), values, int(p), where)
        assert _checks_pass(st(small), bad), where  # (V1) holds: not the bulk checks' job
        assert not _reference_passes(small, bad), where
        verifier = BatchVerifier(small)
        verifier.add_contest(st(small), good)
        verifier.add_contest(st(small), bad)
        assert not verifier.check(), where
        errors = verify_many([(st(small), good), (st(small), bad)])
        assert list(errors) == [1] and "not coprime to n" in str(errors[1]), where
        with pytest.raises(InvalidInput, match="not coprime to n"):
            verify_contest(st(small), bad)


def test_batch_of_fast_parsed_ballots(pk: PublicKey, ballot: EncryptedContest) -> None:
    fast = parse_canonical_ballot(ballot.to_json(), pk, N, K)
    assert fast is not None and fast.hex_cache is not None
    v = BatchVerifier(pk)
    v.add_contest(st(pk), fast)
    v.add_contest(st(pk), ballot)
    assert v.check()
    bad = forge_ballot(st(pk), [0, 0, 2, 0, 0, 0])
    assert list(verify_many([(st(pk), fast), (st(pk), ballot), (st(pk), bad)])) == [2]


def test_multi_exp_variable_windows() -> None:
    rng = random.Random(11)
    for trial in range(60):
        mod = gmpy2.mpz(rng.getrandbits(rng.choice([64, 521, 2048])) | 1)
        count = rng.randint(0, 80)
        bases = [rng.getrandbits(int(mod).bit_length() + 3) for _ in range(count)]
        exps = [rng.getrandbits(rng.choice([0, 1, 5, 64, 64, 130, 194])) for _ in range(count)]
        expected = 1 % int(mod)
        for b, e in zip(bases, exps):
            expected = expected * pow(b, e, int(mod)) % int(mod)
        assert multi_exp(bases, exps, mod) == expected, trial
        assert multi_exp([gmpy2.mpz(b) for b in bases], exps, mod) == expected
    schedule = window_schedule([64] * 5000 + [194] * 2500)
    assert schedule[0][0] == 0 and sum(w for _, w in schedule) == 194
    assert all(s + w == t for (s, w), (t, _) in zip(schedule, schedule[1:]))


def test_random_weights() -> None:
    weights = random_weights(1000)
    assert len(weights) == 1000 and all(0 <= w < 2**64 for w in weights)
    assert max(weights) > 2**63  # overwhelmingly likely: uses the full 64 bits
    assert len(set(random_weights(10, 128) + random_weights(10, 128))) == 20
    with pytest.raises(ValueError):
        random_weights(3, 12)
    assert secrets  # the module draws from secrets
