"""Checks 18 and 19 (docs/record.md §5, §6; docs/protocol.md §13): the credential authority's
list and revocations, and the voters' signatures on the board.

Check 19 reads board/entries.jsonl twice more (streamed): once to verify one Ed25519 signature
per cast ballot (~0.1–0.2 ms each, in chunks across the worker pool; an audit entry's signature
is check 29's), once for the rules per voter, holding the last cast ballot and the first entry
of each credential and the first entry of each pseudonym (:class:`~verifier.tables.RowMap`:
~16 bytes per voter each, dropped at the end of the check).  Audit entries count for the
contest and the one-pseudonym rules, not for the ``previous`` chain (record.md §2.1).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

from verifier.checks.board import KIND_BALLOT, board_entries
from verifier.checks.context import CheckResult, Context, missing
from verifier.checks.pins import (CREDENTIALS_KEYS, CREDENTIALS_TYPE, KEY_RE, LISTS,
                                  REVOCATION_KEYS, REVOCATION_TYPE, CredentialList, credential_list,
                                  credentials_body, opening, revocations)
from verifier.encoding import canonical_json, expect_object, expect_str
from verifier.errors import InvalidInput
from verifier.parallel import map_chunks
from verifier.record import CREDENTIALS, ENTRIES, REVOCATIONS
from verifier.signatures import signature_valid, verify_bytes
from verifier.tables import KeySet, RowMap

BALLOT_TYPE = "ssbvote-ballot"  # the "type" of a voter's signed ballot statement (protocol.md §13.3)
SIGNATURE_CHUNK = 1024  # ballot signatures per work unit of check 19


@dataclass
class Voters:
    """Who may sign a ballot of each contest (version 4, §6.2–§6.3): the CA's per-contest lists
    and the replacements issued by its revocations, each in the contest it names."""

    lists: dict[str, KeySet]
    replacements: dict[str, set[bytes]] = field(default_factory=dict)
    replaced: dict[bytes, bytes] = field(default_factory=dict)  # replacement → the revoked

    def member(self, credential: bytes, contest: str) -> bool:
        listed = self.lists.get(contest)
        return ((listed is not None and credential in listed)
                or credential in self.replacements.get(contest, ()))

    def contest_of(self, credential: bytes) -> str | None:
        """The contest whose list (or replacements) holds ``credential``, if any (the first by
        name: check 18 says when there are two)."""
        for name in sorted(set(self.lists) | set(self.replacements)):
            if self.member(credential, name):
                return name
        return None

    def size(self, contest: str) -> int:
        """The credentials that may vote in ``contest``: its list and its replacements."""
        return len(self.lists.get(contest, ())) + len(self.replacements.get(contest, ()))

    def root(self, credential: bytes) -> bytes:
        """The voter's first credential: follow the revocations back (replacements are new, so
        there is no cycle when check 18 passes; bounded anyway)."""
        for _ in range(len(self.replaced) + 1):
            earlier = self.replaced.get(credential)
            if earlier is None:
                break
            credential = earlier
        return credential


def voters(ctx: Context) -> Voters | None:
    """The per-contest credentials of the record (None without a usable credential list)."""
    lst = credential_list(ctx)
    if lst is None or lst.contests is None:
        return None
    out = Voters(lst.contests)
    for r in revocations(ctx):
        if r.replacement is not None:
            out.replacements.setdefault(r.contest, set()).add(r.replacement)
            out.replaced.setdefault(r.replacement, r.revoked)
    return out


# --- check 18 ---------------------------------------------------------------------------------

def shared_credentials(lists: dict[str, KeySet]) -> Iterator[tuple[bytes, list[str]]]:
    """(credential, the contests listing it) for every credential in two or more lists (a
    credential twice in one list is a sorting problem, reported apart).  The lists are taken
    1/256 at a time (the keys of one first byte: a slice of each sorted list), compared as sets:
    ~1/256 of the credentials held at once, the work in C (record.md §5, memory note)."""
    names = sorted(lists)
    for first_byte in range(256):
        union: set[bytes] = set()
        shared: set[bytes] = set()
        parts: dict[str, set[bytes]] = {}
        for name in names:
            keys = parts[name] = set(lists[name].starting_with(first_byte))
            shared |= union & keys
            union |= keys
        for key in sorted(shared):
            yield key, [name for name in names if key in parts[name]]


def _check_list(ctx: Context, res: CheckResult, lst: CredentialList, ca: bytes | None) -> None:
    item = {"file": CREDENTIALS}
    try:
        expect_object({**lst.fields, **({LISTS: None} if lst.contests is not None
                                         or LISTS in lst.fields else {})},
                      CREDENTIALS_KEYS, "credentials")
        if lst.fields["type"] != CREDENTIALS_TYPE:
            raise InvalidInput(f"credentials.type: not {CREDENTIALS_TYPE}")
        expect_str(lst.fields["at"], "credentials.at")
        if lst.contests is None:
            raise InvalidInput("credentials.contests: not an object")
    except InvalidInput as exc:
        res.fail("credentials.shape", item, error=str(exc))
    if lst.fields.get("election_id") != ctx.election_id:
        res.fail("credentials.election_id", item)
    for message, contest in lst.problems:
        res.fail("credentials.shape", {**item, "contest": contest}, error=message)
    if lst.contests is not None and ctx.contests is not None:
        # the CA issues per roll: a contest it issued nothing for is absent (record.md §6.2)
        wanted = set(ctx.contests)
        if not lst.contests or not set(lst.contests) <= wanted:
            res.fail("credentials.contests", item, found=", ".join(sorted(lst.contests)),
                     expected=", ".join(sorted(wanted)))
    if lst.contests is not None:
        for key, names in shared_credentials(lst.contests):
            res.fail("credentials.two_contests", {**item, "credential": key.hex()},
                     contests=", ".join(names))
    if ca is not None and not verify_bytes(ca, lst.fields.get("signature"),
                                           credentials_body(ctx, lst)):
        res.fail("credentials.signature", item)


def _check_revocations(ctx: Context, res: CheckResult, lst: CredentialList | None,
                       ca: bytes | None) -> int:
    lists = (lst.contests if lst is not None and lst.contests is not None else {})
    revoked: set[bytes] = set()
    replacements: dict[str, set[bytes]] = {}
    count = 0
    for line in ctx.record.jsonl(REVOCATIONS):
        count += 1
        r = line.value
        item: dict[str, Any] = {"file": REVOCATIONS, "line": line.number}
        try:
            expect_object(r, REVOCATION_KEYS, "revocation")
            if r["type"] != REVOCATION_TYPE:
                raise InvalidInput(f"revocation.type: not {REVOCATION_TYPE}")
            contest = expect_str(r["contest"], "revocation.contest")
            for k in ("revoked", "replacement"):
                if (k == "revoked" or r[k] is not None) and not (
                        isinstance(r[k], str) and KEY_RE.match(r[k])):
                    raise InvalidInput(f"revocation.{k}: not 64 lowercase hex digits")
            expect_str(r["at"], "revocation.at")
        except InvalidInput as exc:
            res.fail("revocations.shape", item, error=str(exc))
            continue
        old = bytes.fromhex(r["revoked"])
        new = bytes.fromhex(r["replacement"]) if r["replacement"] is not None else None
        item["credential"] = r["revoked"]
        if r["election_id"] != ctx.election_id:
            res.fail("revocations.election_id", item)
        if ca is not None and not signature_valid(r, ca):
            res.fail("revocations.signature", item)
        if contest not in lists:
            res.fail("revocations.contest", item, contest=contest)
        live = ((contest in lists and old in lists[contest])
                or old in replacements.get(contest, ()))
        if not live or old in revoked:
            res.fail("revocations.not_live", item, contest=contest)
        if new is not None:
            seen = (any(new in keys for keys in lists.values()) or new in revoked
                    or any(new in keys for keys in replacements.values()) or new == old)
            if seen:
                res.fail("revocations.not_new", item, replacement=r["replacement"])
            replacements.setdefault(contest, set()).add(new)
        revoked.add(old)
    return count


def check_18_credentials_list(ctx: Context) -> CheckResult:
    res = CheckResult(18, "credentials.list")
    pins = opening(ctx)
    ca = pins.ca_key if pins is not None else None
    if ca is None:  # the signatures cannot be checked; the rest can
        res.fail("dependency", input="the pinned CA key (opening.json ca_key)")
    lst = credential_list(ctx)
    if lst is None:
        if ctx.record.has(CREDENTIALS):
            res.fail("credentials.shape", {"file": CREDENTIALS}, error="not an object")
        else:
            res.fail("dependency", input=CREDENTIALS)
    else:
        _check_list(ctx, res, lst, ca)
    count = _check_revocations(ctx, res, lst, ca)
    if lst is not None and lst.contests is not None:
        for name in sorted(lst.contests):
            res.note("credentials.count", contest=name, count=len(lst.contests[name]))
    res.note("revocations.count", count=count)
    return res


# --- check 19 ---------------------------------------------------------------------------------

def ballot_statement(election_id: str, opening_hash: str, entry: dict[str, Any]) -> bytes:
    """The canonical JSON of the ballot statement a voter's credential signs (protocol.md §13.3)."""
    return canonical_json({"type": BALLOT_TYPE, "election_id": election_id,
                           "opening": opening_hash, "contest": entry["contest"],
                           "pseudonym": entry["pseudonym"], "credential": entry["credential"],
                           "previous": entry["previous"], "ballot_hash": entry["ballot_hash"]})


def signature_chunk(items: list[tuple[int, bytes, str, bytes]]) -> list[int]:
    """Pool worker for check 19: the seqs of ``(seq, credential, signature, statement)``
    whose signature does not verify."""
    return [seq for seq, key, signature, statement in items
            if not verify_bytes(key, signature, statement)]


def _bad_signatures(ctx: Context, opening_hash: str) -> set[int]:
    """The seqs whose ballot signature does not verify (protocol.md §13.3), verified across the pool."""
    assert ctx.contests is not None and ctx.election_id is not None
    election_id, contests = ctx.election_id, ctx.contests

    def statements() -> Iterator[tuple[int, bytes, str, bytes]]:
        for seq, _row, e in board_entries(ctx):
            if e["contest"] in contests and e["kind"] == KIND_BALLOT:  # audits: check 29
                yield (seq, bytes.fromhex(e["credential"]), e["signature"],
                       ballot_statement(election_id, opening_hash, e))

    it = statements()
    chunks = iter(lambda: list(itertools.islice(it, SIGNATURE_CHUNK)), [])
    bad: set[int] = set()
    for part in map_chunks(signature_chunk, chunks, ctx.options.processes):
        bad.update(part)
    return bad


def check_19_board_signatures(ctx: Context) -> CheckResult:
    res = CheckResult(19, "board.signatures")
    pins = opening(ctx)
    who = voters(ctx)
    if missing(res, ("board entries", ctx.entries), ("manifest contests", ctx.contests),
                ("election id", ctx.election_id), ("opening.json", pins),
                ("credentials.json", who)):
        return res
    assert ctx.entries is not None and ctx.contests is not None and ctx.election_id
    assert pins is not None and who is not None
    entries = ctx.entries
    bad = _bad_signatures(ctx, pins.hash)
    last_of_credential = RowMap(entries.credential_key)  # its last cast ballot so far
    first_of_credential = RowMap(entries.credential_key)  # its first entry, of either kind
    first_of_pseudonym = RowMap(entries.pseudonym_key)  # its first entry
    signed = 0
    for seq, row, e in board_entries(ctx):
        contest = ctx.contests.get(e["contest"])
        if contest is None:
            continue  # board.ballots names it
        credential = bytes.fromhex(e["credential"])  # check 6: 64 lowercase hex
        item = {"file": ENTRIES, "seq": seq, "credential": e["credential"]}
        if not who.member(credential, contest.id):
            # version 4: the credential must be of the very contest the CA routed its voter
            # to (record.md §6.2) — a ballot moved to another contest fails here
            other = who.contest_of(credential)
            if other is None:
                res.fail("signatures.unknown_credential", item, contest=contest.id)
            else:
                res.fail("signatures.other_contest", item, contest=contest.id, other=other)
        key = entries.credential_key(row)
        first = first_of_credential.setdefault(key, row)
        if entries.pseudonym_key(first) != entries.pseudonym_key(row):
            res.fail("signatures.credential_pseudonyms", item,
                     pseudonym=e["pseudonym"], other=entries.pseudonym(first))
        if e["kind"] == KIND_BALLOT:
            # an audit's signature is over the audit statement (check 29) and an audit is not
            # part of its credential's chain of ballots (docs/record.md §2.1, §2.2)
            if seq in bad:
                res.fail("signatures.invalid", item)
            else:
                signed += 1
            last = last_of_credential.get(key)
            expected = "" if last is None else entries.ballot_hash(last)
            if e["previous"] != expected:
                res.fail("signatures.chain", item, found=e["previous"] or "—",
                         expected=expected or "—",
                         last=entries.seq(last) if last is not None else "—")
            last_of_credential.put(key, row)
        first_voter = first_of_pseudonym.setdefault(entries.pseudonym_key(row), row)
        if first_voter != row:
            theirs = entries.credential_key(first_voter)
            if (isinstance(theirs, bytes)
                    and who.root(theirs) != who.root(credential)):
                res.fail("signatures.pseudonym_credentials", item, pseudonym=e["pseudonym"],
                         other=entries.credential(first_voter))
    res.note("signatures.count", count=signed, credentials=len(last_of_credential))
    return res
