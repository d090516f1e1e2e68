"""Contest ballots and their disjunctive proofs — docs/protocol.md §5, shapes §9.3.

The checks of protocol.md §5.4 are split so that the expensive step (V2, powers of h_s) can be batched
(§7, :mod:`verifier.batch`):  :func:`parse_ballot` (shape, canonical hex),
:func:`check_static` (ranges, units, V1) and :func:`check_v2_per_proof` (V2 one proof at a
time, naming the candidate).  :func:`static_holds` evaluates the predicates of
:func:`check_static` but the units in bulk, for ballots bound for a batch (which checks the
units itself, protocol.md §7.1); whatever it refuses, :func:`check_static` names.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Sequence

from verifier import arith
from verifier.encoding import canonical_hex_ints, expect_list, expect_object, lp, parse_hex_int
from verifier.errors import InvalidInput
from verifier.hashing import CHALLENGE_MOD, DOMAIN_SUM, DOMAIN_ZERO_ONE, challenge
from verifier.shortbase import response_limit, short_power, sum_witness_bits, zero_one_witness_bits

MAX_CANDIDATES = 1000
MAX_SELECTIONS = 64
SUM = "sum"  # the ``where`` of a failure in the sum proof


class InvalidProof(InvalidInput):
    """A well-formed proof that does not verify (docs/protocol.md §1.3)."""


@dataclass(frozen=True)
class DisjunctiveProof:
    """Per branch j: commitment a_j, challenge e_j, response z_j (protocol.md §5.3).

    :func:`parse_ballot` stores the values in the arithmetic backend's type (``gmpy2.mpz``
    or ``int``), so that a batch uses them without copies."""

    commitments: tuple[int, ...]
    challenges: tuple[int, ...]
    responses: tuple[int, ...]


@dataclass(frozen=True)
class ContestBallot:
    """An encrypted contest ballot (protocol.md §9.3): c_0 … c_{N−1}, N 0/1 proofs, one sum proof."""

    ciphertexts: tuple[int, ...]
    proofs: tuple[DisjunctiveProof, ...]
    sum_proof: DisjunctiveProof


def _parse_proof(obj: Any, branches: int, what: str, where: str | int) -> DisjunctiveProof:
    try:
        expect_object(obj, ("challenges", "commitments", "responses"), what)
        fields = []
        for key in ("commitments", "challenges", "responses"):
            items = expect_list(obj[key], f"{what}.{key}", branches)
            fields.append(tuple(arith.mpz(parse_hex_int(x, f"{what}.{key}[{j}]"))
                                for j, x in enumerate(items)))
    except InvalidInput as exc:
        raise InvalidInput(str(exc), where=str(where)) from None
    return DisjunctiveProof(*fields)


_PROOF_KEYS = frozenset(("commitments", "challenges", "responses"))
_BALLOT_KEYS = frozenset(("ciphertexts", "proofs", "sum_proof"))


def _parse_fast(obj: Any, num_candidates: int, max_selections: int) -> ContestBallot | None:
    """The ballot if ``obj`` has the right shape and only canonical hex values — all checked
    in bulk; None otherwise (:func:`parse_ballot` then names the first problem)."""
    if type(obj) is not dict or obj.keys() != _BALLOT_KEYS:
        return None
    cts, proofs, sum_proof = obj["ciphertexts"], obj["proofs"], obj["sum_proof"]
    if (type(cts) is not list or len(cts) != num_candidates or type(proofs) is not list
            or len(proofs) != num_candidates):
        return None
    texts = list(cts)
    for p, branches in zip((*proofs, sum_proof), (*[2] * num_candidates, max_selections + 1)):
        if type(p) is not dict or p.keys() != _PROOF_KEYS:
            return None
        for key in ("commitments", "challenges", "responses"):
            items = p[key]
            if type(items) is not list or len(items) != branches:
                return None
            texts.extend(items)
    values = canonical_hex_ints(texts, arith.from_bytes)
    if values is None:
        return None
    ciphertexts = tuple(values[:num_candidates])
    at = num_candidates
    out = []
    for _ in range(num_candidates):
        out.append(DisjunctiveProof(tuple(values[at:at + 2]), tuple(values[at + 2:at + 4]),
                                    tuple(values[at + 4:at + 6])))
        at += 6
    b = max_selections + 1
    return ContestBallot(ciphertexts, tuple(out),
                         DisjunctiveProof(tuple(values[at:at + b]), tuple(values[at + b:at + 2 * b]),
                                          tuple(values[at + 2 * b:at + 3 * b])))


def parse_ballot(obj: Any, num_candidates: int, max_selections: int) -> ContestBallot:
    """Shape per protocol.md §5.2/protocol.md §9.3 with N and k from the manifest; canonical hex everywhere."""
    return parse_ballot_hex(obj, num_candidates, max_selections)[0]


def parse_ballot_hex(obj: Any, num_candidates: int,
                     max_selections: int) -> tuple[ContestBallot, Any]:
    """:func:`parse_ballot`, and ``obj`` itself if its hex strings are canonical as they stand
    (then they are the LP items of the challenges, :func:`static_holds`), else None."""
    if not 1 <= num_candidates <= MAX_CANDIDATES or not 0 <= max_selections <= min(
            num_candidates, MAX_SELECTIONS):
        raise InvalidInput(f"contest bounds N={num_candidates}, k={max_selections} not allowed")
    fast = _parse_fast(obj, num_candidates, max_selections)
    if fast is not None:
        return fast, obj
    return _parse_strict(obj, num_candidates, max_selections), None


def _parse_strict(obj: Any, num_candidates: int, max_selections: int) -> ContestBallot:
    """:func:`parse_ballot` field by field, raising InvalidInput at the first problem."""
    expect_object(obj, ("ciphertexts", "proofs", "sum_proof"), "ballot")
    cts = expect_list(obj["ciphertexts"], "ballot.ciphertexts", num_candidates)
    ciphertexts = []
    for i, x in enumerate(cts):
        try:
            ciphertexts.append(arith.mpz(parse_hex_int(x, f"ballot.ciphertexts[{i}]")))
        except InvalidInput as exc:
            raise InvalidInput(str(exc), where=str(i)) from None
    proofs_raw = expect_list(obj["proofs"], "ballot.proofs", num_candidates)
    proofs = tuple(_parse_proof(p, 2, f"ballot.proofs[{i}]", i) for i, p in enumerate(proofs_raw))
    sum_proof = _parse_proof(obj["sum_proof"], max_selections + 1, "ballot.sum_proof", SUM)
    return ContestBallot(tuple(ciphertexts), proofs, sum_proof)


def _check_ranges(proof: DisjunctiveProof, n2: int, limit: int, where: str | int) -> None:
    for j, (a, e, z) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
        if not 0 < a < n2:
            raise InvalidInput(f"commitment of branch {j} outside (0, n²)", where=str(where))
        if not 0 <= e < CHALLENGE_MOD:
            raise InvalidInput(f"challenge of branch {j} not below 2^128", where=str(where))
        if not 0 <= z < limit:
            raise InvalidInput(f"response of branch {j} outside [0, 2^{limit.bit_length() - 1})",
                               where=str(where))


def _units(values: list[int], n: int) -> bool:
    """gcd(∏ values mod n, n) = 1 ⇔ every value is a unit mod n (protocol.md §5.4 step 3)."""
    nn = arith.mpz(n)
    return bool(arith.gcd(arith.product_mod((arith.mpz(v) % nn for v in values), nn), nn) == 1)


def check_static(ballot: ContestBallot, n: int, election_id: str, contest_id: str,
                 party: str, max_selections: int) -> None:
    """protocol.md §5.4 steps 2–4: ranges, units, and (V1) for every proof.  Raises InvalidInput/
    InvalidProof with ``where`` = candidate index (as a string) or ``"sum"``."""
    n2 = n * n
    for i, c in enumerate(ballot.ciphertexts):
        if not 0 < c < n2:
            raise InvalidInput("ciphertext outside (0, n²)", where=str(i))
    zero_one_limit = response_limit(zero_one_witness_bits(n))
    for i, p in enumerate(ballot.proofs):
        _check_ranges(p, n2, zero_one_limit, i)
    _check_ranges(ballot.sum_proof, n2, response_limit(sum_witness_bits(n, len(ballot.ciphertexts))), SUM)
    everything: list[int] = list(ballot.ciphertexts)
    for p in (*ballot.proofs, ballot.sum_proof):
        everything.extend(p.commitments)  # the responses are integers, not units (§5.4 step 3)
    if not _units(everything, n):
        for i, c in enumerate(ballot.ciphertexts):
            if not _units([c], n):
                raise InvalidInput("ciphertext is not a unit mod n", where=str(i))
        for where, p in [*enumerate(ballot.proofs), (SUM, ballot.sum_proof)]:
            if not _units([*p.commitments], n):
                raise InvalidInput("commitment is not a unit mod n", where=str(where))
    for i, (c, p) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        h = challenge(DOMAIN_ZERO_ONE, election_id, n, contest_id, party, [i, c],
                      list(p.commitments))
        if sum(p.challenges) % CHALLENGE_MOD != h:
            raise InvalidProof("challenges do not sum to the Fiat–Shamir challenge (V1)",
                               where=str(i))
    sp = ballot.sum_proof
    h = challenge(DOMAIN_SUM, election_id, n, contest_id, party,
                  [max_selections, list(ballot.ciphertexts)], list(sp.commitments))
    if sum(sp.challenges) % CHALLENGE_MOD != h:
        raise InvalidProof("challenges do not sum to the Fiat–Shamir challenge (V1)", where=SUM)


_PAIR = b"l" + (2).to_bytes(4, "big")  # LP header of a two-element list (§2.2)


def _lp_hex(text: str) -> bytes:
    """LP item of an integer from its canonical hex (§2.2: ``i`` ‖ u32 length ‖ hex)."""
    raw = text.encode("ascii")
    return b"i" + len(raw).to_bytes(4, "big") + raw


def _lp_hex_list(texts: Sequence[str]) -> bytes:
    return b"l" + len(texts).to_bytes(4, "big") + b"".join(map(_lp_hex, texts))


def static_holds(ballot: ContestBallot, n: int, election_id: str, contest_id: str,
                 party: str, max_selections: int, hex_obj: Any = None) -> bool:
    """True iff every check of :func:`check_static` except the units passes: the ranges by
    min/max, (V1) hashed from the canonical hex.  ``hex_obj``: the JSON object ``ballot`` was
    parsed from, if its hex strings are canonical (:func:`parse_ballot_hex`), so that they are
    the LP items as they stand; without it the hex is re-encoded.  On False,
    :func:`check_static` names the first failure; the units are the batch's to check (protocol.md §5.4
    step 3, protocol.md §7.1)."""
    n2 = n * n
    proofs = (*ballot.proofs, ballot.sum_proof)
    cts = ballot.ciphertexts
    commitments = [a for p in proofs for a in p.commitments]
    challenges = [e for p in proofs for e in p.challenges]
    responses = [z for p in ballot.proofs for z in p.responses]
    sum_responses = ballot.sum_proof.responses
    if not (0 < min(cts) and max(cts) < n2 and 0 < min(commitments) and max(commitments) < n2
            and 0 <= min(challenges) and max(challenges) < CHALLENGE_MOD
            and 0 <= min(responses) and max(responses) < response_limit(zero_one_witness_bits(n))
            and 0 <= min(sum_responses)
            and max(sum_responses) < response_limit(sum_witness_bits(n, len(cts)))):
        return False
    if hex_obj is not None:
        ct_hex: Sequence[str] = hex_obj["ciphertexts"]
        a_hex: list[Sequence[str]] = [p["commitments"] for p in hex_obj["proofs"]]
        a_hex.append(hex_obj["sum_proof"]["commitments"])
    else:
        ct_hex = [format(c, "x") for c in cts]
        a_hex = [[format(a, "x") for a in p.commitments] for p in proofs]
    prefix = hashlib.sha256(lp(DOMAIN_ZERO_ONE, election_id, n, contest_id, party))
    for i, p in enumerate(ballot.proofs):
        h = prefix.copy()  # LP(…, [i, c_i], [a_0, a_1])
        h.update(_PAIR + _lp_hex(format(i, "x")) + _lp_hex(ct_hex[i]) + _lp_hex_list(a_hex[i]))
        if sum(p.challenges) % CHALLENGE_MOD != int.from_bytes(h.digest()[:16], "big"):
            return False
    h = hashlib.sha256(lp(DOMAIN_SUM, election_id, n, contest_id, party))
    h.update(_PAIR + _lp_hex(format(max_selections, "x")) + _lp_hex_list(ct_hex)
             + _lp_hex_list(a_hex[-1]))  # LP(…, [k, [c_0 … c_{N−1}]], [a_0 … a_k])
    return bool(sum(ballot.sum_proof.challenges) % CHALLENGE_MOD
                == int.from_bytes(h.digest()[:16], "big"))


def failing_branches(base: int, proof: DisjunctiveProof, n: int) -> list[int]:
    """Branches j violating (V2): (h_s^(z_j))² ≢ (a_j · u_j^{e_j})² mod n², u_j = B·g^(−j)
    (protocol.md §5.3; h_s of §5.0, z_j an integer)."""
    n2 = arith.mpz(n) * n
    bad = []
    for j, (a, e, z) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
        left = short_power(n, int(z))
        # u_j^e = B^e · g^(−j·e)
        right = arith.mpz(a) * arith.powmod(arith.mpz(base), e, n2) % n2
        right = right * arith.g_pow(-j * e, n, n2) % n2
        if left * left % n2 != right * right % n2:
            bad.append(j)
    return bad


def check_v2_per_proof(ballot: ContestBallot, n: int) -> None:
    """(V2) one proof at a time; raises InvalidProof naming the first failing proof."""
    n2 = arith.mpz(n) * n
    for i, (c, p) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        bad = failing_branches(c, p, n)
        if bad:
            raise InvalidProof(f"proof equation (V2) fails for branch {bad[0]}", where=str(i))
    total = arith.product_mod((arith.mpz(c) for c in ballot.ciphertexts), n2)
    bad = failing_branches(int(total), ballot.sum_proof, n)
    if bad:
        raise InvalidProof(f"proof equation (V2) fails for branch {bad[0]}", where=SUM)


def verify_ballot(obj: Any, n: int, election_id: str, contest_id: str, party: str,
                  num_candidates: int, max_selections: int) -> ContestBallot:
    """Full protocol.md §5.4 verification of one ballot, per proof (no batching)."""
    ballot = parse_ballot(obj, num_candidates, max_selections)
    check_static(ballot, n, election_id, contest_id, party, max_selections)
    check_v2_per_proof(ballot, n)
    return ballot
