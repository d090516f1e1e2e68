"""Disjunctive proofs of n-th residuosity (docs/protocol.md §5.3, §5.4).

Statement: for a base ciphertext B and branches j ∈ J, one of u_j = B · g^(−j) mod n² is an
n-th residue.  The 0/1 proof uses B = c_i, J = {0, 1}; the sum proof uses B = ∏ c_i,
J = {0, …, k}.  A proof lists, per branch, the commitment a_j ∈ Z*_{n²}, the challenge
e_j ∈ [0, 2^128) and the response z_j ∈ [1, (n−1)/2] ∩ Z*_n; it is valid iff

    Σ_j e_j ≡ H(...) (mod 2^128)   and   (z_j^n)² ≡ (a_j · u_j^(e_j))²  (mod n²)  for all j.

Commitments are sent explicitly so that many equations can be batch-verified (§7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .encoding import hex_to_int, int_to_hex, require_list, require_object
from .errors import InvalidInput, InvalidProof
from .hashing import CHALLENGE_MODULUS
from .hazmat.gmp import GroupElement, powmod
from .hazmat.paillier import g_power
from .paillier import PublicKey


@dataclass(frozen=True)
class DisjunctiveProof:
    """Commitments a_j, challenges e_j, responses z_j for branches j = 0..len−1 (protocol.md §5.3)."""

    commitments: tuple[GroupElement, ...]
    challenges: tuple[int, ...]
    responses: tuple[GroupElement, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of protocol.md §9.3: three arrays of hex strings, index = branch j."""
        return {
            "commitments": [int_to_hex(int(a)) for a in self.commitments],
            "challenges": [int_to_hex(int(e)) for e in self.challenges],
            "responses": [int_to_hex(int(z)) for z in self.responses],
        }

    @classmethod
    def from_dict(cls, pk: PublicKey, obj: Any, branches: int, what: str) -> "DisjunctiveProof":
        """Strict parse: exact keys, ``branches`` elements each, ranges of protocol.md §5.3.

        Coprimality of commitments and responses is checked by the verifier (protocol.md §5.4).
        """
        data = require_object(obj, {"commitments", "challenges", "responses"}, what)
        n2 = int(pk.n_square)
        commitments = tuple(
            hex_to_int(x, f"{what} commitment {j}", lower=1, upper=n2)
            for j, x in enumerate(require_list(data["commitments"], f"{what} commitments", length=branches))
        )
        challenges = tuple(
            hex_to_int(x, f"{what} challenge {j}", upper=CHALLENGE_MODULUS)
            for j, x in enumerate(require_list(data["challenges"], f"{what} challenges", length=branches))
        )
        responses = tuple(
            hex_to_int(x, f"{what} response {j}", lower=1, upper=pk.half_n + 1)
            for j, x in enumerate(require_list(data["responses"], f"{what} responses", length=branches))
        )
        return cls(commitments, challenges, responses)

    def check_ranges(self, pk: PublicKey, branches: int, what: str) -> None:
        """Range checks of protocol.md §5.3 for proofs built in memory rather than parsed."""
        if not (len(self.commitments) == len(self.challenges) == len(self.responses) == branches):
            raise InvalidInput(f"{what}: expected {branches} branches")
        for j in range(branches):
            if not 0 < self.commitments[j] < pk.n_square:
                raise InvalidInput(f"{what} commitment {j}: not in the range 0 < a < n²")
            if not 0 <= self.challenges[j] < CHALLENGE_MODULUS:
                raise InvalidInput(f"{what} challenge {j}: not in [0, 2^128)")
            if not 0 < self.responses[j] <= pk.half_n:
                raise InvalidInput(f"{what} response {j}: not in [1, (n−1)/2]")


def normalise_response(pk: PublicKey, z: GroupElement) -> int:
    """min(z, n − z): removes the public sign malleability z ↦ n − z (protocol.md §5.3)."""
    z = int(z)
    return min(z, pk.n - z)


def check_challenge_sum(proof: DisjunctiveProof, expected: int, what: str) -> None:
    if sum(proof.challenges) % CHALLENGE_MODULUS != expected:
        raise InvalidProof(f"{what}: challenges do not sum to the Fiat–Shamir challenge")


def verify_branches(pk: PublicKey, base: GroupElement, proof: DisjunctiveProof, what: str) -> None:
    """Check (z_j^n)² ≡ (a_j · (base · g^(−j))^(e_j))² mod n² for every branch (protocol.md §5.3).

    Squaring both sides makes this check exactly the one batch verification performs (protocol.md §7.1).
    """
    n, n2 = pk.n_mpz, pk.n_square
    for j, (a, e, z) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
        u = base * g_power(pk, -j) % n2
        left = powmod(z, n, n2)
        right = a * powmod(u, e, n2) % n2
        if left * left % n2 != right * right % n2:
            raise InvalidProof(f"{what}: verification equation of branch {j} fails")


def simulated_commitment(pk: PublicKey, z_to_n: GroupElement, u_pow_minus_e: GroupElement) -> GroupElement:
    """a = z^n · u^(−e) mod n² for a simulated branch (protocol.md §5.3)."""
    return z_to_n * u_pow_minus_e % pk.n_square


def make_proof(
    pk: PublicKey,
    commitments: Sequence[GroupElement],
    sim_challenges: Sequence[int],
    sim_responses: Sequence[GroupElement],
    real_branch: int,
    fs_challenge: int,
    nonce: GroupElement,
    witness: GroupElement,
) -> DisjunctiveProof:
    """Complete a disjunctive proof once the Fiat–Shamir challenge is known (protocol.md §5.3).

    e_real = H − Σ_{j≠real} e_j mod 2^128 and z_real = normalise(ρ · w^(e_real) mod n).
    """
    others = sum(e for j, e in enumerate(sim_challenges) if j != real_branch)
    e_real = (fs_challenge - others) % CHALLENGE_MODULUS
    z_real = normalise_response(pk, nonce * powmod(witness, e_real, pk.n_mpz) % pk.n_mpz)
    challenges = tuple(e_real if j == real_branch else int(e) for j, e in enumerate(sim_challenges))
    responses = tuple(z_real if j == real_branch else int(z) for j, z in enumerate(sim_responses))
    return DisjunctiveProof(tuple(int(a) for a in commitments), challenges, responses)
