"""Checks 11–13, 23 and 28 (docs/record.md §5): the counted set, the encrypted tally as the
product of the counted ballots, the trustees' decryption shares, the turnout against the
credential list, and the trustees' signatures of their share files (§4.3)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator

from verifier import arith, counted as counted_file
from verifier.checks.context import CheckResult, Context, missing, record_json
from verifier.checks.pins import credential_list, revoked_credentials
from verifier.encoding import expect_list, expect_object, expect_str, parse_count, parse_hex_int
from verifier.errors import InvalidInput
from verifier.parallel import map_chunks
from verifier.record import COUNTED, ENCRYPTED_TALLY, read_line
from verifier.signatures import signature_valid
from verifier.tables import EntryTable, IntColumn, RowMap, SeqMap, SeqSet
from verifier.threshold import (parse_decryption_share, signing_key_usable,
                                verify_decryption_share)


REASONS = ("", "counted", "superseded", "paper-vote", "invalid", "revoked", "audited")
AUDITED = 6  # the code of "audited" in REASONS


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


def _expected_dispositions(ctx: Context, contest_id: str,
                           revoked: set[bytes]) -> Dispositions:
    """The expected disposition of every entry of the contest (§4.1): ``audited`` for an audit
    entry whatever else applies; for a cast ballot ``revoked`` first, then ``paper-vote``, then
    ``superseded`` — read backwards, a ballot whose voter (its credential) casts again later
    (audits are not ballots: they supersede nothing) — then ``invalid``.  Only the rows of the
    credentials seen are held."""
    assert ctx.entries is not None and ctx.overrides is not None and ctx.verdicts is not None
    entries = ctx.entries
    codes = bytearray(len(entries))
    wanted = entries.contest_index(contest_id)
    later = RowMap(entries.credential_key)  # the credentials seen (rows), not held as keys
    for seq, row in entries.items(reverse=True) if wanted is not None else ():
        if entries.contest_id(row) != wanted:
            continue
        if entries.is_audit(row):
            codes[row] = AUDITED
            continue
        key = entries.credential_key(row)
        if key in revoked:
            codes[row] = 5  # revoked
        elif entries.pseudonym(row) in ctx.overrides:
            codes[row] = 3  # paper-vote
        elif later.get(key) is not None:
            codes[row] = 2  # superseded
        elif seq not in ctx.verdicts:
            codes[row] = 4  # invalid
        else:
            codes[row] = 1  # counted
        later.put(key, row)
    return Dispositions(entries, codes)


def check_11_tally_counted_set(ctx: Context) -> CheckResult:
    res = CheckResult(11, "tally.counted_set")
    path = ctx.record.root / COUNTED
    present = True if ctx.record.has(COUNTED) and not counted_file.is_null(path) else None
    if missing(res, (COUNTED, present), ("manifest contests", ctx.contests),
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
    ctx.counted_lists = parsed
    total_counted = 0
    revoked = revoked_credentials(ctx)
    for cid in ctx.contests:
        shape = parsed[cid]
        expected = _expected_dispositions(ctx, cid, revoked)
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
    obj = record_json(ctx, ENCRYPTED_TALLY)
    if missing(res, (ENCRYPTED_TALLY, obj), ("manifest contests", ctx.contests),
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


SHARES_TYPE = "ssbvote-decryption-shares"
SHARE_FILE_KEYS = ("type", "election_id", "trustee", "index", "tally", "contests", "signature")

#: (message code, item, params) of a share file's failures of check 28
Problem = tuple[str, dict[str, Any], dict[str, Any]]


def share_signature_problems(ctx: Context) -> dict[int, list[Problem]] | None:
    """Per share file (by the index of its name), what fails check 28 (docs/record.md §4.3,
    §5): the type, the record's election id, ``tally`` = SHA-256 of
    tally/encrypted_tally.json, and the signature by the signing key of the trustee the file
    names (index and name).  Computed once: check 13 counts a file that fails as shares that
    do not verify (and so does 14, through check 13's valid shares); check 28 reports it.
    None when the election key or the election id is missing."""
    if "share_signatures" in ctx.loaded:
        found: dict[int, list[Problem]] | None = ctx.loaded["share_signatures"]
        return found
    key, eid = ctx.key, ctx.election_id
    out: dict[int, list[Problem]] | None = None
    if key is not None and eid is not None:
        out = {}
        tally_hash = (ctx.record.sha256(ENCRYPTED_TALLY) if ctx.record.has(ENCRYPTED_TALLY)
                      else None)
        for index, rel in ctx.record.share_files().items():
            obj = ctx.record.json[rel]
            item: dict[str, Any] = {"file": rel, "trustee": index}
            problems: list[Problem] = []
            out[index] = problems
            try:
                expect_object(obj, SHARE_FILE_KEYS, "decryption shares")
                named = parse_count(obj["index"], "decryption shares.index", 1)
                name = expect_str(obj["trustee"], "decryption shares.trustee")
            except InvalidInput as exc:
                problems.append(("share_signatures.shape", item, {"error": str(exc)}))
                continue
            if obj["type"] != SHARES_TYPE:
                problems.append(("share_signatures.type", item, {"found": str(obj["type"])}))
            if obj["election_id"] != eid:
                problems.append(("share_signatures.election_id", item,
                                 {"found": str(obj["election_id"])}))
            if obj["tally"] != tally_hash:
                problems.append(("share_signatures.tally", item,
                                 {"found": str(obj["tally"]), "expected": tally_hash}))
            trustee = key.trustee(named)
            if trustee is None or trustee.name != name:
                problems.append(("share_signatures.unknown_trustee", item, {"index": named}))
                continue
            if not signing_key_usable(trustee.signing_key):
                problems.append(("share_signatures.bad_key", item, {"index": named}))
                continue
            if not signature_valid(obj, bytes.fromhex(trustee.signing_key)):
                signer = next((t.index for t in key.trustees
                               if t.index != named and signing_key_usable(t.signing_key)
                               and signature_valid(obj, bytes.fromhex(t.signing_key))), None)
                if signer is not None:
                    problems.append(("share_signatures.signed_by", item,
                                     {"index": named, "signer": signer}))
                else:
                    problems.append(("share_signatures.invalid", item, {"index": named}))
    ctx.loaded["share_signatures"] = out
    return out


def check_28_tally_share_signatures(ctx: Context) -> CheckResult:
    res = CheckResult(28, "tally.share_signatures")
    problems = share_signature_problems(ctx)
    if missing(res, ("election key", ctx.key), ("election id", ctx.election_id)):
        return res
    assert problems is not None
    for found in problems.values():
        for code, item, params in found:
            res.fail(code, item, **params)
    res.note("share_signatures.files", trustees=[i for i, p in problems.items() if not p])
    return res


def check_13_tally_decryption_shares(ctx: Context) -> CheckResult:
    res = CheckResult(13, "tally.decryption_shares")
    if missing(res, ("election key", ctx.key), ("encrypted tally", ctx.tally),
                ("election id", ctx.election_id), ("manifest contests", ctx.contests)):
        return res
    assert ctx.key and ctx.tally is not None and ctx.election_id and ctx.contests
    valid: dict[int, dict[str, tuple[int, ...]]] = {}
    unsigned = share_signature_problems(ctx) or {}
    for index, rel in ctx.record.share_files().items():
        obj = ctx.record.json[rel]
        item: dict[str, Any] = {"file": rel, "trustee": index}
        try:
            expect_object(obj, SHARE_FILE_KEYS, "decryption shares")
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
        if unsigned.get(index):  # docs/record.md §5: for checks 13–14, shares that do not verify
            res.fail("shares.unsigned", item)
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
        if len(mine) == len(ctx.contests) and trustee.name == name and not unsigned.get(index):
            valid[index] = mine
    ctx.valid_shares = valid
    res.note("shares.valid", trustees=sorted(valid))
    return res


def check_23_tally_turnout(ctx: Context) -> CheckResult:
    res = CheckResult(23, "tally.turnout")
    lst = credential_list(ctx)
    voters = lst.contests if lst is not None else None
    if missing(res, ("manifest contests", ctx.contests), ("credentials.json", voters)):
        return res
    assert ctx.contests is not None and voters is not None
    for cid in ctx.contests:
        item = {"file": COUNTED, "contest": cid}
        listed = voters.get(cid, ())  # version 4: per contest; none issued: nobody may vote
        counts = []  # the counted list's length (11), the encrypted tally's count (12)
        if ctx.counted is not None and cid in ctx.counted:
            counts.append(len(ctx.counted[cid]))
        if ctx.tally_counts is not None and cid in ctx.tally_counts:
            counts.append(ctx.tally_counts[cid])
        if not counts:
            res.fail("dependency", input="counted set")
            continue
        number = max(counts)
        if number > len(listed):
            res.fail("turnout.exceeds", item, counted=number, credentials=len(listed))
        res.note("turnout.contest", contest=cid, counted=number, credentials=len(listed),
                 percent=round(100 * number / len(listed), 2) if len(listed) else 0)
    return res
