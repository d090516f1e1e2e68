"""A small hand-built version-4 record for the checks that need no ballot (3, 6, 8, 10, 11 with
given verdicts, 17–23) and for voter mode — written from docs/record.md §2, §4, §6 directly
with ``cryptography``, independently of the producer code, so that the verifier's reading of
the spec is checked against a second writing of it.

The record has no ballots (board/ballots.jsonl is empty) and a dummy election key: checks 4, 5,
7, 9, 12–16 and 39–40 are not meant to pass on it.

Version 4 (issue 21): the credential list and the revocations are per contest (record.md
§6.2–§6.3); ``Mini(manifest_doc=sections_manifest())`` writes a format-2 manifest with several
contests per electorate (docs/manifest.md §4), each voter in the contest of its ``contest``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.checks import CHECKS, CheckResult, Context, Options
from verifier.record import load_record
from verifier.tables import SeqSet

OPENS = "2026-12-20T08:00:00+07:00"  # 01:00 UTC
CLOSES = "2026-12-20T20:00:00+07:00"  # 13:00 UTC


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


def pub(k: Ed25519PrivateKey) -> str:
    return k.public_key().public_bytes_raw().hex()


def sign(obj: dict[str, Any], k: Ed25519PrivateKey) -> dict[str, Any]:
    body = {x: v for x, v in obj.items() if x != "signature"}
    return {**body, "signature": k.sign(canonical(body)).hex()}


def manifest() -> dict[str, Any]:
    def text(s: str) -> dict[str, str]:
        return {"th": s + " (th)", "en": s}

    def contest(cid: str, prefix: str) -> dict[str, Any]:
        return {"id": cid, "electorate": cid, "max_selections": 1, "title": text(cid),
                "teams": [], "candidates": [{"id": f"{prefix}00{i}", "number": i,
                                             "name": text(f"{prefix}{i}"), "team": None}
                                            for i in (1, 2)]}
    return {"format": "ssbvote-manifest/1", "election": "mini", "title": text("Mini"),
            "poll_window": {"opens": OPENS, "closes": CLOSES},
            "contests": [contest("insured", "I"), contest("employer", "E")]}


def sections_manifest() -> dict[str, Any]:
    """A format-2 manifest (docs/manifest.md §4.5): the insured routed by ``section`` to
    insured-33 / insured-39 / insured-40 (one vote, several seats), one employer contest."""
    def text(s: str) -> dict[str, str]:
        return {"th": s + " (th)", "en": s}

    def contest(cid: str, electorate: str, prefix: str, section: str | None) -> dict[str, Any]:
        c: dict[str, Any] = {
            "id": cid, "electorate": electorate, "max_selections": 1, "seats": 2,
            "title": text(cid), "teams": [],
            "candidates": [{"id": f"{prefix}{i}", "number": i, "name": text(f"{prefix}{i}"),
                            "team": None} for i in (1, 2, 3)]}
        if section is not None:
            c["eligibility"] = {"section": [section]}
        return c
    return {"format": "ssbvote-manifest/2", "election": "mini-sections",
            "title": text("Mini sections"), "poll_window": {"opens": OPENS, "closes": CLOSES},
            "roll_attributes": {"insured": [{"name": "section", "title": text("Section"),
                                             "values": ["33", "39", "40"]}]},
            "contests": [contest("insured-33", "insured", "A", "33"),
                         contest("insured-39", "insured", "B", "39"),
                         contest("insured-40", "insured", "C", "40"),
                         contest("employer", "employer", "E", None)]}


ELECTION_ID = sha(canonical(manifest()))


@dataclass
class Voter:
    electorate: str
    pseudonym: str
    key: Ed25519PrivateKey
    contest: str = ""  # the contest the voter is routed to ("": the electorate's, format 1)

    def __post_init__(self) -> None:
        self.contest = self.contest or self.electorate

    @property
    def credential(self) -> str:
        return pub(self.key)


@dataclass
class Mini:
    """The inputs of a mini record; :meth:`write` writes it.  Tests change the inputs (or the
    written files) to tamper."""

    root: Path
    board: Ed25519PrivateKey = field(default_factory=lambda: key("board"))
    ca: Ed25519PrivateKey = field(default_factory=lambda: key("ca"))
    officials: dict[str, Ed25519PrivateKey] = field(default_factory=lambda: {
        "alice": key("alice"), "bob": key("bob"), "carol": key("carol")})
    voters: list[Voter] = field(default_factory=list)
    #: (voter index, cast_at) in board order; the ballot hash is derived from the seq
    casts: list[tuple[int, str]] = field(default_factory=list)
    paper: list[int] = field(default_factory=list)  # voter indexes who voted on paper
    #: (voter index, replacement key or None): revocations, in order
    revoked: list[tuple[int, Ed25519PrivateKey | None]] = field(default_factory=list)
    #: seq → the voter index whose replacement credential casts it (after a revocation)
    replaced_casts: dict[int, Ed25519PrivateKey] = field(default_factory=dict)
    #: witness name → key, pinned in the opening (record.md §2.0, §3.5)
    witnesses: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    #: the seqs of ``casts`` that are audits (docs/record.md §2.1: kind "audit", a seed, the
    #: audit statement signed; not in the credential's ``previous`` chain; never counted)
    audits: set[int] = field(default_factory=set)
    #: the manifest (default: :func:`manifest`, format 1 with contests insured and employer)
    manifest_doc: dict[str, Any] = field(default_factory=manifest)

    def __post_init__(self) -> None:
        if not self.voters:
            sections = [c["id"] for c in self.manifest_doc["contests"]
                        if c["electorate"] == "insured"]
            employer = next(c["id"] for c in self.manifest_doc["contests"]
                            if c["electorate"] == "employer")
            for i in range(4):
                self.voters.append(Voter("insured", f"{i:032x}", key(f"insured-{i}"),
                                         sections[i % len(sections)]))
            for i in range(2):
                self.voters.append(Voter("employer", f"{100 + i:032x}", key(f"employer-{i}"),
                                         employer))
        if not self.casts:
            self.casts = [(0, "2026-12-20T01:00:01.000000Z"), (1, "2026-12-20T02:00:00.000000Z"),
                          (4, "2026-12-20T02:30:00.000000Z"), (0, "2026-12-20T03:00:00.000000Z"),
                          (2, "2026-12-20T04:00:00.000000Z"), (5, "2026-12-20T05:00:00.000000Z"),
                          (0, "2026-12-20T06:00:00.000000Z"), (3, "2026-12-20T07:00:00.000000Z")]
        if not self.paper:
            self.paper = [2]

    @property
    def election_id(self) -> str:
        return sha(canonical(self.manifest_doc))

    @property
    def contest_ids(self) -> list[str]:
        return [c["id"] for c in self.manifest_doc["contests"]]

    def path(self, rel: str) -> Path:
        return self.root / rel

    def credentials(self) -> dict[str, Any]:
        """Version 4 (record.md §6.2): one list per contest the CA issued for."""
        lists: dict[str, list[str]] = {}
        for v in self.voters:
            lists.setdefault(v.contest, []).append(v.credential)
        return sign({"type": "ssbvote-credentials", "election_id": self.election_id,
                     "at": "2026-12-01T00:00:00.000000Z",
                     "contests": {e: sorted(c) for e, c in lists.items()}}, self.ca)

    def revocations(self) -> list[dict[str, Any]]:
        return [sign({"type": "ssbvote-revocation", "election_id": self.election_id,
                      "contest": self.voters[i].contest,
                      "revoked": self.voters[i].credential,
                      "replacement": pub(new) if new is not None else None,
                      "at": "2026-12-20T01:30:00.000000Z"}, self.ca)
                for i, new in self.revoked]

    def opening(self) -> dict[str, Any]:
        return sign({"type": "ssbvote-opening", "election_id": self.election_id,
                     "election_key": sha(self.path("election_key.json").read_bytes()),
                     "board_key": pub(self.board), "ca_key": pub(self.ca),
                     "credentials": sha(self.path("credentials.json").read_bytes()),
                     "officials": [{"username": u, "public_key": pub(k)}
                                   for u, k in sorted(self.officials.items())],
                     "witnesses": [{"name": n, "public_key": pub(k)}
                                   for n, k in sorted(self.witnesses.items())],
                     "at": "2026-12-20T00:59:00.000000Z"}, self.ca)

    def entries(self, opening_hash: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        last: dict[str, str] = {}
        prev = self.election_id
        for seq, (i, at) in enumerate(self.casts, start=1):
            v = self.voters[i]
            signer = self.replaced_casts.get(seq, v.key)
            credential = pub(signer)
            ballot_hash = sha(f"ballot {seq}".encode())
            e: dict[str, Any] = {"seq": seq, "election_id": self.election_id,
                                 "pseudonym": v.pseudonym, "contest": v.contest,
                                 "credential": credential, "ballot_hash": ballot_hash,
                                 "cast_at": at}
            if seq in self.audits:
                e.update(kind="audit", seed=sha(f"seed {seq}".encode()))
                e["signature"] = signer.sign(self.audit_statement(e, opening_hash)).hex()
            else:
                e.update(kind="ballot", previous=last.get(credential, ""))
                e["signature"] = signer.sign(self.ballot_statement(e, opening_hash)).hex()
                last[credential] = ballot_hash
            e["prev_hash"] = prev
            e["entry_hash"] = sha(canonical(e))
            prev = e["entry_hash"]
            out.append(e)
        return out

    def ballot_statement(self, e: dict[str, Any], opening_hash: str) -> bytes:
        return canonical({"type": "ssbvote-ballot", "election_id": self.election_id,
                          "opening": opening_hash, "contest": e["contest"],
                          "pseudonym": e["pseudonym"], "credential": e["credential"],
                          "previous": e["previous"], "ballot_hash": e["ballot_hash"]})

    def audit_statement(self, e: dict[str, Any], opening_hash: str) -> bytes:
        return canonical({"type": "ssbvote-audit", "election_id": self.election_id,
                          "opening": opening_hash, "contest": e["contest"],
                          "pseudonym": e["pseudonym"], "credential": e["credential"],
                          "ballot_hash": e["ballot_hash"], "seed": e["seed"]})

    def counted(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        revoked = {self.voters[i].credential for i, _ in self.revoked}
        paper = {self.voters[i].pseudonym for i in self.paper}
        contests: dict[str, Any] = {cid: {"counted": [], "excluded": []}
                                    for cid in self.contest_ids}
        later: set[str] = set()
        for e in reversed(entries):
            c = contests[e["contest"]]
            x = {"pseudonym": e["pseudonym"], "seq": e["seq"]}
            if e["kind"] == "audit":
                c["excluded"].append({**x, "reason": "audited"})
                continue
            if e["credential"] in revoked:
                c["excluded"].append({**x, "reason": "revoked"})
            elif e["pseudonym"] in paper:
                c["excluded"].append({**x, "reason": "paper-vote"})
            elif e["credential"] in later:
                c["excluded"].append({**x, "reason": "superseded"})
            else:
                c["counted"].append(x)
            later.add(e["credential"])
        for c in contests.values():
            c["counted"].reverse()
            c["excluded"].reverse()
        return {"contests": contests}

    def resign_checkpoints(self, entries: list[dict[str, Any]], opening_hash: str,
                           board: Ed25519PrivateKey | None = None) -> None:
        board = board or self.board
        heads = {e["seq"]: e["entry_hash"] for e in entries}
        heads[0] = self.election_id
        cps = [{"type": "ssbvote-checkpoint", "election_id": self.election_id,
                "opening": opening_hash, "seq": s, "head": heads[s],
                "at": "2026-12-20T13:00:00.000000Z", "final": s == len(entries)}
               for s in sorted({min(4, len(entries)), len(entries)})]
        self.write_jsonl("board/checkpoints.jsonl", [sign(cp, board) for cp in cps])

    def paper_list(self, opening_hash: str, signers: tuple[str, ...] = ("alice", "bob")
                   ) -> dict[str, Any]:
        body = {"type": "ssbvote-paper-overrides", "election_id": self.election_id,
                "opening": opening_hash,
                "pseudonyms": sorted(self.voters[i].pseudonym for i in self.paper),
                "at": "2026-12-20T14:00:00.000000Z"}
        return {**body, "signatures": [{"official": u,
                                        "signature": self.officials[u].sign(canonical(body)).hex()}
                                       for u in signers]}

    def write_json(self, rel: str, obj: Any) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_bytes(canonical(obj))

    def write_jsonl(self, rel: str, objs: list[Any]) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_bytes(b"".join(canonical(o) + b"\n" for o in objs))

    def receipt(self, entry: dict[str, Any], opening_hash: str) -> dict[str, Any]:
        return sign({"type": "ssbvote-receipt", "election_id": self.election_id,
                     "opening": opening_hash, "seq": entry["seq"],
                     "pseudonym": entry["pseudonym"], "credential": entry["credential"],
                     "contest": entry["contest"], "ballot_hash": entry["ballot_hash"],
                     "entry_hash": entry["entry_hash"], "cast_at": entry["cast_at"]},
                    self.board)

    def write(self) -> Mini:
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_json("FORMAT.json", {"format": "ssbvote-record", "version": 4})
        self.write_json("manifest.json", self.manifest_doc)
        self.write_json("election_key.json", {"n": "dummy"})
        self.write_json("board_key.json", {"algorithm": "Ed25519", "public_key": pub(self.board)})
        self.write_json("credentials.json", self.credentials())
        self.write_jsonl("revocations.jsonl", self.revocations())
        opening = self.opening()
        self.write_json("opening.json", opening)
        h = sha(canonical(opening))
        entries = self.entries(h)
        self.write_jsonl("board/entries.jsonl", entries)
        self.write_jsonl("board/ballots.jsonl", [])
        self.resign_checkpoints(entries, h)
        self.write_json("paper_overrides.json", self.paper_list(h))
        self.write_json("tally/counted.json", self.counted(entries))
        return self

    @property
    def opening_hash(self) -> str:
        return sha(self.path("opening.json").read_bytes())

    def read_entries(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.path("board/entries.jsonl").read_bytes().splitlines()]

    def rechain(self, entries: list[dict[str, Any]], resign: bool = True) -> None:
        """Re-link the entries (prev_hash, entry_hash), re-sign the ballot statements with the
        voters' keys when ``resign`` (a voter's device would), and the checkpoints with the
        board key."""
        keys = {pub(v.key): v.key for v in self.voters}
        keys.update({pub(k): k for k in self.replaced_casts.values()})
        prev = self.election_id
        h = self.opening_hash
        for seq, e in enumerate(entries, start=1):
            e["seq"] = seq
            if resign and e["credential"] in keys:
                statement = (self.audit_statement(e, h) if e.get("kind") == "audit"
                             else self.ballot_statement(e, h))
                e["signature"] = keys[e["credential"]].sign(statement).hex()
            e["prev_hash"] = prev
            e.pop("entry_hash", None)
            e["entry_hash"] = sha(canonical(e))
            prev = e["entry_hash"]
        self.write_jsonl("board/entries.jsonl", entries)
        self.resign_checkpoints(entries, h)


def run_checks(root: Path, ca_key: bytes | None = None,
               verdicts: bool = True) -> dict[str, CheckResult]:
    """Every check on the mini record (check name → result); the ballot verdicts that check 9
    cannot give (there are no ballots) are taken as all valid when ``verdicts``."""
    ctx = Context(load_record(root), Options(allow_test_key=True, ca_key=ca_key))
    out: dict[str, CheckResult] = {}
    for check in CHECKS:
        if check.__name__ == "check_11_tally_counted_set" and verdicts and ctx.entries:
            ctx.verdicts = SeqSet()
            for seq, _ in ctx.entries.items():
                ctx.verdicts.add(seq)
        r = check(ctx)
        out[r.name] = r
    return out
