"""A real election with audited ballots (docs/protocol.md §14), and the insiders' tools to
attack its record — for tests/verifier/test_audit_*.py.

:func:`simulate_with_audits` runs ``ssbvote simulate --audits`` (the app over HTTP, a credential
authority, voters who audit encryptions on one "device" and check them by audit code on a
second one, re-votes, a paper vote, the tally, the trustees, the verifier) in this process, with
the voting client's two secrets logged as the devices make them: every seed the devices draw
(``tools.voting_client.fresh_seed``: the audited ones *and* the cast ones, which the honest
client erases) and every voter's credential text.  The voters run in forked processes, which
inherit the logging wrappers and append to one file.  A test may then play

* the **server** (it holds the board key, tools :class:`Tamper`): edit the board, re-chain the
  entries, re-sign every checkpoint, re-hash the record — without the voters' credential keys;
* the **tally operator with colluding trustees** (:func:`retally`): recompute the encrypted
  tally from an edited counted set, have t trustees decrypt and sign it, finish the record with
  the tally's own code — so that only the verifier's counted-set and audit checks can object;
* a **voter's faulty device** (it holds the credential, :meth:`SimulatedElection.voter_key`):
  sign what an honest device would not.

The tests import producer code (crypto, election, tally, tools) to *build* attacks; the verifier
imports none of it (tests/verifier/test_independence.py).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import ContestStatement, ElectionPublicKey
from crypto.ballot import EncryptedContest, open_ballot
from crypto.ceremony import read_encrypted_share
from crypto.credential import ballot_party, public_credential, voter_key
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput
from crypto.threshold import compute_decryption_share
from election.record import encrypted_tally_hash, signed_share_file
from tally.finish import finish
from tally.tallyfile import tally_dict
from tests.support.factories import EXAMPLES
from tests.verifier.conftest import CA_KEY_FILE, rehash
from tools import simulation, voting_client
from tools.cli import main

ENTRIES = "board/entries.jsonl"
BALLOTS = "board/ballots.jsonl"
CHECKPOINTS = "board/checkpoints.jsonl"
COUNTED = "tally/counted.json"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(canonical_json(o) + b"\n" for o in objs))


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write_json(path: Path, obj: Any) -> None:
    path.write_bytes(canonical_json(obj))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SimulatedElection:
    base: Path
    record: Path
    trustees: Path  # the trustees' encrypted share files
    ca_key: str  # as the credential authority publishes it (the verifier's --ca-key)
    server_key: Ed25519PrivateKey  # the voting server's board key (signing-key.pem)
    seeds: tuple[bytes, ...]  # every seed the voters' devices drew, cast and audited
    credentials: tuple[str, ...]  # every voter's credential text

    @property
    def election_id(self) -> str:
        return str(read_json(self.record / "opening.json")["election_id"])

    def election_key(self) -> ElectionPublicKey:
        return ElectionPublicKey.from_dict(read_json(self.record / "election_key.json"),
                                           allow_insecure_test_key=True)

    def contest(self, contest_id: str) -> dict[str, Any]:
        manifest = read_json(self.record / "manifest.json")
        return next(c for c in manifest["contests"] if c["id"] == contest_id)

    def statement(self, contest_id: str, pseudonym: str, credential: str) -> ContestStatement:
        spec = self.contest(contest_id)
        return ContestStatement(self.election_key().public_key, self.election_id, contest_id,
                                ballot_party(pseudonym, credential), len(spec["candidates"]),
                                spec["max_selections"])

    def voter_key(self, credential: str) -> Ed25519PrivateKey:
        """The private key of a public credential (from the voters' logged credential texts)."""
        for text in self.credentials:
            key = voter_key(text, self.election_id)
            if public_credential(key) == credential:
                return key
        raise KeyError(credential)

    def ballot(self, seq: int, record: Path | None = None) -> dict[str, Any]:
        line = next(b for b in read_jsonl((record or self.record) / BALLOTS) if b["seq"] == seq)
        return dict(line["ballot"])

    def opens(self, entry: dict[str, Any], seed: bytes) -> list[int] | None:
        """The choices ``seed`` opens ``entry``'s ballot to (producer side), or None."""
        statement = self.statement(entry["contest"], entry["pseudonym"], entry["credential"])
        ballot = EncryptedContest.from_dict(self.ballot(entry["seq"]), statement.public_key)
        try:
            return open_ballot(statement, ballot, seed)
        except InvalidInput:
            return None

    def cast_seed(self, entry: dict[str, Any]) -> bytes:
        """The seed the voter's device drew for the cast ballot ``entry`` (and erased)."""
        for seed in self.seeds:
            if self.opens(entry, seed) is not None:
                return seed
        raise KeyError(entry["seq"])


def simulate_with_audits(base: Path, audits: int = 3) -> SimulatedElection:
    """``ssbvote simulate`` with ``audits`` auditing voters (8 voters, re-votes, a paper vote,
    512-bit test key), logging the devices' seeds and the voters' credentials."""
    log = base / "devices.jsonl"
    real_seed = voting_client.fresh_seed
    real_init = voting_client.VotingClient.__init__

    def append(obj: dict[str, str]) -> None:
        with open(log, "a", encoding="utf-8") as handle:  # O_APPEND: one short line at a time
            handle.write(json.dumps(obj) + "\n")

    def logged_seed() -> bytearray:
        seed = real_seed()
        append({"seed": bytes(seed).hex()})
        return seed

    def logged_init(self: Any, *args: Any, **kwargs: Any) -> None:
        append({"credential": str(kwargs.get("credential"))})
        real_init(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(voting_client, "fresh_seed", logged_seed)
        mp.setattr(voting_client.VotingClient, "__init__", logged_init)
        result = CliRunner().invoke(main, [
            "simulate", "--record", str(base / "record"), "--insured", "6", "--employers", "2",
            "--abstainers", "2", "--revote-rate", "0.5", "--paper", "1", "--audits", str(audits),
            "--trustees", "3", "--threshold", "2", "--key-bits", "512", "--seed", "16",
            "--quiet", "--manifest", str(EXAMPLES / "small-manifest.json")],
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Verifier: exit 0" in result.output
    sim = base / ".record.simulation"
    published = (sim / "instance" / "ca" / "ca-public-key.txt").read_text()
    ca_key = next(line.split()[-1] for line in published.splitlines()
                  if line.startswith("public key"))
    (base / CA_KEY_FILE).write_text(ca_key + "\n")
    key = serialization.load_pem_private_key((sim / "instance" / "signing-key.pem").read_bytes(),
                                             None)
    assert isinstance(key, Ed25519PrivateKey)
    logged = read_jsonl(log)
    return SimulatedElection(base, base / "record", sim / "trustees", ca_key, key,
                             tuple(bytes.fromhex(x["seed"]) for x in logged if "seed" in x),
                             tuple(x["credential"] for x in logged if "credential" in x))


class Tamper:
    """A private copy of the record (with the CA key beside it), edited by the server: it holds
    the board key, not the voters' credential keys."""

    def __init__(self, election: SimulatedElection, dest: Path) -> None:
        shutil.copytree(election.record, dest)
        shutil.copy(election.base / CA_KEY_FILE, dest.parent / CA_KEY_FILE)
        self.path, self.election = dest, election
        self.entries = read_jsonl(dest / ENTRIES)
        self.ballots = read_jsonl(dest / BALLOTS)
        self.checkpoints = read_jsonl(dest / CHECKPOINTS)
        self.counted = read_json(dest / COUNTED)
        self.opening_hash = sha(canonical_json(read_json(dest / "opening.json")))

    # --- what to attack ---------------------------------------------------------------------

    def audits(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] == "audit"]

    def counted_entries(self) -> list[dict[str, Any]]:
        seqs = {x["seq"] for c in self.counted["contests"].values() for x in c["counted"]}
        return [e for e in self.entries if e["seq"] in seqs]

    def entry(self, seq: int) -> dict[str, Any]:
        return next(e for e in self.entries if e["seq"] == seq)

    def audit_statement(self, e: dict[str, Any]) -> bytes:
        return canonical_json({"type": "ssbvote-audit", "election_id": e["election_id"],
                               "opening": self.opening_hash, "contest": e["contest"],
                               "pseudonym": e["pseudonym"], "credential": e["credential"],
                               "ballot_hash": e["ballot_hash"], "seed": e["seed"]})

    def ballot_statement(self, e: dict[str, Any], previous: str = "") -> bytes:
        return canonical_json({"type": "ssbvote-ballot", "election_id": e["election_id"],
                               "opening": self.opening_hash, "contest": e["contest"],
                               "pseudonym": e["pseudonym"], "credential": e["credential"],
                               "previous": previous, "ballot_hash": e["ballot_hash"]})

    # --- editing ----------------------------------------------------------------------------

    def append(self, entry: dict[str, Any], ballot: dict[str, Any]) -> int:
        """Append an entry (at the board's last time) and its ballot line; its seq."""
        seq = len(self.entries) + 1
        self.entries.append(dict(entry, seq=seq, cast_at=self.entries[-1]["cast_at"]))
        self.ballots.append({"seq": seq, "pseudonym": entry["pseudonym"],
                             "contest": entry["contest"], "ballot": ballot})
        return seq

    def exclude(self, seq: int, reason: str) -> None:
        """List ``seq`` as excluded (sorted), off the counted list."""
        e = self.entry(seq)
        lists = self.counted["contests"][e["contest"]]
        lists["counted"] = [x for x in lists["counted"] if x["seq"] != seq]
        lists["excluded"] = sorted([x for x in lists["excluded"] if x["seq"] != seq]
                                   + [{"pseudonym": e["pseudonym"], "seq": seq,
                                       "reason": reason}], key=lambda x: x["seq"])

    def count(self, seq: int) -> None:
        """List ``seq`` as counted (sorted), off the excluded list."""
        e = self.entry(seq)
        lists = self.counted["contests"][e["contest"]]
        lists["excluded"] = [x for x in lists["excluded"] if x["seq"] != seq]
        lists["counted"] = sorted([x for x in lists["counted"] if x["seq"] != seq]
                                  + [{"pseudonym": e["pseudonym"], "seq": seq}],
                                  key=lambda x: x["seq"])

    def write(self) -> None:
        """Re-chain the entries (seq, prev_hash, entry_hash), re-sign every checkpoint with the
        server's key (the final one at the new end), write the files and re-hash the record."""
        prev = self.election.election_id
        heads = {0: prev}
        for seq, e in enumerate(self.entries, start=1):
            assert e["seq"] == seq
            e["prev_hash"] = prev
            e.pop("entry_hash", None)
            e["entry_hash"] = sha(canonical_json(e))
            prev = heads[seq] = e["entry_hash"]
        end = len(self.entries)
        signed = []
        for cp in self.checkpoints:
            cp = {k: v for k, v in cp.items() if k != "signature"}
            if cp["final"]:
                cp["seq"] = end
            cp["head"] = heads[cp["seq"]]
            signed.append({**cp, "signature": self.election.server_key.sign(
                canonical_json(cp)).hex()})
        write_jsonl(self.path / ENTRIES, self.entries)
        write_jsonl(self.path / BALLOTS, self.ballots)
        write_jsonl(self.path / CHECKPOINTS, signed)
        write_json(self.path / COUNTED, self.counted)
        rehash(self.path)


def retally(record: Path, election: SimulatedElection, trustees: tuple[int, ...] = (1, 2)) -> None:
    """The tally operator and ``trustees`` collude: recompute the encrypted tally of the record's
    (edited) counted set, decrypt and sign it with the trustees' shares (their passphrases are the
    simulation's), and finish the record with the tally's own code (results, HASHES.json)."""
    key = election.election_key()
    n2 = int(key.public_key.n_square)
    eid = election.election_id
    ballots = {b["seq"]: b["ballot"] for b in read_jsonl(record / BALLOTS)}
    counted = read_json(record / COUNTED)
    contests: dict[str, tuple[list[int], int]] = {}
    for cid, lists in counted["contests"].items():
        acc = [1] * len(election.contest(cid)["candidates"])
        for x in lists["counted"]:
            acc = [a * int(c, 16) % n2 for a, c in zip(acc, ballots[x["seq"]]["ciphertexts"])]
        contests[cid] = (acc, len(lists["counted"]))
    tally = tally_dict(eid, contests)
    work = record.parent / (record.name + ".work")
    shutil.copytree(record, work)
    write_json(work / "tally/encrypted_tally.json", tally)
    shares = []
    for index in trustees:
        path = next(election.trustees.glob(f"*-trustee-{index}.share.json"))
        share = read_encrypted_share(path, simulation.TRUSTEE_PASSPHRASE.format(index),
                                     allow_insecure_test_key=True)
        decrypted = {cid: compute_decryption_share(share, eid, cid, cts).to_dict()
                     for cid, (cts, _) in contests.items()}
        signed = signed_share_file(eid, share.trustee, share.index, encrypted_tally_hash(tally),
                                   decrypted, Ed25519PrivateKey.from_private_bytes(
                                       share.signing_seed))
        out = record.parent / f"colluding-trustee-{index}.json"
        write_json(out, signed)
        shares.append(out)
    out = record.parent / (record.name + ".new")
    finish(work, shares, out, allow_insecure_test_key=True)
    shutil.rmtree(record)
    shutil.move(str(out), str(record))
