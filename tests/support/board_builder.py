"""Build a closed board export (docs/record.md §3) without the web app, for tally/verifier tests.

``build_board_export(path, insured=20, employers=8, revote_rate=0.3, paper=2, seed=1)`` writes

    path/manifest.json          canonical manifest bytes (its SHA-256 is the election id)
    path/election_key.json      the election key (docs/protocol.md §9.2), canonical JSON
    path/board_key.json         {"algorithm": "Ed25519", "public_key": hex}
    path/board/entries.jsonl    §2.1 entries, one canonical JSON + "\\n" per line, seq order
    path/board/ballots.jsonl    {"seq", "pseudonym", "contest", "ballot"} per line, seq order
    path/board/checkpoints.jsonl  signed checkpoints (§2.3), intermediate ones + the final one
    path/paper_overrides.json   the signed paper-vote list (§2.4)

and the trustees' encrypted share files in ``shares_dir`` (default ``<path>-trustees/``).  It
returns a :class:`BoardFixture` with the paths, the passphrases, the board's Ed25519 private
key (to sign tampered objects in tests) and the *intended* outcome: per contest the vote
counts of the voters' last choices, without paper voters and invalid last ballots.

Everything is a deterministic function of the arguments (the ``seed``), except the election key
when it has to be generated (cached per process; the committed 512-bit 3-of-5 vector key of
tests/vectors/test_key.json is used when ``trustees=5, threshold=3, key_bits=512``) and the
share files' salts and nonces.  Imports only ``crypto``, ``election`` and ``cryptography``, never
``app``: every byte rule of docs/record.md (entry hash, signatures, the checkpoint and paper-list
objects, the export's files) comes from ``election/``, the code the server writes with.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import ContestStatement, EncryptedContest, encrypt_contest
from crypto.ceremony import generate_election_key, write_encrypted_share
from crypto.encoding import canonical_json
from crypto.threshold import ElectionPublicKey, TrusteeShare
from election.board import Chain, checkpoint, entry_hash, iso_utc, paper_overrides, sha256_hex
from election.export import BoardItem, write_board, write_export
from election.signed import public_key_dict, sign, unsigned

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

_KEY_CACHE: dict[tuple[int, int, int], tuple[ElectionPublicKey, list[TrusteeShare]]] = {}


def cached_election_key(bits: int = 512, trustees: int = 3, threshold: int = 2) -> tuple[ElectionPublicKey, list[TrusteeShare]]:
    """A (cached, per process) test election key with the trustees' plaintext shares."""
    cache_key = (bits, trustees, threshold)
    if cache_key not in _KEY_CACHE:
        if cache_key == (512, 5, 3):
            data = json.loads((VECTORS / "test_key.json").read_text())
            key = ElectionPublicKey.from_dict(data["election_key"], allow_insecure_test_key=True)
            shares = [TrusteeShare.from_dict(s, allow_insecure_test_key=True) for s in data["shares"]]
        else:
            names = [f"trustee-{i}" for i in range(1, trustees + 1)]
            key, shares = generate_election_key(bits, names, threshold, allow_insecure_test_key=True)
        _KEY_CACHE[cache_key] = (key, shares)
    return _KEY_CACHE[cache_key]


def builder_manifest(slug: str = "board-test", insured_candidates: int = 5, employer_candidates: int = 4,
                     k_insured: int = 2, k_employer: int = 2) -> dict[str, Any]:
    """A compact two-contest manifest (docs/manifest.md): insured 2-of-5, employer 2-of-4.

    Ballot numbers are deliberately not the list positions (reverse order) so that code mixing
    up "manifest order" and "ballot number" fails the tests.
    """
    def text(th: str, en: str) -> dict[str, str]:
        return {"th": th, "en": en}

    return {
        "format": "ssbvote-manifest/1",
        "election": slug,
        "title": text("การเลือกตั้งทดสอบ", "Test election"),
        "poll_window": {"opens": "2026-12-20T08:00:00+07:00", "closes": "2026-12-20T16:00:00+07:00"},
        "contests": [
            {"id": "insured", "electorate": "insured", "max_selections": k_insured,
             "title": text("ผู้ประกันตน", "Insured persons"),
             "teams": [{"id": "A", "name": text("ทีมเอ", "Team A")}, {"id": "B", "name": text("ทีมบี", "Team B")}],
             "candidates": [{"id": f"I{i:03d}", "number": insured_candidates + 1 - i,
                             "name": text(f"ผู้สมัคร {i}", f"Candidate {i}"), "team": "A" if i % 2 else "B"}
                            for i in range(1, insured_candidates + 1)]},
            {"id": "employer", "electorate": "employer", "max_selections": k_employer,
             "title": text("นายจ้าง", "Employers"), "teams": [],
             "candidates": [{"id": f"E{i:03d}", "number": employer_candidates + 1 - i,
                             "name": text(f"นายจ้าง {i}", f"Employer {i}"), "team": None}
                            for i in range(1, employer_candidates + 1)]},
        ],
    }


# ---------------------------------------------------------------------------------------------
# Byte rules of docs/record.md, from election/ (re-exported so that a test can re-sign a tampered
# object exactly as the server would): sha256_hex, entry_hash, utc (= iso_utc), and:


def sign_object(private_key: Ed25519PrivateKey, obj: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``obj`` (re-)signed by ``private_key`` (record.md §1): any old signature is
    replaced."""
    return sign(unsigned(obj), private_key)


board_public_key_json = public_key_dict
utc = iso_utc


# JSON-lines helpers for tests that edit an export's files.


def write_jsonl(path: Path, objects: list[dict[str, Any]]) -> None:
    with open(path, "wb") as handle:
        for obj in objects:
            handle.write(canonical_json(obj) + b"\n")


def read_jsonl(path: Union[str, Path]) -> list[dict[str, Any]]:
    with open(path, "rb") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# ---------------------------------------------------------------------------------------------


@dataclass
class BoardFixture:
    """What :func:`build_board_export` wrote and what a correct tally must find."""

    path: Path  # the board export folder
    manifest: dict[str, Any]
    election_id: str
    election_key: ElectionPublicKey
    trustee_shares: list[TrusteeShare]  # plaintext shares (for direct crypto calls in tests)
    share_files: list[Path]  # encrypted share files, index order
    passphrases: list[str]  # passphrase of share_files[i]
    board_private_key: Ed25519PrivateKey
    #: contest id → votes per candidate, manifest order (last choices, minus paper and invalid).
    intended: dict[str, list[int]]
    #: contest id → [(seq, pseudonym)] of ballots a correct tally counts, seq order.
    counted: dict[str, list[tuple[int, str]]]
    #: contest id → [(seq, pseudonym, reason)]; reason "superseded" | "paper-vote" | "invalid".
    excluded: dict[str, list[tuple[int, str, str]]]
    paper_pseudonyms: list[str]
    invalid_seqs: list[int]
    num_entries: int
    #: seq → (contest, pseudonym, selections) of every cast ballot (selections as encrypted).
    casts: dict[int, tuple[str, str, list[int]]] = field(default_factory=dict)

    @property
    def entries_path(self) -> Path:
        return self.path / "board" / "entries.jsonl"

    @property
    def ballots_path(self) -> Path:
        return self.path / "board" / "ballots.jsonl"

    @property
    def checkpoints_path(self) -> Path:
        return self.path / "board" / "checkpoints.jsonl"

    @property
    def overrides_path(self) -> Path:
        return self.path / "paper_overrides.json"

    def intended_by_id(self) -> dict[str, dict[str, int]]:
        """contest id → candidate id → intended votes."""
        out = {}
        for contest in self.manifest["contests"]:
            votes = self.intended[contest["id"]]
            out[contest["id"]] = {c["id"]: v for c, v in zip(contest["candidates"], votes)}
        return out

    def sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        return sign_object(self.board_private_key, obj)


def _random_selections(rng: random.Random, num_candidates: int, k: int) -> list[int]:
    count = rng.choice([0] + [k] * 3 + list(range(1, k + 1)))  # mostly full ballots, some abstain
    chosen = set(rng.sample(range(num_candidates), count))
    return [1 if i in chosen else 0 for i in range(num_candidates)]


def build_board_export(
    path: Union[str, Path],
    *,
    insured: int = 20,
    employers: int = 8,
    revote_rate: float = 0.3,
    paper: int = 2,
    trustees: int = 3,
    threshold: int = 2,
    key_bits: int = 512,
    seed: int = 1,
    invalid_ballots: int = 0,
    checkpoint_every: int = 10,
    manifest: Optional[dict[str, Any]] = None,
    shares_dir: Optional[Union[str, Path]] = None,
    scrypt_log2_n: int = 14,
) -> BoardFixture:
    """Write a closed board export (docs/record.md §3) and return a :class:`BoardFixture`.

    ``insured`` / ``employers``: number of voters casting at least one e-ballot per contest.
    ``revote_rate``: probability that a voter casts again (repeatedly: up to 3 ballots).
    ``paper``: number of e-voters also listed in the paper-override list (plus one paper-only
    pseudonym that never e-voted, when ``paper`` > 0).  ``invalid_ballots``: number of voters
    (not paper voters) whose *last* ballot has proofs made for another pseudonym — a copied
    ballot, invalid on this board.  ``checkpoint_every``: an intermediate signed checkpoint
    every that many entries; the final checkpoint is always written.
    """
    path = Path(path)
    rng = random.Random(seed)
    manifest = manifest if manifest is not None else builder_manifest()
    manifest_bytes = canonical_json(manifest)
    election_id = sha256_hex(manifest_bytes)
    key, shares = cached_election_key(key_bits, trustees, threshold)
    pk = key.public_key
    board_key = Ed25519PrivateKey.from_private_bytes(rng.getrandbits(256).to_bytes(32, "big"))

    contests = {c["id"]: c for c in manifest["contests"]}
    electorate_size = {"insured": insured, "employer": employers}
    voters: list[tuple[str, str]] = []  # (contest id, pseudonym)
    used: set[str] = set()
    for contest in manifest["contests"]:
        for _ in range(electorate_size[contest["electorate"]]):
            while True:
                pseudonym = f"{rng.getrandbits(128):032x}"
                if pseudonym not in used:
                    break
            used.add(pseudonym)
            voters.append((contest["id"], pseudonym))

    # Cast events: each voter casts 1..3 times; events shuffled, the i-th occurrence of a voter
    # is that voter's i-th ballot.
    events: list[int] = []
    for v in range(len(voters)):
        casts = 1
        while casts < 3 and rng.random() < revote_rate:
            casts += 1
        events.extend([v] * casts)
    rng.shuffle(events)

    paper_voters = set(rng.sample(range(len(voters)), min(paper, len(voters))))
    eligible_invalid = [v for v in range(len(voters)) if v not in paper_voters]
    invalid_voters = set(rng.sample(eligible_invalid, min(invalid_ballots, len(eligible_invalid))))
    last_event = {v: i for i, v in enumerate(events)}

    opens = datetime.fromisoformat(manifest["poll_window"]["opens"])
    closes = datetime.fromisoformat(manifest["poll_window"]["closes"])
    span = (closes - opens).total_seconds()
    step = span / (len(events) + 2)

    board: list[BoardItem] = []  # (entry, canonical JSON of its ballot)
    checkpoints: list[dict[str, Any]] = []
    casts_by_seq: dict[int, tuple[str, str, list[int]]] = {}
    last_by_voter: dict[int, tuple[int, list[int]]] = {}
    invalid_seqs: list[int] = []
    chain = Chain(election_id)
    for position, v in enumerate(events):
        seq = position + 1
        contest_id, pseudonym = voters[v]
        contest = contests[contest_id]
        k = contest["max_selections"]
        selections = _random_selections(rng, len(contest["candidates"]), k)
        ballot_seed = rng.getrandbits(256).to_bytes(32, "big")
        prover_pseudonym = pseudonym
        if v in invalid_voters and last_event[v] == position:
            prover_pseudonym = pseudonym[::-1]  # proofs bound to another voter: invalid here
            invalid_seqs.append(seq)
        statement = ContestStatement(pk, election_id, contest_id, prover_pseudonym, len(selections), k)
        ballot = encrypt_contest(statement, selections, ballot_seed)
        at = opens + timedelta(seconds=step * seq, microseconds=rng.randrange(1_000_000))
        ballot_json = canonical_json(ballot.to_dict())
        board.append((chain.append(pseudonym, contest_id, sha256_hex(ballot_json), utc(at)), ballot_json))
        casts_by_seq[seq] = (contest_id, pseudonym, selections)
        last_by_voter[v] = (seq, selections)
        if checkpoint_every and seq % checkpoint_every == 0 and seq != len(events):
            checkpoints.append(sign(checkpoint(election_id, seq, chain.head,
                                               utc(at + timedelta(microseconds=1)), False), board_key))
    checkpoints.append(sign(checkpoint(election_id, chain.seq, chain.head, utc(closes), True), board_key))

    paper_pseudonyms = {voters[v][1] for v in paper_voters}
    if paper:
        paper_pseudonyms.add(f"{rng.getrandbits(128):032x}")  # voted on paper only
    overrides = sign(paper_overrides(election_id, sorted(paper_pseudonyms), utc(closes + timedelta(hours=1)),
                                     ["official-a", "official-b"]), board_key)

    # Intended outcome.
    intended = {cid: [0] * len(c["candidates"]) for cid, c in contests.items()}
    counted: dict[str, list[tuple[int, str]]] = {cid: [] for cid in contests}
    excluded: dict[str, list[tuple[int, str, str]]] = {cid: [] for cid in contests}
    last_seq = {v: s for v, (s, _) in last_by_voter.items()}
    seq_voter = {}
    for position, v in enumerate(events):
        seq_voter[position + 1] = v
    for seq in range(1, len(events) + 1):
        v = seq_voter[seq]
        contest_id, pseudonym = voters[v]
        if v in paper_voters:
            excluded[contest_id].append((seq, pseudonym, "paper-vote"))
        elif seq != last_seq[v]:
            excluded[contest_id].append((seq, pseudonym, "superseded"))
        elif v in invalid_voters:
            excluded[contest_id].append((seq, pseudonym, "invalid"))
        else:
            counted[contest_id].append((seq, pseudonym))
            for i, m in enumerate(casts_by_seq[seq][2]):
                intended[contest_id][i] += m

    write_export(path, manifest=manifest_bytes, election_key=canonical_json(key.to_dict()),
                 board_key=public_key_dict(board_key), board=board, checkpoints=checkpoints,
                 paper_overrides=overrides)

    shares_path = Path(shares_dir) if shares_dir is not None else path.parent / f"{path.name}-trustees"
    shares_path.mkdir(parents=True, exist_ok=True)
    share_files, passphrases = [], []
    for share in shares:
        passphrase = f"passphrase of {share.trustee} #{seed}"
        file = shares_path / f"trustee-{share.index}.share.json"
        write_encrypted_share(file, share, passphrase, scrypt_log2_n=scrypt_log2_n)
        share_files.append(file)
        passphrases.append(passphrase)

    return BoardFixture(
        path=path, manifest=manifest, election_id=election_id, election_key=key,
        trustee_shares=list(shares), share_files=share_files, passphrases=passphrases,
        board_private_key=board_key, intended=intended, counted=counted, excluded=excluded,
        paper_pseudonyms=sorted(paper_pseudonyms), invalid_seqs=invalid_seqs,
        num_entries=chain.seq, casts=casts_by_seq,
    )


def rewrite_board(fixture: BoardFixture, ballots: dict[int, dict[str, Any]]) -> None:
    """Replace the ballots of some seqs (seq → ballot dict), then redo what a server would sign:
    the entries' ``ballot_hash``, the hash chain and every checkpoint.  For "the server signed
    a bad ballot" tests (the signatures stay valid; only the ballots are wrong)."""
    chain = Chain(fixture.election_id)
    heads = {0: chain.head}
    board: list[BoardItem] = []
    for line, entry in zip(read_jsonl(fixture.ballots_path), read_jsonl(fixture.entries_path)):
        ballot = canonical_json(ballots.get(line["seq"], line["ballot"]))
        board.append((chain.append(entry["pseudonym"], entry["contest"], sha256_hex(ballot), entry["cast_at"]), ballot))
        heads[chain.seq] = chain.head
    checkpoints = [fixture.sign(dict(cp, head=heads[cp["seq"]])) for cp in read_jsonl(fixture.checkpoints_path)]
    write_board(fixture.path, board, checkpoints)


def reference_ballot(fixture: BoardFixture, seq: int) -> EncryptedContest:
    """The ballot of ``seq`` as written on the board (parsed)."""
    for line in read_jsonl(fixture.ballots_path):
        if line["seq"] == seq:
            return EncryptedContest.from_dict(line["ballot"], fixture.election_key.public_key)
    raise KeyError(seq)


__all__ = [
    "BoardFixture", "build_board_export", "builder_manifest", "cached_election_key", "entry_hash",
    "sign_object", "board_public_key_json", "rewrite_board", "reference_ballot", "read_jsonl", "write_jsonl", "sha256_hex", "utc",
]
