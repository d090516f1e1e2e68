"""Opening a ballot with its seed — docs/protocol.md §5.6 (the audit of §14), and the cheap
test of docs/record.md §5 check 31 (does a seed open a given ballot?).

With the seed, α_i is recomputed (§4.3, :mod:`verifier.kdf`) and x_i = c_i · h_s^(−α_i) mod n²
(:func:`verifier.shortbase.open_ciphertext`);
the ballot was made with this seed iff x_i ≡ 1 (mod n) for every candidate, and then
m_i = (x_i − 1)/n must be 0 or 1, with Σ m_i ≤ k.  Anything else fails, naming the first
candidate that does not open, and no choice is returned.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from verifier import arith, kdf, shortbase
from verifier.encoding import expect_list, parse_hex_bytes, parse_hex_int
from verifier.errors import InvalidInput


def parse_seed(value: Any, what: str = "seed") -> bytes:
    """A seed as published: 64 lowercase hex digits (32 bytes, docs/record.md §2.1)."""
    if not isinstance(value, str) or len(value) != 2 * kdf.SEED_BYTES:
        raise InvalidInput(f"{what}: not 64 lowercase hex digits")
    return parse_hex_bytes(value, what, kdf.SEED_BYTES)


def ballot_ciphertexts(ballot: Any, n: int, num_candidates: int) -> list[int]:
    """c_0 … c_{N−1} of a contest ballot (protocol.md §9.3) with N from the manifest: canonical
    hex, 0 < c_i < n² (§5.1).  The proofs are check 9's business."""
    if not isinstance(ballot, dict) or "ciphertexts" not in ballot:
        raise InvalidInput("ballot: not an object with ciphertexts")
    texts = expect_list(ballot["ciphertexts"], "ballot.ciphertexts", num_candidates)
    n2 = n * n
    out = []
    for i, text in enumerate(texts):
        c = parse_hex_int(text, f"ballot.ciphertexts[{i}]")
        if not 0 < c < n2:
            raise InvalidInput("ciphertext outside (0, n²)", where=str(i))
        out.append(c)
    return out


def open_ciphertexts(ciphertexts: Sequence[int], n: int, seed: bytes, context: bytes,
                     max_selections: int) -> list[int]:
    """The choices m_0 … m_{N−1} that ``seed`` opens ``ciphertexts`` to (§5.6), under the
    ballot context ``context`` (§4.1).  Raises InvalidInput (``where`` = the candidate index)
    if the seed does not open them, a choice is not 0 or 1, or more than k are 1."""
    choices = []
    for i, c in enumerate(ciphertexts):
        try:
            m = shortbase.open_ciphertext(n, c, kdf.alpha(seed, context, n, i))
        except InvalidInput as exc:
            raise InvalidInput(str(exc), where=str(i)) from None
        if m not in (0, 1):
            raise InvalidInput("the ciphertext opens to a value that is neither 0 nor 1",
                               where=str(i))
        choices.append(int(m))
    if sum(choices) > max_selections:
        raise InvalidInput(f"{sum(choices)} choices, more than k = {max_selections}")
    return choices


def open_ballot(ballot: Any, n: int, election_id: str, contest_id: str, party: str,
                num_candidates: int, max_selections: int, seed: bytes) -> list[int]:
    """Open a contest ballot (its JSON object) with ``seed`` (§5.6): the choices, or
    InvalidInput naming why not."""
    cts = ballot_ciphertexts(ballot, n, num_candidates)
    context = kdf.ballot_context(election_id, n, contest_id, party)
    return open_ciphertexts(cts, n, seed, context, max_selections)


def seed_opens_first(c0: int, n: int, seed: bytes, context: bytes) -> bool:
    """Whether ``seed`` made the first ciphertext c_0 of a ballot of context ``context``:
    c_0 · h_s^(−α_0) ≡ 1 (mod n), i.e. c_0 ≡ h_s^α_0 (mod n) — one short power mod n
    (docs/record.md §5, check 31).  A seed that opens a ballot passes it; any other seed
    passes it with negligible probability."""
    return shortbase.opens_mod_n(n, c0, kdf.alpha(seed, context, n, 0))


# --- pool workers (checks 29 and 31 read the ballots themselves, by offset) ------------------

@dataclass(frozen=True)
class OpenJob:
    """Open the ballot at ``offset``/``length`` of board/ballots.jsonl with ``seed`` (check 29),
    or, when ``first_only``, test only whether ``seed`` made its c_0 (check 31)."""

    key: tuple[int, ...]  # what the caller names the job by (seqs)
    seed: bytes
    contest_id: str
    party: str
    num_candidates: int
    max_selections: int
    offset: int
    length: int
    first_only: bool = False


@dataclass(frozen=True)
class OpenVerdict:
    key: tuple[int, ...]
    ok: bool  # opened (check 29) / the seed made c_0 (check 31)
    where: str | None = None
    reason: str | None = None
    choices: tuple[int, ...] = ()


def _run(job: OpenJob, handle: Any, n: int, election_id: str) -> OpenVerdict:
    handle.seek(job.offset)
    line = json.loads(handle.read(job.length))  # strictly parsed once already (record.py)
    ballot = line.get("ballot") if isinstance(line, dict) else None
    try:
        if job.first_only:
            c0 = ballot_ciphertexts(ballot, n, job.num_candidates)[0]
            context = kdf.ballot_context(election_id, n, job.contest_id, job.party)
            return OpenVerdict(job.key, seed_opens_first(c0, n, job.seed, context))
        choices = open_ballot(ballot, n, election_id, job.contest_id, job.party,
                              job.num_candidates, job.max_selections, job.seed)
    except (InvalidInput, ValueError) as exc:
        return OpenVerdict(job.key, False, getattr(exc, "where", None), str(exc))
    return OpenVerdict(job.key, True, choices=tuple(choices))


def open_chunk(args: tuple[str, int, str, list[OpenJob], bool]) -> list[OpenVerdict]:
    """Pool worker: run ``jobs`` on the ballots of ``path`` (board/ballots.jsonl)."""
    path, n, election_id, jobs, use_gmpy2 = args
    if (arith.BACKEND == "gmpy2") != use_gmpy2:
        arith.use_gmpy2(use_gmpy2)
    with open(path, "rb") as handle:
        return [_run(job, handle, n, election_id) for job in jobs]
