"""The 16 named, numbered checks of docs/record.md §5.

Each check is a function ``check_NN_name(ctx) -> CheckResult``; :data:`CHECKS` lists them in
the order of the spec and :func:`verify_record` runs them all (a failing check never stops the
later ones; a check that lacks an input another check could not provide fails with
``dependency``).  Findings carry a message code (translated in :mod:`verifier.i18n`), its
parameters and the offending item (file, seq, trustee, contest, candidate).
"""
from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier import arith, counted as counted_file
from verifier.batch import BallotJob
from verifier.encoding import (canonical_json, expect_list, expect_object, expect_str,
                               parse_count, parse_hex_int)
from verifier.errors import InvalidInput
from verifier.hashing import object_hash, sha256_hex
from verifier.manifest import Contest, parse_contests
from verifier.parallel import iter_verdicts, map_chunks
from verifier.record import (BALLOTS, BOARD_KEY, CHECKPOINTS, COUNTED, ELECTION_KEY,
                             ENCRYPTED_TALLY, ENTRIES, FORMAT, HASHES, MANIFEST, OVERRIDES,
                             REQUIRED_FILES, RESULTS, SHARE_FILE_RE, Record, load_record,
                             read_line)
from verifier.signatures import parse_board_key, signature_valid
from verifier.tables import EntryTable, IntColumn, SeqMap, SeqSet
from verifier.threshold import (MAX_BITS, MIN_BITS, TEST_MIN_BITS, ElectionKey, combine,
                                key_problems, parse_decryption_share, parse_election_key,
                                verify_decryption_share)

HEX64_RE = re.compile(r"^[0-9a-f]{64}\Z")  # \Z: "$" would pass a final "\n"
PSEUDONYM_RE = re.compile(r"^[0-9a-f]{32}\Z")
CAST_AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
MAX_FINDINGS = 1000  # per check; the count of all failures is always reported
ENTRY_KEYS = ("seq", "election_id", "pseudonym", "contest", "ballot_hash", "cast_at",
              "prev_hash", "entry_hash")
PLAINTEXT_LIMIT = 1 << 63


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


@dataclass
class Context:
    """What the checks learn, in order, for the later checks."""

    record: Record
    options: Options
    election_id: str | None = None
    contests: dict[str, Contest] | None = None
    key: ElectionKey | None = None
    board_key: Ed25519PublicKey | None = None
    entries: EntryTable | None = None  # seq → what is kept of a well-formed entry
    board_size: int = 0
    ballots: SeqMap | None = None  # seq → its line number in board/ballots.jsonl
    verdicts: SeqSet | None = None  # the seqs whose ballot verified
    overrides: set[str] | None = None
    counted: dict[str, IntColumn] | None = None  # contest → counted seqs (as in the record)
    tally: dict[str, list[int]] | None = None
    tally_counts: dict[str, int] | None = None
    valid_shares: dict[int, dict[str, tuple[int, ...]]] | None = None
    votes: dict[str, list[int]] | None = None  # contest → results' votes, manifest order


def _missing(res: CheckResult, *what: tuple[str, Any]) -> bool:
    """Fail with ``dependency`` for each missing input; True if any is missing."""
    missing = [name for name, value in what if value is None]
    for name in missing:
        res.fail("dependency", input=name)
    return bool(missing)


def _json(ctx: Context, rel: str) -> Any:
    return ctx.record.json.get(rel)


# --- 1–3: the record itself -----------------------------------------------------------------

def check_01_record_format(ctx: Context) -> CheckResult:
    res = CheckResult(1, "record.format")
    rec = ctx.record
    fmt: dict[str, Any] = rec.json[FORMAT]  # a dict: load_record checked it (exit 2 otherwise)
    if set(fmt) != {"format", "version"}:
        res.fail("format.shape", {"file": FORMAT})
    for rel in REQUIRED_FILES:
        if not rec.has(rel):
            res.fail("format.missing", {"file": rel})
    if not rec.share_files():
        res.fail("format.no_shares", {"file": "tally/decryption_shares/"})
    for rel in rec.names():
        if rel not in REQUIRED_FILES and not SHARE_FILE_RE.match(rel):
            res.fail("format.unexpected", {"file": rel})
    res.note("format.version", version=fmt.get("version"), files=len(rec.names()))
    return res


def check_02_record_hashes(ctx: Context) -> CheckResult:
    res = CheckResult(2, "record.hashes")
    hashes = _json(ctx, HASHES)
    if hashes is None:
        res.fail("hashes.missing", {"file": HASHES})
        return res
    try:
        expect_object(hashes, ("files", "record_hash"), "HASHES")
        files = hashes["files"]
        if not isinstance(files, dict):
            raise InvalidInput("HASHES.files: not an object")
        for rel, h in files.items():
            if not isinstance(h, str) or not HEX64_RE.match(h):
                raise InvalidInput(f"HASHES.files[{rel}]: not a SHA-256 hex digest")
    except InvalidInput as exc:
        res.fail("hashes.shape", {"file": HASHES}, error=str(exc))
        return res
    for rel in ctx.record.names():
        if rel == HASHES:
            continue
        if rel not in files:
            res.fail("hashes.unlisted", {"file": rel})
        elif ctx.record.sha256(rel) != files[rel]:
            res.fail("hashes.mismatch", {"file": rel})
    for rel in files:
        if not ctx.record.has(rel) or rel == HASHES:
            res.fail("hashes.absent", {"file": rel})
    if object_hash(files) != hashes["record_hash"]:
        res.fail("hashes.record_hash", {"file": HASHES})
    res.note("hashes.record", record_hash=str(hashes["record_hash"]), files=len(files))
    return res


def _election_ids(ctx: Context) -> Iterable[tuple[dict[str, Any], Any]]:
    """(item, election_id) of every object of the record that carries one."""
    rec = ctx.record
    for rel in (ENTRIES, CHECKPOINTS):
        for line in rec.jsonl(rel):  # entries.jsonl is streamed
            if isinstance(line.value, dict):
                item = {"file": rel, "line": line.number}
                if rel == ENTRIES:
                    item["seq"] = line.value.get("seq")
                yield item, line.value.get("election_id")
    for rel in (OVERRIDES, ENCRYPTED_TALLY, RESULTS):
        obj = rec.json.get(rel)
        if isinstance(obj, dict):
            yield {"file": rel}, obj.get("election_id")


def check_03_manifest_election_id(ctx: Context) -> CheckResult:
    res = CheckResult(3, "manifest.election_id")
    raw = ctx.record.files.get(MANIFEST)
    if raw is None:
        res.fail("dependency", input=MANIFEST)
        return res
    manifest = ctx.record.json[MANIFEST]
    ctx.election_id = sha256_hex(raw)
    res.note("manifest.election_id", election_id=ctx.election_id)
    if canonical_json(manifest) != raw:
        res.fail("manifest.not_canonical", {"file": MANIFEST})
    try:
        ctx.contests = parse_contests(manifest)
    except InvalidInput as exc:
        res.fail("manifest.shape", {"file": MANIFEST}, error=str(exc))
    for item, eid in _election_ids(ctx):
        if eid != ctx.election_id:
            res.fail("manifest.election_id_mismatch", item, found=str(eid))
    return res


# --- 4–5: keys --------------------------------------------------------------------------------

_SMALL_PRIMES_PRODUCT: int | None = None


def _small_primes_product() -> int:
    """∏ primes < 2^16 (docs/record.md §5, `key.public`)."""
    global _SMALL_PRIMES_PRODUCT
    if _SMALL_PRIMES_PRODUCT is None:
        limit = 1 << 16
        sieve = bytearray([1]) * limit
        sieve[0:2] = b"\x00\x00"
        for i in range(2, 256):
            if sieve[i]:
                sieve[i * i::i] = bytearray(len(range(i * i, limit, i)))
        prod = 1
        for i in range(limit):
            if sieve[i]:
                prod *= i
        _SMALL_PRIMES_PRODUCT = prod
    return _SMALL_PRIMES_PRODUCT


def check_04_key_public(ctx: Context) -> CheckResult:
    res = CheckResult(4, "key.public")
    obj = _json(ctx, ELECTION_KEY)
    if obj is None:
        res.fail("dependency", input=ELECTION_KEY)
        return res
    try:
        key = parse_election_key(obj)
    except InvalidInput as exc:
        res.fail("key.shape", {"file": ELECTION_KEY}, error=str(exc))
        return res
    n = key.n
    bits = n.bit_length()
    item = {"file": ELECTION_KEY}
    if n % 2 == 0:
        res.fail("key.even", item)
    if bits > MAX_BITS:
        res.fail("key.too_large", item, bits=bits)
    if bits < MIN_BITS:
        if not ctx.options.allow_test_key or bits < TEST_MIN_BITS:
            res.fail("key.too_small", item, bits=bits)
        else:
            res.note("key.test_key", bits=bits)
    if n > 1 and int(arith.isqrt(n)) ** 2 == n:
        res.fail("key.square", item)
    if arith.gcd(arith.mpz(n), arith.mpz(_small_primes_product())) != 1:
        res.fail("key.small_factor", item)
    res.note("key.bits", bits=bits)
    if n > 1 and n % 2 == 1:
        ctx.key = key
    return res


def check_05_key_verification(ctx: Context) -> CheckResult:
    res = CheckResult(5, "key.verification")
    if _missing(res, ("election key", ctx.key)):
        return res
    assert ctx.key is not None
    for code, params in key_problems(ctx.key):
        res.fail(code, {"file": ELECTION_KEY, **({"trustee": params["index"]}
                                                 if "index" in params else {})}, **params)
    res.note("key.trustees", t=ctx.key.threshold, l=len(ctx.key.trustees))
    return res


# --- 6–8: the board -------------------------------------------------------------------------

def check_06_board_chain(ctx: Context) -> CheckResult:
    res = CheckResult(6, "board.chain")
    if _missing(res, ("election id", ctx.election_id)):
        return res
    if not ctx.record.has(ENTRIES):
        res.fail("dependency", input=ENTRIES)
        return res
    entries = EntryTable(_checkpoint_seqs(ctx))
    prev = ctx.election_id
    count = 0
    for line in ctx.record.jsonl(ENTRIES):  # streamed: only the EntryTable is kept
        count += 1
        e = line.value
        item: dict[str, Any] = {"file": ENTRIES, "line": line.number}
        try:
            expect_object(e, ENTRY_KEYS, "entry")
            seq = parse_count(e["seq"], "entry.seq")
            item["seq"] = seq
            for k in ("election_id", "ballot_hash", "prev_hash", "entry_hash"):
                if not isinstance(e[k], str) or not HEX64_RE.match(e[k]):
                    raise InvalidInput(f"entry.{k}: not a SHA-256 hex digest")
            if not isinstance(e["pseudonym"], str) or not PSEUDONYM_RE.match(e["pseudonym"]):
                raise InvalidInput("entry.pseudonym: not 32 lowercase hex digits")
            expect_str(e["contest"], "entry.contest")
            if not isinstance(e["cast_at"], str) or not CAST_AT_RE.match(e["cast_at"]):
                raise InvalidInput("entry.cast_at: not UTC ISO 8601 with microseconds and Z")
        except InvalidInput as exc:
            res.fail("chain.shape", item, error=str(exc))
            prev = e.get("entry_hash") if isinstance(e, dict) else None
            continue
        if line.raw != canonical_json(e):
            res.fail("chain.not_canonical", item)
        if seq != line.number:
            res.fail("chain.seq", item, expected=line.number, found=seq)
        if e["election_id"] != ctx.election_id:
            res.fail("chain.election_id", item)
        if e["prev_hash"] != prev:
            res.fail("chain.prev_hash", item)
        body = {k: v for k, v in e.items() if k != "entry_hash"}
        if object_hash(body) != e["entry_hash"]:
            res.fail("chain.entry_hash", item)
        if seq in entries:
            res.fail("chain.duplicate_seq", item)
        else:
            entries.add(seq, e)
        prev = e["entry_hash"]
    ctx.entries = entries
    ctx.board_size = count
    res.note("chain.entries", count=count)
    return res


def _checkpoint_seqs(ctx: Context) -> set[int]:
    """The seqs the checkpoints name: the only entry hashes check 8 needs (check 6 keeps
    those, not all)."""
    out = set()
    for line in ctx.record.lines.get(CHECKPOINTS, []):
        if isinstance(line.value, dict):
            seq = line.value.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                out.add(seq)
    return out


def check_07_board_ballots(ctx: Context) -> CheckResult:
    res = CheckResult(7, "board.ballots")
    if _missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests)):
        return res
    assert ctx.entries is not None and ctx.contests is not None
    lines = ctx.record.ballot_lines  # streamed: no ballot is held (verifier/record.py)
    if lines is None:
        res.fail("dependency", input=BALLOTS)
        return res
    entries = ctx.entries
    ballots = SeqMap(0)
    last_seq = 0
    for line in lines:
        b = line.value
        item: dict[str, Any] = {"file": BALLOTS, "line": line.number}
        try:
            expect_object(b, ("seq", "pseudonym", "contest", "ballot"), "ballot line")
            assert b is not None  # expect_object refuses anything but an object
            seq = parse_count(b["seq"], "ballot line.seq", 1)
            expect_str(b["pseudonym"], "ballot line.pseudonym")
            expect_str(b["contest"], "ballot line.contest")
        except InvalidInput as exc:
            res.fail("ballots.shape", item, error=str(exc))
            continue
        item["seq"] = seq
        if seq in ballots:
            res.fail("ballots.duplicate", item)
            continue
        if seq <= last_seq:
            res.fail("ballots.order", item)
        last_seq = max(last_seq, seq)
        ballots.add(seq, line.number)
        row = entries.row(seq)
        if row is None:
            res.fail("ballots.not_on_board", item)
            continue
        contest = entries.contest(row)
        item["contest"] = contest
        if line.ballot_hash != entries.ballot_hash(row):
            res.fail("ballots.hash", item)
        if b["pseudonym"] != entries.pseudonym(row) or b["contest"] != contest:
            res.fail("ballots.context", item)
    for seq, row in entries.items():
        contest = entries.contest(row)
        if contest not in ctx.contests:
            res.fail("ballots.unknown_contest", {"file": ENTRIES, "seq": seq},
                     contest=contest)
        if seq not in ballots:
            res.fail("ballots.missing", {"file": BALLOTS, "seq": seq})
    ctx.ballots = ballots
    res.note("ballots.count", count=len(ballots))
    return res


def check_08_board_checkpoints(ctx: Context) -> CheckResult:
    res = CheckResult(8, "board.checkpoints")
    obj = _json(ctx, BOARD_KEY)
    if obj is not None:
        try:
            ctx.board_key = parse_board_key(obj)
        except InvalidInput as exc:
            res.fail("checkpoints.board_key", {"file": BOARD_KEY}, error=str(exc))
    if _missing(res, ("board key", ctx.board_key), ("board entries", ctx.entries),
                ("election id", ctx.election_id)):
        return res
    assert ctx.entries is not None and ctx.board_key is not None
    lines = ctx.record.lines.get(CHECKPOINTS)
    if lines is None:
        res.fail("dependency", input=CHECKPOINTS)
        return res
    if not lines:
        res.fail("checkpoints.none", {"file": CHECKPOINTS})
        return res
    heads: dict[int, Any] = dict(ctx.entries.heads)  # the entry hash at each checkpoint's seq
    heads[0] = ctx.election_id
    last_seq = -1
    finals = []
    for line in lines:
        cp = line.value
        item: dict[str, Any] = {"file": CHECKPOINTS, "line": line.number}
        try:
            expect_object(cp, ("type", "election_id", "seq", "head", "at", "final",
                               "signature"), "checkpoint")
            seq = parse_count(cp["seq"], "checkpoint.seq")
            if not isinstance(cp["final"], bool):
                raise InvalidInput("checkpoint.final: not a boolean")
            if cp["type"] != "ssbvote-checkpoint":
                raise InvalidInput("checkpoint.type: not ssbvote-checkpoint")
            expect_str(cp["at"], "checkpoint.at")
        except InvalidInput as exc:
            res.fail("checkpoints.shape", item, error=str(exc))
            continue
        item["seq"] = seq
        if not signature_valid(cp, ctx.board_key):
            res.fail("checkpoints.signature", item)
        if cp["election_id"] != ctx.election_id:
            res.fail("checkpoints.election_id", item)
        if seq > ctx.board_size or heads.get(seq) != cp["head"]:
            res.fail("checkpoints.head", item)
        if seq < last_seq:
            res.fail("checkpoints.order", item)
        last_seq = max(last_seq, seq)
        if cp["final"]:
            finals.append((line.number, seq))
    if len(finals) != 1:
        res.fail("checkpoints.final_count", {"file": CHECKPOINTS}, count=len(finals))
    if finals and finals[-1][0] != lines[-1].number:
        res.fail("checkpoints.final_not_last", {"file": CHECKPOINTS, "line": finals[-1][0]})
    if finals and finals[-1][1] != ctx.board_size:
        res.fail("checkpoints.final_seq", {"file": CHECKPOINTS, "seq": finals[-1][1]},
                 expected=ctx.board_size)
    res.note("checkpoints.count", count=len(lines))
    return res


# --- 9: ballot proofs -----------------------------------------------------------------------

def _candidate_item(ctx: Context, contest_id: str, where: str | None) -> dict[str, Any]:
    if where is None:
        return {}
    if where == "sum":
        return {"candidate": "sum-proof"}
    contest = (ctx.contests or {}).get(contest_id)
    if contest is not None and where.isdigit() and int(where) < contest.size:
        return {"candidate": contest.candidates[int(where)].id}
    return {"candidate": where}


def _ballot_context(ctx: Context, seq: int, number: int) -> tuple[str, str]:
    """(contest id, pseudonym) of the ballot ``seq`` (at line ``number``): its board entry's
    (§9.3), or its own line's if it is not on the board."""
    assert ctx.record.ballot_lines is not None
    row = ctx.entries.row(seq) if ctx.entries is not None else None
    if row is not None:
        assert ctx.entries is not None
        return ctx.entries.contest(row), ctx.entries.pseudonym(row)
    value = ctx.record.ballot_lines.line(number).value
    assert value is not None  # only well-formed lines reach ctx.ballots
    return value["contest"], value["pseudonym"]


def _ballot_jobs(ctx: Context) -> Iterator[BallotJob]:
    """A job per ballot of a known contest, in seq order; the worker reads the ballot itself
    from its line (offset, length): nothing big here."""
    assert ctx.ballots is not None and ctx.contests is not None
    assert ctx.record.ballot_lines is not None
    for seq, number in ctx.ballots.items():
        contest_id, pseudonym = _ballot_context(ctx, seq, number)
        contest = ctx.contests.get(contest_id)
        if contest is None:
            continue  # reported by board.ballots
        offset, length = ctx.record.ballot_lines.span(number)
        yield BallotJob(seq, contest.id, pseudonym, contest.size, contest.max_selections, None,
                        offset, length)


def check_09_ballots_proofs(ctx: Context) -> CheckResult:
    res = CheckResult(9, "ballots.proofs")
    if _missing(res, ("election key", ctx.key), ("ballots", ctx.ballots),
                ("manifest contests", ctx.contests), ("election id", ctx.election_id)):
        return res
    assert ctx.key and ctx.ballots is not None and ctx.contests and ctx.election_id
    total = sum(1 for seq, number in ctx.ballots.items()
                if _ballot_context(ctx, seq, number)[0] in ctx.contests)
    done = 0
    progress = ctx.options.progress

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress("ballots.proofs", done, total)

    if progress:
        progress("ballots.proofs", 0, total)
    start = time.perf_counter()
    verified = SeqSet()
    # verdicts come in seq order, a chunk at a time: only whether each one verified is kept
    for v in iter_verdicts(ctx.key.n, ctx.election_id, _ballot_jobs(ctx), total,
                           processes=ctx.options.processes, batched=ctx.options.batched,
                           progress=tick, path=str(ctx.record.ballots_path)):
        if v.ok:
            verified.add(v.seq)
            continue
        number = ctx.ballots.get(v.seq)
        assert number is not None
        cid = _ballot_context(ctx, v.seq, number)[0]
        res.fail("proofs.invalid", {"file": BALLOTS, "seq": v.seq, "contest": cid,
                                    **_candidate_item(ctx, cid, v.where)},
                 reason=v.reason or "")
    seconds = time.perf_counter() - start
    ctx.verdicts = verified
    res.note("proofs.summary", count=total, seconds=round(seconds, 3), backend=arith.BACKEND,
             processes=ctx.options.processes,
             mode="batch" if ctx.options.batched else "per-proof")
    return res


# --- 10–12: overrides, counted set, aggregate -----------------------------------------------

def check_10_overrides_signature(ctx: Context) -> CheckResult:
    res = CheckResult(10, "overrides.signature")
    obj = _json(ctx, OVERRIDES)
    if _missing(res, (OVERRIDES, obj), ("board key", ctx.board_key),
                ("election id", ctx.election_id)):
        return res
    assert ctx.board_key is not None
    item = {"file": OVERRIDES}
    try:
        expect_object(obj, ("type", "election_id", "pseudonyms", "at", "approved_by",
                            "signature"), "paper_overrides")
        if obj["type"] != "ssbvote-paper-overrides":
            raise InvalidInput("paper_overrides.type: not ssbvote-paper-overrides")
        pseudonyms = [expect_str(p, "paper_overrides.pseudonyms[]")
                      for p in expect_list(obj["pseudonyms"], "paper_overrides.pseudonyms")]
        approvers = [expect_str(p, "paper_overrides.approved_by[]")
                     for p in expect_list(obj["approved_by"], "paper_overrides.approved_by")]
    except InvalidInput as exc:
        res.fail("overrides.shape", item, error=str(exc))
        return res
    ctx.overrides = set(pseudonyms)
    if obj["election_id"] != ctx.election_id:
        res.fail("overrides.election_id", item)
    if pseudonyms != sorted(set(pseudonyms)):
        res.fail("overrides.not_sorted", item)
    if len(approvers) != 2 or len(set(approvers)) != 2 or not all(approvers):
        res.fail("overrides.approvers", item)
    if not signature_valid(obj, ctx.board_key):
        res.fail("overrides.signature", item)
    res.note("overrides.count", count=len(pseudonyms))
    return res


REASONS = ("", "counted", "superseded", "paper-vote", "invalid")


@dataclass
class Dispositions:
    """seq → (pseudonym, "counted" | reason) per docs/record.md §4.1, for one contest: a
    reason code (an index into :data:`REASONS`; 0 = not of this contest) per entry row."""

    entries: EntryTable
    codes: bytearray

    def get(self, seq: int) -> tuple[str, str] | None:
        row = self.entries.row(seq)
        if row is None or not self.codes[row]:
            return None
        return self.entries.pseudonym(row), REASONS[self.codes[row]]

    def seqs(self) -> Iterator[int]:
        """The contest's seqs, in order."""
        return (seq for seq, row in self.entries.items() if self.codes[row])


def _expected_dispositions(ctx: Context, contest_id: str) -> Dispositions:
    """The expected disposition of every entry of the contest: read backwards, an entry whose
    pseudonym occurs again later is superseded (only the set of pseudonyms seen is held)."""
    assert ctx.entries is not None and ctx.overrides is not None and ctx.verdicts is not None
    entries = ctx.entries
    codes = bytearray(len(entries))
    wanted = entries.contest_index(contest_id)
    later: set[bytes | str] = set()
    for seq, row in entries.items(reverse=True) if wanted is not None else ():
        if entries.contest_id(row) != wanted:
            continue
        key = entries.pseudonym_key(row)
        if entries.pseudonym(row) in ctx.overrides:
            codes[row] = 3  # paper-vote
        elif key in later:
            codes[row] = 2  # superseded
        elif seq not in ctx.verdicts:
            codes[row] = 4  # invalid
        else:
            codes[row] = 1  # counted
        later.add(key)
    return Dispositions(entries, codes)


def check_11_tally_counted_set(ctx: Context) -> CheckResult:
    res = CheckResult(11, "tally.counted_set")
    path = ctx.record.root / COUNTED
    present = True if ctx.record.has(COUNTED) and not counted_file.is_null(path) else None
    if _missing(res, (COUNTED, present), ("manifest contests", ctx.contests),
                ("board entries", ctx.entries), ("paper overrides", ctx.overrides),
                ("ballot verdicts", ctx.verdicts)):
        return res
    assert ctx.contests is not None
    try:  # one streaming pass; the lists are read again below, one at a time
        parsed = counted_file.read_shape(path, ctx.contests)
    except InvalidInput as exc:
        res.fail("counted.shape", {"file": COUNTED}, error=str(exc))
        return res
    ctx.counted = {cid: parsed[cid].seqs for cid in parsed}
    total_counted = 0
    for cid in ctx.contests:
        shape = parsed[cid]
        expected = _expected_dispositions(ctx, cid)
        for name, lst in (("counted", shape.counted), ("excluded", shape.excluded)):
            if not lst.in_order:
                res.fail("counted.not_sorted", {"file": COUNTED, "contest": cid}, list=name)
        seen = SeqSet()
        listed = itertools.chain(counted_file.listed(path, shape.counted, False),
                                 counted_file.listed(path, shape.excluded, True))
        for seq, pseudonym, reason in listed:
            item = {"file": COUNTED, "contest": cid, "seq": seq}
            if seq in seen:
                res.fail("counted.duplicate", item)
                continue
            seen.add(seq)
            found = expected.get(seq)
            if found is None:
                res.fail("counted.unknown", item)
                continue
            want_p, want = found
            if pseudonym != want_p:
                res.fail("counted.pseudonym", item)
            got = "invalid" if reason.startswith("invalid: ") and len(reason) > 9 else reason
            if got == want:
                continue
            if want == "counted":
                res.fail("counted.should_count", item, found=reason)
            elif got == "counted":
                res.fail("counted.should_exclude", item, expected=want)
            else:
                res.fail("counted.wrong_reason", item, found=reason, expected=want)
        for seq in expected.seqs():
            if seq not in seen:
                res.fail("counted.missing", {"file": COUNTED, "contest": cid, "seq": seq})
        total_counted += shape.counted.count
    res.note("counted.summary", counted=total_counted,
             excluded=sum(parsed[c].excluded.count for c in parsed))
    return res


def _ballot_ciphertexts(line: Any, size: int) -> list[int] | None:
    try:
        cts = expect_list(line["ballot"]["ciphertexts"], "ciphertexts", size)
        return [parse_hex_int(c, "ciphertext") for c in cts]
    except (InvalidInput, TypeError, KeyError):
        return None


AGGREGATE_CHUNK = 64  # ballots per aggregate work unit


def aggregate_chunk(args: tuple[str, int, int, list[tuple[int, int, int]], bool]
                    ) -> tuple[list[int], list[int]]:
    """Pool worker for check 12: the product mod n² of the ciphertexts of the ballots at
    ``(position, offset, length)`` of ``path`` (read one at a time), and the positions whose
    ballot has no ``size`` canonical ciphertexts."""
    path, n2, size, refs, use_gmpy2 = args
    if (arith.BACKEND == "gmpy2") != use_gmpy2:
        arith.use_gmpy2(use_gmpy2)
    modulus = arith.mpz(n2)
    acc = [arith.mpz(1)] * size
    bad = []
    with open(path, "rb") as handle:
        for pos, offset, length in refs:
            cts = _ballot_ciphertexts(read_line(handle, offset, length), size)
            if cts is None:
                bad.append(pos)
                continue
            acc = [a * c % modulus for a, c in zip(acc, cts)]
    return [int(a) for a in acc], bad


def _aggregate(ctx: Context, seqs: IntColumn, size: int) -> tuple[list[int], list[int]]:
    """(∏ ciphertexts mod n² over ``seqs``, seqs without a usable ballot), streaming the
    ballots from board/ballots.jsonl in chunks across the pool."""
    assert ctx.key is not None
    n2 = ctx.key.n2
    index = ctx.record.ballot_lines
    ballots = ctx.ballots if ctx.ballots is not None else SeqMap(0)
    bad: list[int] = []  # positions in ``seqs``
    path = str(ctx.record.ballots_path)
    use_gmpy2 = arith.BACKEND == "gmpy2"

    def refs() -> Iterator[tuple[int, int, int]]:
        for pos, seq in enumerate(seqs):  # a seq listed twice is multiplied twice, as listed
            number = ballots.get(seq)
            if number is None or index is None:
                bad.append(pos)
            else:
                yield (pos, *index.span(number))

    it = refs()
    chunks = ((path, n2, size, chunk, use_gmpy2)
              for chunk in iter(lambda: list(itertools.islice(it, AGGREGATE_CHUNK)), []))
    acc = [arith.mpz(1)] * size
    modulus = arith.mpz(n2)
    for part, part_bad in map_chunks(aggregate_chunk, chunks, ctx.options.processes):
        acc = [a * arith.mpz(p) % modulus for a, p in zip(acc, part)]
        bad.extend(part_bad)
    return acc, [seqs[pos] for pos in sorted(bad)]


def check_12_tally_aggregate(ctx: Context) -> CheckResult:
    res = CheckResult(12, "tally.aggregate")
    obj = _json(ctx, ENCRYPTED_TALLY)
    if _missing(res, (ENCRYPTED_TALLY, obj), ("manifest contests", ctx.contests),
                ("election key", ctx.key), ("counted set", ctx.counted)):
        return res
    assert ctx.contests is not None and ctx.key is not None and ctx.counted is not None
    tally: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    try:
        expect_object(obj, ("election_id", "contests"), "encrypted_tally")
        if not isinstance(obj["contests"], dict) or set(obj["contests"]) != set(ctx.contests):
            raise InvalidInput("encrypted_tally.contests: keys differ from the manifest's")
        for cid, contest in ctx.contests.items():
            w = f"encrypted_tally.contests.{cid}"
            c = expect_object(obj["contests"][cid], ("ciphertexts", "counted_ballots"), w)
            cts = expect_list(c["ciphertexts"], f"{w}.ciphertexts", contest.size)
            tally[cid] = [parse_hex_int(x, f"{w}.ciphertexts[{j}]") for j, x in enumerate(cts)]
            counts[cid] = parse_count(c["counted_ballots"], f"{w}.counted_ballots")
    except InvalidInput as exc:
        res.fail("aggregate.shape", {"file": ENCRYPTED_TALLY}, error=str(exc))
        return res
    ctx.tally, ctx.tally_counts = tally, counts
    for cid, contest in ctx.contests.items():
        item = {"file": ENCRYPTED_TALLY, "contest": cid}
        seqs = ctx.counted.get(cid, IntColumn())
        if counts[cid] != len(seqs):
            res.fail("aggregate.count", item, found=counts[cid], expected=len(seqs))
        acc, bad = _aggregate(ctx, seqs, contest.size)
        for seq in bad:
            res.fail("aggregate.bad_ballot", {**item, "seq": seq})
        if bad:
            continue
        for j, (want, got) in enumerate(zip(acc, tally[cid])):
            if want != got:
                res.fail("aggregate.mismatch", {**item, "candidate": contest.candidates[j].id})
    return res


# --- 13–16: decryption and results ----------------------------------------------------------

def check_13_tally_decryption_shares(ctx: Context) -> CheckResult:
    res = CheckResult(13, "tally.decryption_shares")
    if _missing(res, ("election key", ctx.key), ("encrypted tally", ctx.tally),
                ("election id", ctx.election_id), ("manifest contests", ctx.contests)):
        return res
    assert ctx.key and ctx.tally is not None and ctx.election_id and ctx.contests
    valid: dict[int, dict[str, tuple[int, ...]]] = {}
    for index, rel in ctx.record.share_files().items():
        obj = ctx.record.json[rel]
        item: dict[str, Any] = {"file": rel, "trustee": index}
        try:
            expect_object(obj, ("trustee", "index", "contests"), "decryption shares")
            found = parse_count(obj["index"], "decryption shares.index", 1)
            name = expect_str(obj["trustee"], "decryption shares.trustee")
            if not isinstance(obj["contests"], dict):
                raise InvalidInput("decryption shares.contests: not an object")
        except InvalidInput as exc:
            res.fail("shares.shape", item, error=str(exc))
            continue
        trustee = ctx.key.trustee(index)
        if found != index:
            res.fail("shares.index_mismatch", item, found=found)
            continue
        if trustee is None:
            res.fail("shares.unknown_trustee", item)
            continue
        if trustee.name != name:
            res.fail("shares.name_mismatch", item, found=name, expected=trustee.name)
        if set(obj["contests"]) != set(ctx.contests):
            res.fail("shares.contests", item)
            continue
        mine: dict[str, tuple[int, ...]] = {}
        for cid in ctx.contests:
            citem = {**item, "contest": cid}
            try:
                share = parse_decryption_share(obj["contests"][cid], len(ctx.tally[cid]),
                                               f"contests.{cid}")
                if share.index != index:
                    raise InvalidInput(f"contests.{cid}.index: {share.index} ≠ {index}")
                verify_decryption_share(ctx.key, ctx.election_id, cid, ctx.tally[cid], share)
            except InvalidInput as exc:
                res.fail("shares.invalid", citem, reason=str(exc))
                continue
            mine[cid] = share.shares
        if len(mine) == len(ctx.contests) and trustee.name == name:
            valid[index] = mine
    ctx.valid_shares = valid
    res.note("shares.valid", trustees=sorted(valid))
    return res


def _results_contests(ctx: Context, obj: Any) -> dict[str, dict[str, Any]]:
    assert ctx.contests is not None
    expect_object(obj, ("election_id", "trustees_used", "contests"), "results")
    if not isinstance(obj["contests"], dict) or set(obj["contests"]) != set(ctx.contests):
        raise InvalidInput("results.contests: keys differ from the manifest's contest ids")
    out = {}
    for cid, contest in ctx.contests.items():
        w = f"results.contests.{cid}"
        c = obj["contests"][cid]
        keys = {"counted_ballots", "max_selections", "candidates", "elected"}
        if not isinstance(c, dict) or not keys <= set(c) <= keys | {"tie_at_last_seat"}:
            raise InvalidInput(f"{w}: keys are not {sorted(keys)} (+ tie_at_last_seat)")
        parse_count(c["counted_ballots"], f"{w}.counted_ballots")
        parse_count(c["max_selections"], f"{w}.max_selections")
        cands = expect_list(c["candidates"], f"{w}.candidates", contest.size)
        for j, cand in enumerate(cands):
            if not isinstance(cand, dict) or "votes" not in cand:
                raise InvalidInput(f"{w}.candidates[{j}]: no votes")
            parse_count(cand["votes"], f"{w}.candidates[{j}].votes")
        for x in expect_list(c["elected"], f"{w}.elected"):
            expect_str(x, f"{w}.elected[]")
        if "tie_at_last_seat" in c and not isinstance(c["tie_at_last_seat"], bool):
            raise InvalidInput(f"{w}.tie_at_last_seat: not a boolean")
        out[cid] = c
    return out


def check_14_results_combination(ctx: Context) -> CheckResult:
    res = CheckResult(14, "results.combination")
    obj = _json(ctx, RESULTS)
    if _missing(res, (RESULTS, obj), ("manifest contests", ctx.contests),
                ("election key", ctx.key), ("valid decryption shares", ctx.valid_shares),
                ("encrypted tally", ctx.tally)):
        return res
    assert ctx.contests and ctx.key and ctx.valid_shares is not None and ctx.tally is not None
    item = {"file": RESULTS}
    try:
        contests = _results_contests(ctx, obj)
        used = [parse_count(i, "results.trustees_used[]", 1)
                for i in expect_list(obj["trustees_used"], "results.trustees_used")]
    except InvalidInput as exc:
        res.fail("results.shape", item, error=str(exc))
        return res
    ctx.votes = {cid: [int(c["votes"]) for c in contests[cid]["candidates"]]
                 for cid in contests}
    t = ctx.key.threshold
    expected_used = sorted(ctx.valid_shares)[:t]
    if len(expected_used) < t:
        res.fail("results.not_enough_shares", item, valid=len(expected_used), t=t)
    elif used != expected_used:
        res.fail("results.trustees_used", item, found=used, expected=expected_used)
    for cid, contest in ctx.contests.items():
        c = contests[cid]
        citem = {"file": RESULTS, "contest": cid}
        if ctx.tally_counts is not None and c["counted_ballots"] != ctx.tally_counts[cid]:
            res.fail("results.counted_ballots", citem, found=c["counted_ballots"],
                     expected=ctx.tally_counts[cid])
        if c["max_selections"] != contest.max_selections:
            res.fail("results.max_selections", citem, found=c["max_selections"],
                     expected=contest.max_selections)
        for cand, mc in zip(c["candidates"], contest.candidates):
            meta = {k: v for k, v in cand.items() if k != "votes"}
            want = {k: mc.raw.get(k) for k in ("id", "number", "name", "team")}
            if meta != want:
                res.fail("results.candidate", {**citem, "candidate": mc.id})
        if len(expected_used) < t:
            continue
        try:
            plain = combine(ctx.key, {i: ctx.valid_shares[i][cid] for i in expected_used},
                            contest.size)
        except InvalidInput as exc:
            res.fail("results.combine_failed", citem, reason=str(exc))
            continue
        for j, (want_votes, cand, mc) in enumerate(zip(plain, c["candidates"],
                                                       contest.candidates)):
            if want_votes >= PLAINTEXT_LIMIT:
                res.fail("results.plaintext_range", {**citem, "candidate": mc.id})
            elif cand["votes"] != want_votes:
                res.fail("results.count", {**citem, "candidate": mc.id},
                         found=cand["votes"], expected=want_votes)
    res.note("results.used", trustees=expected_used)
    return res


def expected_elected(contest: Contest, votes: list[int]) -> tuple[list[str], bool]:
    """Top k by votes, ties broken by the lower ballot number; and the tie-at-last-seat flag
    (docs/record.md §4.4)."""
    ranked = sorted(zip(votes, contest.candidates), key=lambda vc: (-vc[0], vc[1].number))
    k = contest.max_selections
    elected = [c.id for _, c in ranked[:k]]
    tie = len(ranked) > k and ranked[k - 1][0] == ranked[k][0]
    return elected, tie


def check_15_results_elected(ctx: Context) -> CheckResult:
    res = CheckResult(15, "results.elected")
    if _missing(res, ("results", ctx.votes), ("manifest contests", ctx.contests)):
        return res
    assert ctx.votes is not None and ctx.contests is not None
    results = ctx.record.json[RESULTS]["contests"]
    for cid, contest in ctx.contests.items():
        item = {"file": RESULTS, "contest": cid}
        want, tie = expected_elected(contest, ctx.votes[cid])
        got = results[cid]["elected"]
        if got != want:  # rank order (docs/record.md §4.4)
            res.fail("elected.mismatch", item, found=got, expected=want)
        if bool(results[cid].get("tie_at_last_seat", False)) != tie:
            res.fail("elected.tie_flag", item, expected=tie)
    return res


def check_16_results_plausible(ctx: Context) -> CheckResult:
    res = CheckResult(16, "results.plausible")
    if _missing(res, ("results", ctx.votes), ("manifest contests", ctx.contests)):
        return res
    assert ctx.votes is not None and ctx.contests is not None
    results = ctx.record.json[RESULTS]["contests"]
    for cid, contest in ctx.contests.items():
        counted = results[cid]["counted_ballots"]
        item = {"file": RESULTS, "contest": cid}
        for v, cand in zip(ctx.votes[cid], contest.candidates):
            if v > counted:
                res.fail("plausible.count", {**item, "candidate": cand.id}, votes=v,
                         counted=counted)
        total = sum(ctx.votes[cid])
        if total > contest.max_selections * counted:
            res.fail("plausible.sum", item, total=total,
                     limit=contest.max_selections * counted)
    return res


CHECKS: tuple[Callable[[Context], CheckResult], ...] = (
    check_01_record_format, check_02_record_hashes, check_03_manifest_election_id,
    check_04_key_public, check_05_key_verification, check_06_board_chain,
    check_07_board_ballots, check_08_board_checkpoints, check_09_ballots_proofs,
    check_10_overrides_signature, check_11_tally_counted_set, check_12_tally_aggregate,
    check_13_tally_decryption_shares, check_14_results_combination,
    check_15_results_elected, check_16_results_plausible,
)


@dataclass
class Verification:
    record: Path
    election_id: str | None
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)


def verify_record(path: str | Path, options: Options | None = None) -> Verification:
    """Run the 16 checks on the record at ``path``.  Raises RecordUnreadable (exit 2)."""
    options = options or Options()
    ctx = Context(load_record(path, processes=options.processes), options)
    results = []
    for check in CHECKS:
        try:
            results.append(check(ctx))
        except Exception as exc:  # a verifier bug or an unforeseen shape: fail, never pass
            res = CheckResult(len(results) + 1, check.__name__[9:].replace("_", ".", 1))
            res.fail("internal_error", error=f"{type(exc).__name__}: {exc}")
            results.append(res)
    return Verification(Path(path), ctx.election_id, results)
