"""Disjunctive proofs with integer responses over the short base h_s (docs/protocol.md §5.3, §5.4).

Statement: for a base ciphertext B and branches j ∈ J, one of u_j = B · g^(−j) mod n² is an
n-th residue, shown by u_j ∈ ⟨h_s⟩ up to sign (h_s: protocol.md §5.0).  The 0/1 proof uses
B = c_i, J = {0, 1}, witness bound W = A; the sum proof uses B = ∏ c_i, J = {0, …, k},
W = A + bits(N).  A proof lists, per branch, the commitment a_j ∈ Z*_{n²}, the challenge
e_j ∈ [0, 2^128) and the integer response 0 ≤ z_j < 2^(W+128+λ+1); it is valid iff

    Σ_j e_j ≡ H(...) (mod 2^128)   and   (h_s^(z_j))² ≡ (a_j · u_j^(e_j))²  (mod n²)  for all j.

Nonces and simulated responses are uniform in [0, 2^(W+128+λ)) with λ = 80, so a real branch's
z = ρ + e·α is within 2^(−80) of a simulated one (protocol.md §5.3).  Commitments are sent
explicitly so that many equations can be batch-verified (§7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .encoding import hex_to_int, int_to_hex, require_list, require_object
from .errors import InvalidInput, InvalidProof
from .hashing import CHALLENGE_BITS, CHALLENGE_MODULUS
from .hazmat.gmp import GroupElement, powmod
from .hazmat.paillier import g_power
from .paillier import PublicKey

#: Statistical hiding margin λ of the integer responses (protocol.md §5.3): distance ≤ 2^-80 per branch.
HIDING_BITS = 80


def zero_one_witness_bits(pk: PublicKey) -> int:
    """W_0 = A: the 0/1 proof's witness α_i < 2^A (protocol.md §4.3, §5.3)."""
    return pk.short_bits


def sum_witness_bits(pk: PublicKey, num_candidates: int) -> int:
    """W_Σ = A + bits(N): the sum proof's witness Σ α_i < N·2^A (protocol.md §4.3, §5.3)."""
    return pk.short_bits + int(num_candidates).bit_length()


def nonce_bits(witness_bits: int) -> int:
    """S = W + 128 + λ: nonces and simulated responses are uniform in [0, 2^S) (protocol.md §5.3)."""
    return witness_bits + CHALLENGE_BITS + HIDING_BITS


def response_limit(witness_bits: int) -> int:
    """Responses are accepted iff 0 ≤ z < 2^(S+1) (protocol.md §5.3, §5.4 step 2)."""
    return 1 << (nonce_bits(witness_bits) + 1)


@dataclass(frozen=True)
class DisjunctiveProof:
    """Commitments a_j, challenges e_j, responses z_j for branches j = 0..len−1 (protocol.md §5.3)."""

    commitments: tuple[GroupElement, ...]
    challenges: tuple[int, ...]
    responses: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of protocol.md §9.3: three arrays of hex strings, index = branch j."""
        return {
            "commitments": [int_to_hex(int(a)) for a in self.commitments],
            "challenges": [int_to_hex(int(e)) for e in self.challenges],
            "responses": [int_to_hex(int(z)) for z in self.responses],
        }

    @classmethod
    def from_dict(cls, pk: PublicKey, obj: Any, branches: int, what: str, witness_bits: int) -> "DisjunctiveProof":
        """Strict parse: exact keys, ``branches`` elements each, ranges of protocol.md §5.3 for a proof
        whose witness bound is ``witness_bits``.

        Coprimality of commitments is checked by the verifier (protocol.md §5.4).
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
        limit = response_limit(witness_bits)
        responses = tuple(
            hex_to_int(x, f"{what} response {j}", upper=limit)
            for j, x in enumerate(require_list(data["responses"], f"{what} responses", length=branches))
        )
        return cls(commitments, challenges, responses)

    def check_ranges(self, pk: PublicKey, branches: int, what: str, witness_bits: int) -> None:
        """Range checks of protocol.md §5.3/§5.4 for proofs built in memory rather than parsed."""
        if not (len(self.commitments) == len(self.challenges) == len(self.responses) == branches):
            raise InvalidInput(f"{what}: expected {branches} branches")
        limit = response_limit(witness_bits)
        for j in range(branches):
            if not 0 < self.commitments[j] < pk.n_square:
                raise InvalidInput(f"{what} commitment {j}: not in the range 0 < a < n²")
            if not 0 <= self.challenges[j] < CHALLENGE_MODULUS:
                raise InvalidInput(f"{what} challenge {j}: not in [0, 2^128)")
            if not 0 <= self.responses[j] < limit:
                raise InvalidInput(f"{what} response {j}: not in [0, 2^{limit.bit_length() - 1})")


def check_challenge_sum(proof: DisjunctiveProof, expected: int, what: str) -> None:
    if sum(proof.challenges) % CHALLENGE_MODULUS != expected:
        raise InvalidProof(f"{what}: challenges do not sum to the Fiat–Shamir challenge")


def verify_branches(pk: PublicKey, base: GroupElement, proof: DisjunctiveProof, what: str) -> None:
    """Check (h_s^(z_j))² ≡ (a_j · (base · g^(−j))^(e_j))² mod n² for every branch (protocol.md §5.3).

    Squaring both sides makes this check exactly the one batch verification performs (protocol.md §7.1).
    """
    n2 = pk.n_square
    for j, (a, e, z) in enumerate(zip(proof.commitments, proof.challenges, proof.responses)):
        u = base * g_power(pk, -j) % n2
        left = pk.short_power_verify(int(z))
        right = a * powmod(u, e, n2) % n2
        if left * left % n2 != right * right % n2:
            raise InvalidProof(f"{what}: verification equation of branch {j} fails")


def make_proof(
    commitments: Sequence[GroupElement],
    sim_challenges: Sequence[int],
    sim_responses: Sequence[int],
    real_branch: int,
    fs_challenge: int,
    nonce: int,
    witness: int,
) -> DisjunctiveProof:
    """Complete a disjunctive proof once the Fiat–Shamir challenge is known (protocol.md §5.3).

    e_real = H − Σ_{j≠real} e_j mod 2^128 and z_real = ρ + e_real·α over the integers.
    """
    others = sum(e for j, e in enumerate(sim_challenges) if j != real_branch)
    e_real = (fs_challenge - others) % CHALLENGE_MODULUS
    z_real = int(nonce) + e_real * int(witness)
    challenges = tuple(e_real if j == real_branch else int(e) for j, e in enumerate(sim_challenges))
    responses = tuple(z_real if j == real_branch else int(z) for j, z in enumerate(sim_responses))
    return DisjunctiveProof(tuple(int(a) for a in commitments), challenges, responses)
