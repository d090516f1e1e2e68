"""The statement a contest ballot is made for and proves (docs/protocol.md §3, §4.1, §5).

A ballot is bound to one public key, election, contest and voter (the Fiat–Shamir *party* of
§3: the voter's pseudonym) and has the shape of its contest: N candidates, at most k of them
selected.  :class:`ContestStatement` holds these six values, checked once on construction, and
is what encryption, verification, the KDF and cast-as-intended take.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from .encoding import LpItem
from .errors import InvalidInput
from .hashing import challenge, challenge_prefix
from .paillier import PublicKey

#: Size bounds (protocol.md §5.2) so a hostile ballot cannot make us do unbounded work.
MAX_CANDIDATES = 1000
MAX_SELECTIONS = 64


def check_contest_shape(num_candidates: int, max_selections: int) -> None:
    """Bounds of protocol.md §5.2."""
    if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or not 1 <= num_candidates <= MAX_CANDIDATES:
        raise InvalidInput(f"contest: number of candidates must be in 1..{MAX_CANDIDATES}")
    if isinstance(max_selections, bool) or not isinstance(max_selections, int) or not 0 <= max_selections <= min(num_candidates, MAX_SELECTIONS):
        raise InvalidInput("contest: max_selections must be in 0..min(candidates, 64)")


@dataclass(frozen=True)
class ContestStatement:
    """Key, election, contest, party and shape (N, k) of one contest ballot (§3, §5).

    Construction checks the bounds of protocol.md §5.2 and that the three identifiers are non-empty strings,
    raising InvalidInput with the messages ballot verification has always given (protocol.md §5.4 step 1).
    """

    public_key: PublicKey
    election_id: str
    contest_id: str
    #: The Fiat–Shamir party (§3): the voter's pseudonym.
    party: str
    num_candidates: int
    max_selections: int

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, PublicKey):
            raise InvalidInput("public key: expected a PublicKey")
        check_contest_shape(self.num_candidates, self.max_selections)
        for name, value in (("election id", self.election_id), ("contest id", self.contest_id),
                            ("pseudonym", self.party)):
            if not isinstance(value, str) or not value:
                raise InvalidInput(f"{name}: expected a non-empty string")

    def challenge(self, domain: str, statement: Sequence[LpItem], commitments: Sequence[LpItem]) -> int:
        """The Fiat–Shamir challenge (§3) of a proof of this ballot."""
        return challenge(domain, self.election_id, self.public_key.n, self.contest_id, self.party,
                         statement, commitments)

    def challenge_prefix(self, domain: str) -> "hashlib._Hash":
        """SHA-256 state after the fixed prefix of :meth:`challenge` (crypto.hashing.challenge_prefix)."""
        return challenge_prefix(domain, self.election_id, self.public_key.n, self.contest_id, self.party)


__all__ = ["MAX_CANDIDATES", "MAX_SELECTIONS", "ContestStatement", "check_contest_shape"]
