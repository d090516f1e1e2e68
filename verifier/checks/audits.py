"""Checks 29–31 (docs/record.md §5; docs/protocol.md §5.6, §14): audited ballots — the Benaloh
cast-or-audit challenge.

* 29 ``audits.open``: every audit entry's seed opens its ballot to choices 0/1 with at most k
  ones (§5.6, under the ballot context of its party ``<pseudonym>/<credential>``), and its
  signature over the audit statement (record.md §2.1, protocol.md §14.2) verifies with its
  credential.
* 30 ``audits.not_counted``: no audit entry is in a ``counted`` list; each is excluded, in its
  contest, with reason ``audited``.
* 31 ``audits.seeds_secret``: no audit seed opens a counted ballot of the same credential (one
  n-th power mod n per pair: c_0 ≡ r_0^n mod n, :func:`verifier.opening.seed_opens_first`),
  and no object of the record but an audit entry has a ``seed`` field.

Memory: the audit entries are read again from board/entries.jsonl (streamed); the ballots are
read by the pool workers at their offsets in board/ballots.jsonl (as for check 9).  Check 31
holds one row per counted ballot (:class:`~verifier.tables.RowMap`, ~16 bytes each) to find a
credential's counted ballot, and only when the board has audits.

Cost (measured with gmpy2 on the shared 2-core test machine at load ~10, so several times an
idle core's): opening one audited 7-of-228 ballot at 2048 bits is 228 n-th powers mod n², ~11 s
(52 ms each; 18 ms mod n); the r_0 test of check 31 is one n-th power mod n, ~10 ms per (audit,
counted ballot) pair; deriving one r_i (HKDF) ~70 µs.  Both spread over the worker pool.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator

from verifier import arith, counted as counted_file
from verifier.checks.board import KIND_AUDIT, board_entries
from verifier.checks.context import CheckResult, Context, missing
from verifier.checks.credentials import SIGNATURE_CHUNK, signature_chunk
from verifier.checks.pins import opening
from verifier.encoding import canonical_json, key_paths
from verifier.jsonstream import PLAIN_DECODER
from verifier.lines import iter_lines
from verifier.opening import OpenJob, OpenVerdict, open_chunk
from verifier.parallel import map_chunks
from verifier.record import BALLOTS, COUNTED, ENTRIES
from verifier.tables import RowMap, SeqSet

AUDIT_TYPE = "ssbvote-audit"  # the "type" of a voter's signed audit statement (protocol.md §14.2)
AUDITED = "audited"  # the exclusion reason of an audit entry (record.md §4.1)
SEED_FIELD = "seed"
OPEN_CHUNK = 8  # audits opened per work unit of check 29 (N n-th powers mod n² each)
TEST_CHUNK = 256  # (seed, counted ballot) pairs per work unit of check 31 (one n-th power mod n)


def audit_statement(election_id: str, opening_hash: str, entry: dict[str, Any]) -> bytes:
    """The canonical JSON of the audit statement a voter's credential signs (protocol.md §14.2,
    record.md §2.1)."""
    return canonical_json({"type": AUDIT_TYPE, "election_id": election_id,
                           "opening": opening_hash, "contest": entry["contest"],
                           "pseudonym": entry["pseudonym"], "credential": entry["credential"],
                           "ballot_hash": entry["ballot_hash"], "seed": entry["seed"]})


def audit_entries(ctx: Context) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(seq, row, entry) of every well-formed audit entry (check 6), streamed."""
    assert ctx.entries is not None
    if not ctx.entries.audit_count:
        return
    for seq, row, e in board_entries(ctx):
        if e["kind"] == KIND_AUDIT:
            yield seq, row, e


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    return iter(lambda: list(itertools.islice(items, size)), [])


def _use_gmpy2() -> bool:
    return arith.BACKEND == "gmpy2"


# --- check 29 -------------------------------------------------------------------------------

def _bad_audit_signatures(ctx: Context, opening_hash: str) -> set[int]:
    """The seqs of audit entries whose signature does not verify over the audit statement."""
    assert ctx.election_id is not None and ctx.contests is not None
    election_id = ctx.election_id

    def statements() -> Iterator[tuple[int, bytes, str, bytes]]:
        for seq, _row, e in audit_entries(ctx):
            yield (seq, bytes.fromhex(e["credential"]), e["signature"],
                   audit_statement(election_id, opening_hash, e))

    bad: set[int] = set()
    for part in map_chunks(signature_chunk, _chunks(statements(), SIGNATURE_CHUNK),
                           ctx.options.processes):
        bad.update(part)
    return bad


def check_29_audits_open(ctx: Context) -> CheckResult:
    res = CheckResult(29, "audits.open")
    pins = opening(ctx)
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests),
                ("election id", ctx.election_id), ("election key", ctx.key),
                ("ballots", ctx.ballots), ("opening.json", pins)):
        return res
    assert ctx.entries is not None and ctx.contests is not None and ctx.election_id
    assert ctx.key is not None and ctx.ballots is not None and pins is not None
    index = ctx.record.ballot_lines
    assert index is not None  # ctx.ballots comes from it (check 7)
    entries, contests = ctx.entries, ctx.contests
    bad_signatures = _bad_audit_signatures(ctx, pins.hash)
    count = 0
    earlier = 0  # follow mode: audits opened in an earlier round, not opened again
    # found while the jobs are made — by the pool's feeder thread: reported after the pool
    early: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def jobs() -> Iterator[OpenJob]:
        nonlocal count, earlier
        for seq, row, e in audit_entries(ctx):
            count += 1
            item = {"file": ENTRIES, "seq": seq, "credential": e["credential"]}
            if seq in bad_signatures:
                early.append(("audits.signature", item, {}))
            contest = contests.get(e["contest"])
            if contest is None:
                early.append(("audits.unknown_contest", item, {"contest": e["contest"]}))
                continue
            number = ctx.ballots.get(seq) if ctx.ballots is not None else None
            if number is None:
                early.append(("audits.no_ballot", {**item, "file": BALLOTS}, {}))
                continue
            if index.line(number).ballot_hash != entries.ballot_hash(row):
                early.append(("audits.ballot_hash", {**item, "file": BALLOTS}, {}))
                continue
            if seq <= ctx.options.proofs_after:  # follow mode: opened in an earlier round
                earlier += 1                     # (record.md §3.3), the same bytes
                continue
            offset, length = index.span(number)
            yield OpenJob((seq,), bytes.fromhex(e["seed"]), contest.id,
                          f"{e['pseudonym']}/{e['credential']}", contest.size,
                          contest.max_selections, offset, length)

    opened = 0
    path, n = str(ctx.record.ballots_path), ctx.key.n
    chunks = ((path, n, ctx.election_id, chunk, _use_gmpy2())
              for chunk in _chunks(jobs(), OPEN_CHUNK))
    for part in map_chunks(open_chunk, chunks, ctx.options.processes, ordered=True):
        for v in part:
            if v.ok:
                opened += 1
                continue
            seq = v.key[0]
            row = entries.row(seq)
            assert row is not None
            item: dict[str, Any] = {"file": BALLOTS, "seq": seq,
                                    "credential": entries.credential(row),
                                    "contest": entries.contest(row)}
            contest = contests[entries.contest(row)]
            if v.where is not None and v.where.isdigit() and int(v.where) < contest.size:
                item["candidate"] = contest.candidates[int(v.where)].id
            res.fail("audits.not_open", item, reason=v.reason or "")
    for code, item, params in early:
        res.fail(code, item, **params)
    res.failures.sort(key=lambda f: f.item.get("seq", 0))  # stable: per seq in check order
    res.note("audits.summary", count=count, opened=opened + earlier)
    return res


# --- check 30 -------------------------------------------------------------------------------

def check_30_audits_not_counted(ctx: Context) -> CheckResult:
    res = CheckResult(30, "audits.not_counted")
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests),
                ("counted set", ctx.counted), ("counted set", ctx.counted_lists)):
        return res
    assert ctx.entries is not None and ctx.contests is not None
    assert ctx.counted is not None and ctx.counted_lists is not None
    entries = ctx.entries
    audits = SeqSet()
    for seq, row in entries.items():
        if entries.is_audit(row):
            audits.add(seq)
    counted = SeqSet()
    for cid in ctx.contests:
        for seq in ctx.counted.get(cid, ()):
            if seq in audits:
                counted.add(seq)
                res.fail("audits.counted", {"file": COUNTED, "contest": cid, "seq": seq})
    excluded = SeqSet()
    path = ctx.record.root / COUNTED
    for cid, lists in ctx.counted_lists.items():
        for seq, _pseudonym, reason in counted_file.listed(path, lists.excluded, True):
            found = entries.row(seq)
            if seq not in audits or found is None or entries.contest(found) != cid:
                continue
            excluded.add(seq)
            if reason != AUDITED:
                res.fail("audits.reason", {"file": COUNTED, "contest": cid, "seq": seq},
                         found=reason)
    for seq, row in entries.items():
        if entries.is_audit(row) and seq not in excluded and seq not in counted:
            res.fail("audits.not_excluded", {"file": COUNTED, "contest": entries.contest(row),
                                             "seq": seq})
    res.note("audits.excluded", count=entries.audit_count)
    return res


# --- check 31 -------------------------------------------------------------------------------

def _carried_seeds(ctx: Context, res: CheckResult) -> None:
    """Fail for every ``seed`` key outside an audit entry: in a ballot entry (or a malformed
    entry that is not an audit), a board/ballots.jsonl line (found by the loading scan), or any
    other object of the record the verifier holds.  The streamed tally/counted.json and
    credentials.json are left to their exact keys (checks 11 and 18)."""
    for number, raw in iter_lines(ctx.record.root / ENTRIES) if ctx.record.has(ENTRIES) else ():
        if b"seed" not in raw and b"\\u" not in raw:  # a key "seed" is spelt so, or escaped
            continue
        e = PLAIN_DECODER.decode(raw.decode("utf-8"))  # parsed strictly at load
        if isinstance(e, dict) and e.get("kind") == KIND_AUDIT:
            e = {k: v for k, v in e.items() if k != SEED_FIELD}
        for where in key_paths(e, SEED_FIELD):
            item: dict[str, Any] = {"file": ENTRIES, "line": number}
            if isinstance(e, dict) and type(e.get("seq")) is int:
                item["seq"] = e["seq"]
            res.fail("seeds.field", item, field=where)
    index = ctx.record.ballot_lines
    for number, paths in index.seed_fields() if index is not None else ():
        for where in paths:
            res.fail("seeds.field", {"file": BALLOTS, "line": number}, field=where)
    for rel, obj in sorted(ctx.record.json.items()):
        for where in key_paths(obj, SEED_FIELD):
            res.fail("seeds.field", {"file": rel}, field=where)
    for rel, lines in sorted(ctx.record.lines.items()):
        for line in lines:
            for where in key_paths(line.value, SEED_FIELD):
                res.fail("seeds.field", {"file": rel, "line": line.number}, field=where)


def check_31_audits_seeds_secret(ctx: Context) -> CheckResult:
    res = CheckResult(31, "audits.seeds_secret")
    _carried_seeds(ctx, res)
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests),
                ("election id", ctx.election_id), ("election key", ctx.key),
                ("ballots", ctx.ballots), ("counted set", ctx.counted)):
        return res
    assert ctx.entries is not None and ctx.contests is not None and ctx.election_id
    assert ctx.key is not None and ctx.ballots is not None and ctx.counted is not None
    entries, contests, ballots = ctx.entries, ctx.contests, ctx.ballots
    index = ctx.record.ballot_lines
    assert index is not None
    # credential → its counted ballot's row (a second one of the same credential, which
    # check 11 refuses, on the side)
    counted_of = RowMap(entries.credential_key)
    more: dict[bytes | str, list[int]] = {}
    if entries.audit_count:
        for cid in contests:
            for seq in ctx.counted.get(cid, ()):
                row = entries.row(seq)
                if row is None:
                    continue  # check 11 names it
                first = counted_of.setdefault(entries.credential_key(row), row)
                if first != row:
                    more.setdefault(entries.credential_key(row), []).append(row)
    pairs = 0

    def jobs() -> Iterator[OpenJob]:
        nonlocal pairs
        for seq, row, e in audit_entries(ctx):
            key = entries.credential_key(row)
            first = counted_of.get(key)
            rows = ([first] if first is not None else []) + more.get(key, [])
            for counted_row in rows:
                counted_seq = entries.seq(counted_row)
                contest = contests.get(entries.contest(counted_row))
                number = ballots.get(counted_seq)
                if contest is None or number is None:
                    continue  # checks 7 and 11 name it
                pairs += 1
                offset, length = index.span(number)
                party = f"{entries.pseudonym(counted_row)}/{entries.credential(counted_row)}"
                yield OpenJob((seq, counted_seq), bytes.fromhex(e["seed"]), contest.id,
                              party, contest.size, contest.max_selections, offset, length,
                              first_only=True)

    path, n = str(ctx.record.ballots_path), ctx.key.n
    chunks = ((path, n, ctx.election_id, chunk, _use_gmpy2())
              for chunk in _chunks(jobs(), TEST_CHUNK))
    for part in map_chunks(open_chunk, chunks, ctx.options.processes, ordered=True):
        for v in part:
            if v.ok:
                _opens_counted(ctx, res, v)
    res.note("seeds.tested", audits=entries.audit_count, pairs=pairs)
    return res


def _opens_counted(ctx: Context, res: CheckResult, v: OpenVerdict) -> None:
    assert ctx.entries is not None
    audit_seq, counted_seq = v.key
    row = ctx.entries.row(audit_seq)
    assert row is not None
    res.fail("seeds.opens_counted", {"file": ENTRIES, "seq": audit_seq,
                                     "credential": ctx.entries.credential(row)},
             counted=counted_seq)
