"""What every check shares: its result (failures and notes as message codes with their
parameters and offending item), the options, the :class:`Context` the checks fill in for the
later ones, and the small helpers for a missing input."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.counted import CountedContest
from verifier.manifest import Contest
from verifier.record import Record
from verifier.tables import EntryTable, IntColumn, SeqMap, SeqSet
from verifier.threshold import ElectionKey

HEX64_RE = re.compile(r"^[0-9a-f]{64}\Z")  # \Z: "$" would pass a final "\n"
MAX_FINDINGS = 1000  # per check; the count of all failures is always reported


@dataclass(frozen=True)
class Finding:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    item: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    number: int
    name: str
    failures: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    failure_count: int = 0

    @property
    def passed(self) -> bool:
        return self.failure_count == 0

    def fail(self, code: str, item: dict[str, Any] | None = None, **params: Any) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FINDINGS:
            self.failures.append(Finding(code, params, item or {}))

    def note(self, code: str, **params: Any) -> None:
        self.notes.append(Finding(code, params))


@dataclass
class Options:
    allow_test_key: bool = False
    processes: int = 1
    batched: bool = True
    progress: Callable[[str, int, int], None] | None = None  # (phase, done, total)
    #: the credential authority's public key (32 raw bytes) as the observer got it from the
    #: CA's own publication (``--ca-key``; docs/record.md §2.0): check 17 needs it
    ca_key: bytes | None = None
    #: the checkpoints an observer saw (``--seen FILE``, follow mode; docs/record.md §3.4):
    #: check 32 compares the board with them; None: not given
    seen: list[dict[str, Any]] | None = None
    #: a snapshot of an open board (docs/record.md §3.3): check 8's last checkpoint need not be
    #: final; ``proofs_after``: check 9 verifies only the ballots after this seq (follow mode)
    snapshot: bool = False
    proofs_after: int = 0


@dataclass
class Context:
    """What the checks learn, in order, for the later checks."""

    record: Record
    options: Options
    election_id: str | None = None
    contests: dict[str, Contest] | None = None
    key: ElectionKey | None = None
    key_public_ok: bool | None = None  # check 4 passed (None: not run)
    key_verification_ok: bool | None = None  # check 5 passed
    board_key: Ed25519PublicKey | None = None
    entries: EntryTable | None = None  # seq → what is kept of a well-formed entry
    board_size: int = 0
    ballots: SeqMap | None = None  # seq → its line number in board/ballots.jsonl
    verdicts: SeqSet | None = None  # the seqs whose ballot verified
    overrides: set[str] | None = None
    counted: dict[str, IntColumn] | None = None  # contest → counted seqs (as in the record)
    #: contest → where counted.json's two lists are (check 11 read its shape; check 30 reads
    #: the excluded list again)
    counted_lists: dict[str, CountedContest] | None = None
    tally: dict[str, list[int]] | None = None
    tally_counts: dict[str, int] | None = None
    valid_shares: dict[int, dict[str, tuple[int, ...]]] | None = None
    votes: dict[str, list[int]] | None = None  # contest → results' votes, manifest order
    #: what the lazy loaders of verifier.checks.pins parsed (opening, credentials,
    #: revocations), by name: several checks need them, in an order unlike the checks'
    loaded: dict[str, Any] = field(default_factory=dict)


def missing(res: CheckResult, *what: tuple[str, Any]) -> bool:
    """Fail with ``dependency`` for each missing input; True if any is missing."""
    missing = [name for name, value in what if value is None]
    for name in missing:
        res.fail("dependency", input=name)
    return bool(missing)


def record_json(ctx: Context, rel: str) -> Any:
    return ctx.record.json.get(rel)

