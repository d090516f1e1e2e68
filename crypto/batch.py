"""Ballot verification: per-proof and batched (docs/protocol.md §5.4, §7).

Batch verification replaces the 2N + k + 1 equations (z_j^n)² = (a_j u_j^(e_j))² of a ballot —
or of many ballots — by one random linear combination in the exponent with 64-bit weights δ_j
drawn from ``secrets`` after the ballots are fixed:

    L = (∏ z_j^(δ_j) mod n)^n,   R = ∏ a_j^(δ_j) · ∏ c_i^(E_i) · g^(−Σ j·δ_j·e_j)   (mod n²)

with E_i the sum of δ_j·e_j over the branches whose base involves c_i, accepted iff L² = R².
One n-th power, two multi-exponentiations.  Soundness and the role of squaring: §7.1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Optional

import gmpy2

from .errors import InvalidInput
from .hashing import DOMAIN_SUM, DOMAIN_ZERO_ONE, challenge
from .multiexp import multi_exp
from .paillier import PublicKey, check_units, g_power
from .proofs import DisjunctiveProof, check_challenge_sum, verify_branches
from .randomness import random_bits

#: Bit length of the batch weights δ (§7.1): a false equation survives with probability ≤ 2^-64.
BATCH_WEIGHT_BITS = 64


def _structural_checks(
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> None:
    """Everything except the verification equations (§5.4 steps 1–4)."""
    from .ballot import EncryptedContest, check_contest_shape

    check_contest_shape(num_candidates, max_selections)
    for name, value in (("election id", election_id), ("contest id", contest_id), ("pseudonym", pseudonym)):
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{name}: expected a non-empty string")
    if not isinstance(ballot, EncryptedContest):
        raise InvalidInput("ballot: expected an EncryptedContest")
    if len(ballot.ciphertexts) != num_candidates:
        raise InvalidInput(f"ballot: expected {num_candidates} ciphertexts, got {len(ballot.ciphertexts)}")
    if len(ballot.proofs) != num_candidates:
        raise InvalidInput(f"ballot: expected {num_candidates} 0/1 proofs, got {len(ballot.proofs)}")
    for i, c in enumerate(ballot.ciphertexts):
        if not 0 < c < pk.n_square:
            raise InvalidInput(f"ciphertext {i}: not in the range 0 < c < n²")
    check_units(pk, ballot.ciphertexts, "ciphertext")
    for i, proof in enumerate(ballot.proofs):
        proof.check_ranges(pk, 2, f"0/1 proof of candidate {i}")
    ballot.sum_proof.check_ranges(pk, max_selections + 1, "sum proof")
    all_proofs = list(ballot.proofs) + [ballot.sum_proof]
    check_units(pk, [a for p in all_proofs for a in p.commitments], "proof commitment")
    check_units(pk, [z for p in all_proofs for z in p.responses], "proof response")
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        h = challenge(DOMAIN_ZERO_ONE, election_id, pk.n, contest_id, pseudonym, [i, c], proof.commitments)
        check_challenge_sum(proof, h, f"0/1 proof of candidate {i}")
    h = challenge(
        DOMAIN_SUM, election_id, pk.n, contest_id, pseudonym,
        [max_selections, list(ballot.ciphertexts)], ballot.sum_proof.commitments,
    )
    check_challenge_sum(ballot.sum_proof, h, "sum proof")


def verify_contest_unbatched(
    pk: PublicKey,
    election_id: str,
    contest_id: str,
    pseudonym: str,
    num_candidates: int,
    max_selections: int,
    ballot: Any,
) -> None:
    """Per-proof verification (§5.4); raises InvalidInput/InvalidProof naming the failing proof."""
    _structural_checks(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)
    for i, (c, proof) in enumerate(zip(ballot.ciphertexts, ballot.proofs)):
        verify_branches(pk, gmpy2.mpz(c), proof, f"0/1 proof of candidate {i}")
    big_c = gmpy2.mpz(1)
    for c in ballot.ciphertexts:
        big_c = big_c * c % pk.n_square
    verify_branches(pk, big_c, ballot.sum_proof, "sum proof")


@dataclass
class _Entry:
    tag: Hashable
    args: tuple[Any, ...]


@dataclass
class BatchVerifier:
    """Accumulate the proof equations of many ballots and check them at once (§7.1, §7.3).

    ``add_contest`` runs the cheap checks immediately (raising InvalidInput) and queues the
    equations; ``verify`` returns the tags of failing ballots (found by per-ballot fallback),
    an empty list when all pass.  One instance per public key; not thread-safe.
    """

    public_key: PublicKey
    _z_bases: list[Any] = field(default_factory=list)
    _z_exps: list[int] = field(default_factory=list)
    _bases: list[Any] = field(default_factory=list)
    _exps: list[int] = field(default_factory=list)
    _g_exp: int = 0
    _entries: list[_Entry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._entries)

    def add_contest(
        self,
        election_id: str,
        contest_id: str,
        pseudonym: str,
        num_candidates: int,
        max_selections: int,
        ballot: Any,
        tag: Optional[Hashable] = None,
    ) -> None:
        pk = self.public_key
        _structural_checks(pk, election_id, contest_id, pseudonym, num_candidates, max_selections, ballot)
        self._entries.append(
            _Entry(tag if tag is not None else len(self._entries),
                   (election_id, contest_id, pseudonym, num_candidates, max_selections, ballot))
        )
        c_exps = [0] * num_candidates
        g_exp = 0
        sum_exp = 0

        def add_proof(proof: DisjunctiveProof) -> int:
            nonlocal g_exp
            base_exp = 0
            for j, (a, e, z) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
                delta = random_bits(BATCH_WEIGHT_BITS)
                self._z_bases.append(z)
                self._z_exps.append(delta)
                self._bases.append(a)
                self._exps.append(delta)
                de = delta * e
                base_exp += de
                g_exp -= j * de  # u_j = base · g^(−j)
            return base_exp

        for i, proof in enumerate(ballot.proofs):
            c_exps[i] += add_proof(proof)
        sum_exp = add_proof(ballot.sum_proof)  # base ∏ c_i: its exponent goes to every c_i
        for i, c in enumerate(ballot.ciphertexts):
            self._bases.append(c)
            self._exps.append(c_exps[i] + sum_exp)
        self._g_exp += g_exp

    def check(self) -> bool:
        """True iff the combined equation L² = R² holds (§7.1)."""
        pk = self.public_key
        n, n2 = pk.n_mpz, pk.n_square
        if not self._entries:
            return True
        # z^n mod n² depends only on z mod n, so the z-part is combined mod n (cheaper).
        left = gmpy2.powmod(multi_exp(self._z_bases, self._z_exps, n), n, n2)
        right = multi_exp(self._bases, self._exps, n2) * g_power(pk, self._g_exp) % n2
        return bool(left * left % n2 == right * right % n2)

    def verify(self) -> list[Hashable]:
        """Tags of ballots whose proofs fail (empty list: all valid)."""
        if self.check():
            return []
        failing: list[Hashable] = []
        for entry in self._entries:
            try:
                verify_contest_unbatched(self.public_key, *entry.args)
            except InvalidInput:
                failing.append(entry.tag)
        return failing
