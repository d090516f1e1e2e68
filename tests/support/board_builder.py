"""Build a closed board export (docs/record.md §3, record format version 3) without the web app,
for the tally and verifier tests and the benchmarks.

``build_board_export(path, insured=20, employers=8, revote_rate=0.3, paper=2, seed=1)`` writes

    path/manifest.json          canonical manifest bytes (its SHA-256 is the election id)
    path/election_key.json      the election key (docs/protocol.md §9.2), canonical JSON
    path/board_key.json         {"algorithm": "Ed25519", "public_key": hex}
    path/opening.json           the opening (§2.0), signed by the fixture's CA key
    path/credentials.json       the CA-signed credential list (§6.2): every voter's first public
                                credential and ``non_voters`` more per electorate
    path/revocations.jsonl      the CA-signed revocations (§6.3), empty unless ``revoked`` /
                                ``revoked_final``
    path/board/entries.jsonl    §2.1 entries, each signed by its voter's credential key (§13.3
                                of docs/protocol.md) with ``previous`` chaining that
                                credential's ballots; one canonical JSON + "\\n" per line
    path/board/ballots.jsonl    {"seq", "pseudonym", "contest", "ballot"} per line, seq order;
                                each ballot's party is ``<pseudonym>/<credential>`` (§13.4);
                                with ``audits``, audit entries (§2.1, kind "audit": the seed,
                                signed over the audit statement, docs/protocol.md §14.2) too
    path/board/checkpoints.jsonl  signed checkpoints (§2.3) with the opening hash,
                                intermediate ones + the final one
    path/paper_overrides.json   the paper-vote list (§2.4) signed by two officials

and the trustees' encrypted share files in ``shares_dir`` (default ``<path>-trustees/``).  It
returns a :class:`BoardFixture` with the paths, the passphrases, every private key involved
(board key, CA key, the officials' and the voters' credential keys — to re-sign tampered objects
in tests) and the *intended* outcome (docs/record.md §4.1): per contest the vote counts of the
last ballot of every credential, without revoked credentials, paper voters and invalid last
ballots.

Everything is a deterministic function of the arguments (the ``seed``): the board, CA and
official keys, and the credentials, whose 26 data symbols are drawn from the seeded generator
instead of the CSPRNG (:func:`seeded_credential`) — except the election key when it has to be
generated (cached per process; the committed 512-bit 3-of-5 vector key of
tests/vectors/test_key.json is used when ``trustees=5, threshold=3, key_bits=512``) and the
share files' salts and nonces.  Imports only ``crypto``, ``election`` and ``cryptography``, never
``app`` or ``ca``: every byte rule of docs/record.md (entry hash, signatures, the opening,
credential list, revocation, checkpoint and paper-list objects, the export's files) comes from
``election/``, the code the server and the CA write with.

The pieces the benchmarks reuse to write their own v2 boards: :func:`seeded_credential`,
:func:`signed_credential_list`, :func:`signed_opening`, :func:`signed_paper_list` and
:class:`Casting` (a voter device's signature and ``previous`` per cast).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import ContestStatement, EncryptedContest, encrypt_contest
from crypto.ceremony import generate_election_key, write_encrypted_share
from crypto.credential import (ALPHABET, audit_statement, ballot_party, ballot_statement, credential_from_data,
                               official_key, public_credential, sign_audit, sign_ballot, voter_key)
from crypto.encoding import canonical_json
from crypto.threshold import ElectionPublicKey, TrusteeShare
from election import authority
from election.board import (Chain, add_official_signature, checkpoint, entry_hash, iso_utc, paper_list_body,
                            paper_overrides, sha256_hex)
from election.export import BoardItem, write_board, write_export
from election.signed import public_key_dict, sign, unsigned

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

#: Officials pinned in the opening (record.md §2.0); the first two sign the paper-vote list.
OFFICIALS = ("official-a", "official-b", "official-c")
PAPER_SIGNERS = ("official-a", "official-b")
DATA_SYMBOLS = 26  # docs/protocol.md §13.1

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
# Credentials and the CA's, the officials' and the voters' signed objects (record.md §2, §6).


def seeded_credential(rng: random.Random) -> str:
    """A credential (docs/protocol.md §13.1, 28 symbols) whose 26 data symbols come from ``rng``
    rather than the CSPRNG: a deterministic test credential."""
    return credential_from_data("".join(ALPHABET[rng.randrange(len(ALPHABET))] for _ in range(DATA_SYMBOLS)))


@dataclass(frozen=True)
class Credential:
    """One credential: its text (28 symbols), its Ed25519 key (§13.2) and the public credential."""

    text: str
    key: Ed25519PrivateKey
    public: str  # 64 hex

    @classmethod
    def voter(cls, text: str, election_id: str) -> "Credential":
        key = voter_key(text, election_id)
        return cls(text, key, public_credential(key))

    @classmethod
    def official(cls, text: str) -> "Credential":
        key = official_key(text)
        return cls(text, key, public_credential(key))


@dataclass
class Voter:
    """An e-voter of the built board: contest, pseudonym and credentials in the order issued
    (the last is live; the earlier ones were revoked, record.md §6.3)."""

    contest: str
    electorate: str
    pseudonym: str
    credentials: list[Credential]

    @property
    def credential(self) -> Credential:
        """The live credential (the last issued)."""
        return self.credentials[-1]


def signed_credential_list(ca_key: Ed25519PrivateKey, election_id: str,
                           contests: Mapping[str, Iterable[str]], at: str) -> bytes:
    """``credentials.json`` (record.md §6.2) as the CA writes it: canonical JSON, CA-signed."""
    return canonical_json(sign(authority.credential_list(election_id, at, contests), ca_key))


def signed_opening(ca_key: Ed25519PrivateKey, election_id: str, election_key: bytes, board_key: Ed25519PrivateKey,
                   credentials: bytes, officials: Mapping[str, str], at: str) -> dict[str, Any]:
    """The opening object (record.md §2.0) signed by ``ca_key``: it pins SHA-256 of the
    ``election_key`` and ``credentials`` file bytes, the board key and ``officials`` (username →
    64-hex public key)."""
    return sign(authority.opening(
        election_id, sha256_hex(election_key), public_key_dict(board_key)["public_key"],
        public_credential(ca_key), sha256_hex(credentials),
        [{"username": u, "public_key": k} for u, k in officials.items()], at), ca_key)


def signed_revocation(ca_key: Ed25519PrivateKey, election_id: str, contest: str, revoked: str,
                      replacement: Optional[str], at: str) -> dict[str, Any]:
    """A CA-signed revocation (record.md §6.3)."""
    return sign(authority.revocation(election_id, contest, revoked, replacement, at), ca_key)


def signed_paper_list(election_id: str, opening_hash: str, pseudonyms: Sequence[str], at: str,
                      signers: Sequence[tuple[str, Ed25519PrivateKey]]) -> dict[str, Any]:
    """The paper-vote list (record.md §2.4) signed by each ``(username, official key)`` in turn."""
    obj = paper_overrides(election_id, sorted(pseudonyms), at, opening=opening_hash)
    for username, key in signers:
        obj = add_official_signature(obj, username, key)
    return obj


class Casting:
    """Appends signed entries to a :class:`~election.board.Chain` as voters' devices cast: each
    cast's ballot statement (docs/protocol.md §13.3) is signed with the voter's credential key,
    its ``previous`` being that credential's last ballot hash so far."""

    def __init__(self, chain: Chain, opening_hash: str) -> None:
        self.chain = chain
        self.opening = opening_hash
        self.last: dict[str, str] = {}  # public credential → its last ballot_hash

    def cast(self, pseudonym: str, contest: str, ballot_hash: str, cast_at: str, key: Ed25519PrivateKey,
             credential: Optional[str] = None) -> dict[str, Any]:
        credential = credential or public_credential(key)
        previous = self.last.get(credential, "")
        statement = ballot_statement(self.chain.election_id, self.opening, contest, pseudonym, credential,
                                     ballot_hash, previous=previous)
        entry = self.chain.append(pseudonym, contest, ballot_hash, cast_at, credential=credential,
                                  previous=previous, signature=sign_ballot(statement, key))
        self.last[credential] = ballot_hash
        return entry

    def audit(self, pseudonym: str, contest: str, ballot_hash: str, cast_at: str, key: Ed25519PrivateKey,
              seed: bytes, credential: Optional[str] = None) -> dict[str, Any]:
        """An audit entry (record.md §2.1): the audit statement (docs/protocol.md §14.2) signed
        with the voter's key; it does not change the credential's ``previous``."""
        credential = credential or public_credential(key)
        statement = audit_statement(self.chain.election_id, self.opening, contest, pseudonym, credential,
                                    ballot_hash, seed.hex())
        return self.chain.append_audit(pseudonym, contest, ballot_hash, cast_at, credential=credential,
                                       seed=seed.hex(), signature=sign_audit(statement, key))


# ---------------------------------------------------------------------------------------------


@dataclass
class BoardFixture:
    """What :func:`build_board_export` wrote, its keys, and what a correct tally must find."""

    path: Path  # the board export folder
    manifest: dict[str, Any]
    election_id: str
    election_key: ElectionPublicKey
    trustee_shares: list[TrusteeShare]  # plaintext shares (for direct crypto calls in tests)
    share_files: list[Path]  # encrypted share files, index order
    passphrases: list[str]  # passphrase of share_files[i]
    board_private_key: Ed25519PrivateKey
    #: contest id → votes per candidate, manifest order (last ballot per credential, minus
    #: revoked credentials, paper voters and invalid ballots).
    intended: dict[str, list[int]]
    #: contest id → [(seq, pseudonym)] of ballots a correct tally counts, seq order.
    counted: dict[str, list[tuple[int, str]]]
    #: contest id → [(seq, pseudonym, reason)]; reason "audited" | "revoked" | "paper-vote" |
    #: "superseded" | "invalid" (record.md §4.1, in that order of precedence).
    excluded: dict[str, list[tuple[int, str, str]]]
    paper_pseudonyms: list[str]
    invalid_seqs: list[int]
    num_entries: int
    ca_private_key: Ed25519PrivateKey
    ca_public_hex: str  # the CA key as the CA publishes it (the verifier's --ca-key)
    #: username → credential of every official pinned in the opening (:data:`OFFICIALS`)
    officials: dict[str, Credential]
    paper_signers: tuple[str, ...]  # the two officials who signed the paper-vote list
    #: pseudonym → the e-voter (contest, credentials in the order issued; the last is live)
    voters: dict[str, Voter]
    opening: dict[str, Any]  # the signed opening object (opening.json)
    opening_hash: str
    revocations: list[dict[str, Any]]  # the signed revocations (revocations.jsonl), in order
    revoked_credentials: list[str]  # public credentials revoked (their ballots: "revoked")
    #: seq → (contest, pseudonym, selections) of every cast ballot (selections as encrypted).
    casts: dict[int, tuple[str, str, list[int]]] = field(default_factory=dict)
    #: seq → public credential that signed it.
    cast_credentials: dict[int, str] = field(default_factory=dict)
    #: seq → (contest, pseudonym, selections, seed) of every audit entry (docs/protocol.md §14).
    audits: dict[int, tuple[str, str, list[int], bytes]] = field(default_factory=dict)

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

    @property
    def opening_path(self) -> Path:
        return self.path / "opening.json"

    @property
    def credentials_path(self) -> Path:
        return self.path / "credentials.json"

    @property
    def revocations_path(self) -> Path:
        return self.path / "revocations.jsonl"

    @property
    def ca_public_key_hex(self) -> str:
        """The same as :attr:`ca_public_hex`."""
        return self.ca_public_hex

    @property
    def official_keys(self) -> dict[str, Ed25519PrivateKey]:
        """username → the official's Ed25519 key (docs/protocol.md §13.2, purpose official)."""
        return {name: c.key for name, c in self.officials.items()}

    @property
    def voter_credentials(self) -> dict[str, str]:
        """pseudonym → the text of the voter's live credential."""
        return {p: v.credential.text for p, v in self.voters.items()}

    @property
    def credential_keys(self) -> dict[str, Ed25519PrivateKey]:
        """public credential → its key, for every credential issued (revoked ones too)."""
        return {c.public: c.key for v in self.voters.values() for c in v.credentials}

    def intended_by_id(self) -> dict[str, dict[str, int]]:
        """contest id → candidate id → intended votes."""
        out = {}
        for contest in self.manifest["contests"]:
            votes = self.intended[contest["id"]]
            out[contest["id"]] = {c["id"]: v for c, v in zip(contest["candidates"], votes)}
        return out

    def sign(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` (re-)signed by the board key (checkpoints, receipts)."""
        return sign_object(self.board_private_key, obj)

    def sign_ca(self, obj: dict[str, Any]) -> dict[str, Any]:
        """``obj`` (re-)signed by the CA key (the opening, the credential list, revocations)."""
        return sign_object(self.ca_private_key, obj)

    def sign_paper_list(self, obj: dict[str, Any], signers: Optional[Sequence[str]] = None) -> dict[str, Any]:
        """The paper-vote list ``obj`` with its signatures replaced by those of ``signers``
        (default: :attr:`paper_signers`)."""
        out = paper_list_body(obj)
        for name in signers if signers is not None else self.paper_signers:
            out = add_official_signature(out, name, self.officials[name].key)
        return out

    def sign_entry(self, entry: dict[str, Any], opening_hash: Optional[str] = None) -> dict[str, Any]:
        """A copy of ``entry`` whose ``signature`` is its credential key's signature of its ballot
        statement — or audit statement for an audit entry — (under ``opening_hash``, default the
        fixture's); ``entry_hash`` is not recomputed (:func:`rewrite_board` re-links the chain)."""
        if entry.get("kind") == "audit":
            audit = audit_statement(entry["election_id"], opening_hash or self.opening_hash, entry["contest"],
                                    entry["pseudonym"], entry["credential"], entry["ballot_hash"], entry["seed"])
            return dict(entry, signature=sign_audit(audit, self.credential_keys[entry["credential"]]))
        statement = ballot_statement(entry["election_id"], opening_hash or self.opening_hash, entry["contest"],
                                     entry["pseudonym"], entry["credential"], entry["ballot_hash"],
                                     previous=entry["previous"])
        return dict(entry, signature=sign_ballot(statement, self.credential_keys[entry["credential"]]))


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
    revoked: int = 0,
    revoked_final: int = 0,
    non_voters: int = 2,
    checkpoint_every: int = 10,
    manifest: Optional[dict[str, Any]] = None,
    shares_dir: Optional[Union[str, Path]] = None,
    scrypt_log2_n: int = 14,
    election_key: Optional[tuple[ElectionPublicKey, list[TrusteeShare]]] = None,
    audits: int = 0,
) -> BoardFixture:
    """Write a closed board export (docs/record.md §3) and return a :class:`BoardFixture`.

    ``insured`` / ``employers``: number of voters casting at least one e-ballot per contest.
    ``revote_rate``: probability that a voter casts again (repeatedly: up to 3 ballots).
    ``paper``: number of e-voters also listed in the paper-override list (plus one paper-only
    pseudonym that never e-voted, when ``paper`` > 0).  ``invalid_ballots``: number of voters
    (not paper voters) whose *last* ballot has proofs made for another pseudonym — a copied
    ballot, invalid on this board (its signature is valid: the voter's device signed it).
    ``revoked``: number of other e-voters whose credential the CA revokes after they cast, with
    a replacement credential that then casts once more (their earlier ballots are excluded
    ``revoked``, the replacement's counts).  ``revoked_final``: number of other e-voters whose
    credential is revoked without replacement after their last cast (all their ballots
    ``revoked``).  ``non_voters``: credentials per electorate on the CA's list that never vote.
    ``checkpoint_every``: an intermediate signed checkpoint every that many entries; the final
    checkpoint is always written.  ``election_key``: a key and its trustees' shares to use instead
    of the cached test key (a dishonest dealer's, in tests/adversarial).  ``audits``: that many
    voters audit one encryption (docs/protocol.md §14) at a random moment before their last cast:
    an audit entry with its seed, excluded ``audited``.
    """
    path = Path(path)
    rng = random.Random(seed)
    manifest = manifest if manifest is not None else builder_manifest()
    manifest_bytes = canonical_json(manifest)
    election_id = sha256_hex(manifest_bytes)
    key, shares = election_key if election_key is not None else cached_election_key(key_bits, trustees, threshold)
    pk = key.public_key
    election_key_bytes = canonical_json(key.to_dict())
    board_key = Ed25519PrivateKey.from_private_bytes(rng.getrandbits(256).to_bytes(32, "big"))
    ca_key = Ed25519PrivateKey.from_private_bytes(rng.getrandbits(256).to_bytes(32, "big"))
    officials = {name: Credential.official(seeded_credential(rng)) for name in OFFICIALS}

    opens = datetime.fromisoformat(manifest["poll_window"]["opens"])
    closes = datetime.fromisoformat(manifest["poll_window"]["closes"])
    contests = {c["id"]: c for c in manifest["contests"]}
    electorate_size = {"insured": insured, "employer": employers}
    voters: list[Voter] = []
    used: set[str] = set()
    listed: dict[str, list[str]] = {}
    for contest in manifest["contests"]:
        electorate = contest["electorate"]
        for _ in range(electorate_size[electorate]):
            while True:
                pseudonym = f"{rng.getrandbits(128):032x}"
                if pseudonym not in used:
                    break
            used.add(pseudonym)
            credential = Credential.voter(seeded_credential(rng), election_id)
            voters.append(Voter(contest["id"], electorate, pseudonym, [credential]))
            listed.setdefault(contest["id"], []).append(credential.public)  # record.md §6.2: per contest
        for _ in range(non_voters):
            listed.setdefault(contest["id"], []).append(Credential.voter(seeded_credential(rng), election_id).public)
    credentials_bytes = signed_credential_list(ca_key, election_id, listed, utc(opens - timedelta(days=2)))
    opening = signed_opening(ca_key, election_id, election_key_bytes, board_key, credentials_bytes,
                             {name: c.public for name, c in officials.items()}, utc(opens - timedelta(hours=1)))
    opening_hash = authority.object_hash(opening)

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
    eligible = [v for v in range(len(voters)) if v not in paper_voters]
    invalid_voters = set(rng.sample(eligible, min(invalid_ballots, len(eligible))))
    eligible = [v for v in eligible if v not in invalid_voters]
    replaced_voters = set(rng.sample(eligible, min(revoked, len(eligible))))
    eligible = [v for v in eligible if v not in replaced_voters]
    final_revoked_voters = set(rng.sample(eligible, min(revoked_final, len(eligible))))
    for v in sorted(replaced_voters):  # the replacement's cast comes after the voter's last cast
        last = max(i for i, w in enumerate(events) if w == v)
        events.insert(rng.randrange(last + 1, len(events) + 1), v)
        voters[v].credentials.append(Credential.voter(seeded_credential(rng), election_id))
    if audits:  # an audit event is ~v (negative), before the voter's last cast
        for v in sorted(rng.sample(range(len(voters)), min(audits, len(voters)))):
            last = max(i for i, w in enumerate(events) if w == v)
            events.insert(rng.randrange(0, last + 1), ~v)
    last_event = {v: i for i, v in enumerate(events) if v >= 0}

    span = (closes - opens).total_seconds()
    step = span / (len(events) + 2)

    board: list[BoardItem] = []  # (entry, canonical JSON of its ballot)
    checkpoints: list[dict[str, Any]] = []
    casts_by_seq: dict[int, tuple[str, str, list[int]]] = {}
    credential_of_seq: dict[int, str] = {}
    revocations: list[tuple[str, dict[str, Any]]] = []  # (at, signed revocation)
    invalid_seqs: list[int] = []
    chain = Chain(election_id)
    casting = Casting(chain, opening_hash)
    audit_seqs: dict[int, tuple[str, str, list[int], bytes]] = {}
    for position, v in enumerate(events):
        seq = position + 1
        if v < 0:  # an audit: a ballot of the voter's live-at-the-time credential, opened by its seed
            voter = voters[~v]
            contest = contests[voter.contest]
            selections = _random_selections(rng, len(contest["candidates"]), contest["max_selections"])
            ballot_seed = rng.getrandbits(256).to_bytes(32, "big")
            at = opens + timedelta(seconds=step * seq, microseconds=rng.randrange(1_000_000))
            credential = voter.credentials[0]
            statement = ContestStatement(pk, election_id, voter.contest, ballot_party(voter.pseudonym, credential.public),
                                         len(selections), contest["max_selections"])
            ballot_json = canonical_json(encrypt_contest(statement, selections, ballot_seed).to_dict())
            entry = casting.audit(voter.pseudonym, voter.contest, sha256_hex(ballot_json), utc(at), credential.key,
                                  ballot_seed, credential.public)
            board.append((entry, ballot_json))
            audit_seqs[seq] = (voter.contest, voter.pseudonym, selections, ballot_seed)
            if checkpoint_every and seq % checkpoint_every == 0 and seq != len(events):
                checkpoints.append(sign(checkpoint(election_id, seq, chain.head, utc(at + timedelta(microseconds=1)),
                                                   False, opening=opening_hash), board_key))
            continue
        voter = voters[v]
        contest = contests[voter.contest]
        k = contest["max_selections"]
        selections = _random_selections(rng, len(contest["candidates"]), k)
        ballot_seed = rng.getrandbits(256).to_bytes(32, "big")
        at = opens + timedelta(seconds=step * seq, microseconds=rng.randrange(1_000_000))
        credential = voter.credentials[0]
        if v in replaced_voters and last_event[v] == position:
            credential = voter.credentials[1]
            revocations.append((utc(at - timedelta(microseconds=1)), signed_revocation(
                ca_key, election_id, voter.contest, voter.credentials[0].public, credential.public,
                utc(at - timedelta(microseconds=1)))))
        prover_pseudonym = voter.pseudonym
        if v in invalid_voters and last_event[v] == position:
            prover_pseudonym = voter.pseudonym[::-1]  # proofs bound to another voter: invalid here
            invalid_seqs.append(seq)
        statement = ContestStatement(pk, election_id, voter.contest, ballot_party(prover_pseudonym, credential.public),
                                     len(selections), k)
        ballot = encrypt_contest(statement, selections, ballot_seed)
        ballot_json = canonical_json(ballot.to_dict())
        entry = casting.cast(voter.pseudonym, voter.contest, sha256_hex(ballot_json), utc(at), credential.key,
                             credential.public)
        board.append((entry, ballot_json))
        casts_by_seq[seq] = (voter.contest, voter.pseudonym, selections)
        credential_of_seq[seq] = credential.public
        if v in final_revoked_voters and last_event[v] == position:
            revocations.append((utc(at + timedelta(microseconds=1)), signed_revocation(
                ca_key, election_id, voter.contest, credential.public, None, utc(at + timedelta(microseconds=1)))))
        if checkpoint_every and seq % checkpoint_every == 0 and seq != len(events):
            checkpoints.append(sign(checkpoint(election_id, seq, chain.head, utc(at + timedelta(microseconds=1)),
                                               False, opening=opening_hash), board_key))
    checkpoints.append(sign(checkpoint(election_id, chain.seq, chain.head, utc(closes), True, opening=opening_hash),
                            board_key))
    revocation_list = [r for _, r in sorted(revocations, key=lambda item: item[0])]
    revoked_set = {r["revoked"] for r in revocation_list}

    paper_pseudonyms = {voters[v].pseudonym for v in paper_voters}
    if paper:
        paper_pseudonyms.add(f"{rng.getrandbits(128):032x}")  # voted on paper only
    overrides = signed_paper_list(election_id, opening_hash, sorted(paper_pseudonyms), utc(closes + timedelta(hours=1)),
                                  [(name, officials[name].key) for name in PAPER_SIGNERS])

    # Intended outcome (record.md §4.1): per credential its last ballot; revoked first, then
    # paper-vote, superseded, invalid.
    intended = {cid: [0] * len(c["candidates"]) for cid, c in contests.items()}
    counted: dict[str, list[tuple[int, str]]] = {cid: [] for cid in contests}
    excluded: dict[str, list[tuple[int, str, str]]] = {cid: [] for cid in contests}
    last_seq_of = {credential_of_seq[seq]: seq for seq in sorted(credential_of_seq)}
    for seq in range(1, len(events) + 1):
        if seq in audit_seqs:
            contest_id, pseudonym, _, _ = audit_seqs[seq]
            excluded[contest_id].append((seq, pseudonym, "audited"))
            continue
        contest_id, pseudonym, selections = casts_by_seq[seq]
        credential_hex = credential_of_seq[seq]
        if credential_hex in revoked_set:
            excluded[contest_id].append((seq, pseudonym, "revoked"))
        elif pseudonym in paper_pseudonyms:
            excluded[contest_id].append((seq, pseudonym, "paper-vote"))
        elif seq != last_seq_of[credential_hex]:
            excluded[contest_id].append((seq, pseudonym, "superseded"))
        elif seq in invalid_seqs:
            excluded[contest_id].append((seq, pseudonym, "invalid"))
        else:
            counted[contest_id].append((seq, pseudonym))
            for i, m in enumerate(selections):
                intended[contest_id][i] += m

    write_export(path, manifest=manifest_bytes, election_key=election_key_bytes,
                 board_key=public_key_dict(board_key), opening=opening, credentials=credentials_bytes,
                 revocations=revocation_list, board=board, checkpoints=checkpoints, paper_overrides=overrides)

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
        num_entries=chain.seq, ca_private_key=ca_key, ca_public_hex=public_credential(ca_key),
        officials=officials, paper_signers=PAPER_SIGNERS, voters={v.pseudonym: v for v in voters},
        opening=opening, opening_hash=opening_hash, revocations=revocation_list,
        revoked_credentials=sorted(revoked_set), casts=casts_by_seq, cast_credentials=credential_of_seq,
        audits=audit_seqs,
    )


def rewrite_board(fixture: BoardFixture, ballots: Optional[dict[int, dict[str, Any]]] = None,
                  entries: Optional[list[dict[str, Any]]] = None, *, resign: bool = True) -> None:
    """Replace the ballots of some seqs (seq → ballot dict) and/or the entries (in board order;
    default the board's), then redo what the voters' devices and the server would sign: each
    entry's ``ballot_hash`` and — with ``resign``, for credentials the fixture holds — its
    ``previous`` (the credential's ballot before it) and voter signature, the hash chain
    (seq, prev_hash, entry_hash) and every checkpoint.  For "a bad ballot was signed and
    accepted" tests (the signatures stay valid; only the ballots are wrong)."""
    ballots = ballots or {}
    current = entries if entries is not None else read_jsonl(fixture.entries_path)
    keys = fixture.credential_keys
    chain = Chain(fixture.election_id)
    casting = Casting(chain, fixture.opening_hash)
    heads = {0: chain.head}
    board: list[BoardItem] = []
    for line, entry in zip(read_jsonl(fixture.ballots_path), current):
        ballot = canonical_json(ballots.get(line["seq"], line["ballot"]))
        key = keys.get(entry["credential"])
        if entry.get("kind") == "audit":
            seed = bytes.fromhex(entry["seed"])
            if resign and key is not None:
                appended = casting.audit(entry["pseudonym"], entry["contest"], sha256_hex(ballot), entry["cast_at"],
                                         key, seed, entry["credential"])
            else:
                appended = chain.append_audit(entry["pseudonym"], entry["contest"], sha256_hex(ballot),
                                              entry["cast_at"], credential=entry["credential"], seed=entry["seed"],
                                              signature=entry["signature"])
        elif resign and key is not None:
            appended = casting.cast(entry["pseudonym"], entry["contest"], sha256_hex(ballot), entry["cast_at"], key,
                                    entry["credential"])
        else:
            appended = chain.append(entry["pseudonym"], entry["contest"], sha256_hex(ballot), entry["cast_at"],
                                    credential=entry["credential"], previous=entry["previous"],
                                    signature=entry["signature"])
            casting.last[entry["credential"]] = appended["ballot_hash"]
        board.append((appended, ballot))
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
    "OFFICIALS", "PAPER_SIGNERS", "BoardFixture", "Casting", "Credential", "Voter", "board_public_key_json",
    "build_board_export", "builder_manifest", "cached_election_key", "entry_hash", "read_jsonl", "reference_ballot",
    "rewrite_board", "seeded_credential", "sha256_hex", "sign_object", "signed_credential_list", "signed_opening",
    "signed_paper_list", "signed_revocation", "utc", "write_jsonl",
]
