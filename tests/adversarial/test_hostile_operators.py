"""Hostile operators (issue 15): a voting-server or database insider who also holds the server's
signing key tries to change the count of a real election, and fails.

The election is real: `ssbvote simulate` runs the app (SQLite) with a credential authority,
voters who cast over HTTP with their credentials (some re-vote, one votes on paper) and three
insured abstainers on the roll; the app exports the closed board, the tally counts it, the
trustees decrypt, the verifier passes.  Each test then plays one insider: it edits the database
or the exported board, re-chains the entries and re-signs every checkpoint with the server's own
key (what an insider with that key would do), and shows where the attack stops:

* the tally refuses the board (the tally operator is not trusted either, so also:)
* the independent verifier, given the CA key the credential authority published, fails the
  named check on a record carrying the attacked board (docs/record.md §5, checks 17-23); or
* the attack is refused before a voter encrypts (the voting client checks the pins).

The export-level twins of these attacks on builder-made records are in
tests/verifier/test_tamper_v2.py; this file runs them against what the app itself produced.
"""
from __future__ import annotations

import contextlib
import io
import json
import secrets
import shutil
import sqlite3
from datetime import datetime, timedelta
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import ContestStatement, ElectionPublicKey, encrypt_contest
from crypto.credential import ballot_party, ballot_statement, public_credential
from crypto.encoding import canonical_json
from election.board import entry_hash, iso_utc, receipt, sha256_hex
from election.export import EXPORT_FILES
from election.record import HASHES, hashes
from election.signed import public_key_dict, sign, unsigned
from tally.errors import TallyError
from tally.prepare import prepare
from tests.support.factories import EXAMPLES
from tools.cli import main
from tools.voting_client import PinsMismatch, check_pins
from verifier import cli as verifier_cli

pytestmark = pytest.mark.slow
VECTORS = Path(__file__).resolve().parents[1] / "vectors"


@dataclass(frozen=True)
class Honest:
    """The honest election: its record, the app's export and instance, the CA's published key."""

    record: Path
    export: Path
    instance: Path
    ca_key: str
    server_key: Ed25519PrivateKey

    @property
    def database(self) -> Path:
        return self.instance / "simulation.sqlite3"

    def json(self, name: str) -> Any:
        return json.loads((self.export / name).read_bytes())


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Honest:
    base = tmp_path_factory.mktemp("hostile")
    result = CliRunner().invoke(main, [
        "simulate", "--record", str(base / "record"), "--insured", "6", "--employers", "2",
        "--abstainers", "3", "--revote-rate", "0.6", "--paper", "1", "--trustees", "3",
        "--threshold", "2", "--key-bits", "512", "--seed", "15", "--quiet",
        "--manifest", str(EXAMPLES / "small-manifest.json")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Verifier: exit 0" in result.output
    sim = base / ".record.simulation"
    published = (sim / "instance" / "ca" / "ca-public-key.txt").read_text()
    ca_key = next(line.split()[-1] for line in published.splitlines() if line.startswith("public key"))
    key = serialization.load_pem_private_key((sim / "instance" / "signing-key.pem").read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return Honest(base / "record", sim / "board-export", sim / "instance", ca_key, key)


# --- the insider's tools --------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write_jsonl(path: Path, objs: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(canonical_json(o) + b"\n" for o in objs))


class HostileBoard:
    """A copy of the app's board export, edited by an insider holding the server's key."""

    def __init__(self, honest: Honest, dest: Path, export: Path | None = None) -> None:
        shutil.copytree(export or honest.export, dest)
        self.path, self.honest = dest, honest
        self.entries = read_jsonl(dest / "board" / "entries.jsonl")
        self.ballots = read_jsonl(dest / "board" / "ballots.jsonl")
        self.checkpoints = read_jsonl(dest / "board" / "checkpoints.jsonl")
        self.opening = json.loads((dest / "opening.json").read_bytes())
        self.opening_hash = self.checkpoints[0]["opening"]
        self.election_id = self.opening["election_id"]

    def by_credential(self) -> dict[str, list[int]]:
        """credential → list positions of its entries, in board order."""
        out: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            out.setdefault(entry["credential"], []).append(i)
        return out

    def revoters(self) -> list[list[int]]:
        return [positions for positions in self.by_credential().values() if len(positions) >= 2]

    def append(self, entry: dict[str, Any], ballot: dict[str, Any]) -> None:
        entry = dict(entry, cast_at=self.entries[-1]["cast_at"])
        self.entries.append(entry)
        self.ballots.append({"seq": 0, "pseudonym": entry["pseudonym"], "contest": entry["contest"],
                             "ballot": ballot})

    def forged_ballot(self, pseudonym: str, credential: str, contest: str, previous: str,
                      signer: Ed25519PrivateKey) -> tuple[dict[str, Any], dict[str, Any]]:
        """A ballot with VALID proofs for ``pseudonym``/``credential`` (anyone can encrypt under
        the public key), whose statement ``signer`` signs — the real voter's key if the insider
        had it, which it does not."""
        key = ElectionPublicKey.from_dict(self.honest.json("election_key.json"),
                                          allow_insecure_test_key=True)
        manifest = self.honest.json("manifest.json")
        spec = next(c for c in manifest["contests"] if c["id"] == contest)
        statement = ContestStatement(key.public_key, self.election_id, contest,
                                     ballot_party(pseudonym, credential), len(spec["candidates"]),
                                     spec["max_selections"])
        selections = [1] * spec["max_selections"] + [0] * (len(spec["candidates"]) - spec["max_selections"])
        ballot = encrypt_contest(statement, selections, secrets.token_bytes(32)).to_dict()
        ballot_hash = sha256_hex(canonical_json(ballot))
        signed = ballot_statement(self.election_id, self.opening_hash, contest, pseudonym, credential,
                                  ballot_hash, previous=previous)
        entry = {"seq": 0, "election_id": self.election_id, "kind": "ballot", "pseudonym": pseudonym, "contest": contest,
                 "credential": credential, "previous": previous,
                 "signature": signer.sign(canonical_json(signed)).hex(), "ballot_hash": ballot_hash,
                 "cast_at": "", "prev_hash": "", "entry_hash": ""}
        return entry, ballot

    def save(self, key: Ed25519PrivateKey | None = None) -> Path:
        """Re-chain every entry and re-sign every checkpoint (the final one at the new head) with
        ``key`` (the server's own by default), as the insider would."""
        key = key or self.honest.server_key
        prev, heads = self.election_id, {0: self.election_id}
        for seq, (entry, line) in enumerate(zip(self.entries, self.ballots), start=1):
            entry["seq"] = line["seq"] = seq
            entry["prev_hash"] = prev
            entry["entry_hash"] = prev = heads[seq] = entry_hash(entry)
        size = len(self.entries)
        kept = [cp for cp in self.checkpoints if not cp["final"] and cp["seq"] < size]
        final = dict(self.checkpoints[-1], seq=size)
        self.checkpoints = [sign(dict(unsigned(cp), head=heads[cp["seq"]]), key) for cp in kept + [final]]
        write_jsonl(self.path / "board" / "entries.jsonl", self.entries)
        write_jsonl(self.path / "board" / "ballots.jsonl", self.ballots)
        write_jsonl(self.path / "board" / "checkpoints.jsonl", self.checkpoints)
        (self.path / "board_key.json").write_bytes(canonical_json(public_key_dict(key)))
        return self.path


def export_from_database(honest: Honest, dest: Path, edit: Callable[[sqlite3.Connection], None]) -> Path:
    """Copy the app's instance, let ``edit`` change its database with SQL, then export the board
    with the app's own export service; the app's refusal is raised as it is."""
    from app import create_app
    from app.config import Config
    from app.extensions import db
    from app.services.administration.manifest import get_election
    from app.services.voting import board_export

    instance = dest / "instance"
    shutil.copytree(honest.instance, instance)
    with contextlib.closing(sqlite3.connect(instance / "simulation.sqlite3")) as connection:
        edit(connection)
        connection.commit()
    config = Config.from_env({"SSBVOTE_ENV": "development", "SSBVOTE_INSTANCE": str(instance),
                              "DATABASE_URL": f"sqlite:///{instance / 'simulation.sqlite3'}",
                              "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1"})
    app = create_app(config)
    with app.app_context():
        try:
            return board_export.export(get_election("ssb-simulation"), dest / "export")
        finally:
            db.session.remove()
            db.engine.dispose()


# --- where an attack stops ------------------------------------------------------------------


def tally_refusal(export: Path, work: Path) -> str | None:
    """The tally's refusal of the board, or None if it counts it."""
    try:
        prepare(export, work, processes=1, allow_insecure_test_key=True, show_progress=False)
    except TallyError as exc:
        return str(exc)
    return None


def run_verifier(record: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verifier_cli.main([str(record), "--json", "--allow-test-key", "--processes", "1",
                                  "--progress", "never", *extra])
    return code, json.loads(out.getvalue())


def failed_checks(honest: Honest, export: Path, dest: Path) -> set[str]:
    """The checks the verifier fails on a record that carries the attacked board: the honest
    record with the export's files swapped in and HASHES.json recomputed (a hostile tally
    operator publishes whatever board it likes)."""
    shutil.copytree(honest.record, dest)
    for name in EXPORT_FILES:
        if (export / name).exists():
            shutil.copyfile(export / name, dest / name)
    (dest / HASHES).write_bytes(canonical_json(hashes(dest)))
    code, doc = run_verifier(dest, "--ca-key", honest.ca_key)
    assert code == 1, doc
    return {c["name"] for c in doc["checks"] if c["status"] == "fail"}


def stopped(honest: Honest, export: Path, tmp: Path, check: str, refusal: str) -> None:
    """The tally refuses the attacked board naming ``refusal``, and the verifier fails ``check``."""
    reason = tally_refusal(export, tmp / "work")
    assert reason is not None and refusal in reason, reason
    assert check in failed_checks(honest, export, tmp / "record")


# --- the baseline ---------------------------------------------------------------------------


def test_the_honest_election_verifies_and_a_re_signed_untouched_board_still_does(
        honest: Honest, tmp_path: Path) -> None:
    code, doc = run_verifier(honest.record, "--ca-key", honest.ca_key)
    assert code == 0, [c for c in doc["checks"] if c["status"] != "pass"]
    board = HostileBoard(honest, tmp_path / "export")
    credentials = json.loads((honest.export / "credentials.json").read_bytes())["contests"]
    assert len({e["credential"] for e in board.entries}) < sum(len(v) for v in credentials.values())
    assert board.revoters(), "the simulation must have re-voters"
    # The insider's tools change nothing by themselves: re-chaining and re-signing an untouched
    # board gives the same bytes, so every failure below is caused by the attack itself.
    board.save()
    for name in ("board/entries.jsonl", "board/checkpoints.jsonl", "board/ballots.jsonl"):
        assert (tmp_path / "export" / name).read_bytes() == (honest.export / name).read_bytes()


# --- stuffing ------------------------------------------------------------------------------


def test_stuffing_a_ballot_for_an_abstainer(honest: Honest, tmp_path: Path) -> None:
    """The server knows every abstainer's public credential and pseudonym (its database maps
    them), makes a ballot with valid proofs, but cannot sign with the abstainer's key."""
    board = HostileBoard(honest, tmp_path / "export")
    with contextlib.closing(sqlite3.connect(honest.database)) as db:
        rows = db.execute("SELECT r.pseudonym, c.credential FROM voter_credential c "
                          "JOIN roll_entry r ON r.id = c.roll_entry_pk WHERE r.electorate = 'insured'").fetchall()
    voted = {e["credential"] for e in board.entries}
    pseudonym, credential = next((p, c) for p, c in rows if c not in voted)
    contest = next(c["id"] for c in honest.json("manifest.json")["contests"] if c["electorate"] == "insured")
    board.append(*board.forged_ballot(pseudonym, credential, contest, "", Ed25519PrivateKey.generate()))
    stopped(honest, board.save(), tmp_path, "board.signatures", "signature")


def test_stuffing_a_ballot_for_an_invented_voter(honest: Honest, tmp_path: Path) -> None:
    """An invented pseudonym with a credential the insider made itself: signed correctly, but
    not on the credential authority's signed list."""
    board = HostileBoard(honest, tmp_path / "export")
    key = Ed25519PrivateKey.generate()
    contest = next(c["id"] for c in honest.json("manifest.json")["contests"] if c["electorate"] == "insured")
    board.append(*board.forged_ballot(secrets.token_hex(16), public_credential(key), contest, "", key))
    stopped(honest, board.save(), tmp_path, "board.signatures", "credential")


def test_a_fake_re_vote_injected_for_a_real_voter(honest: Honest, tmp_path: Path) -> None:
    board = HostileBoard(honest, tmp_path / "export")
    last = board.entries[board.by_credential()[board.entries[0]["credential"]][-1]]
    board.append(*board.forged_ballot(last["pseudonym"], last["credential"], last["contest"],
                                      last["ballot_hash"], Ed25519PrivateKey.generate()))
    stopped(honest, board.save(), tmp_path, "board.signatures", "signature")


def test_a_voters_earlier_ballot_replayed_to_undo_the_re_vote(honest: Honest, tmp_path: Path) -> None:
    """The voter's own first ballot, signature and all, appended again after their re-vote."""
    board = HostileBoard(honest, tmp_path / "export")
    first = board.revoters()[0][0]
    board.append(dict(board.entries[first]), dict(board.ballots[first])["ballot"])
    export = board.save()
    reason = tally_refusal(export, tmp_path / "work")
    assert reason is not None
    failed = failed_checks(honest, export, tmp_path / "record")
    assert {"board.unique", "board.signatures"} <= failed


# --- dropping and reordering -----------------------------------------------------------------


def test_a_superseded_ballot_dropped(honest: Honest, tmp_path: Path) -> None:
    """Dropping a re-voter's earlier ballot breaks the chain the voter's signatures make."""
    board = HostileBoard(honest, tmp_path / "export")
    drop = board.revoters()[0][0]
    del board.entries[drop], board.ballots[drop]
    stopped(honest, board.save(), tmp_path, "board.signatures", "previous")


def test_a_counted_ballot_dropped_is_shown_by_the_voters_receipt(honest: Honest, tmp_path: Path) -> None:
    """A voter's LAST ballot can be dropped and the board re-signed without breaking any chain:
    only the voter's signed receipt shows it (docs/record.md §5: voters are asked to check)."""
    board = HostileBoard(honest, tmp_path / "export")
    position = board.by_credential()[board.entries[-1]["credential"]][-1]
    held = sign(receipt(board.entries[position], opening=board.opening_hash), honest.server_key)
    del board.entries[position], board.ballots[position]
    export = board.save()
    assert tally_refusal(export, tmp_path / "work") is None  # the tally cannot see it
    record = tmp_path / "record"
    assert "board.signatures" not in failed_checks(honest, export, record)
    (tmp_path / "receipt.json").write_bytes(canonical_json(held))
    code, doc = run_verifier(record, "--receipt", str(tmp_path / "receipt.json"), "--ca-key", honest.ca_key)
    assert code == 1, doc


def test_a_voters_ballots_reordered(honest: Honest, tmp_path: Path) -> None:
    """The insider swaps a re-voter's two ballots (and their times) so that the first counts."""
    board = HostileBoard(honest, tmp_path / "export")
    a, b = board.revoters()[0][:2]
    board.entries[a], board.entries[b] = board.entries[b], board.entries[a]
    board.ballots[a], board.ballots[b] = board.ballots[b], board.ballots[a]
    board.entries[a]["cast_at"], board.entries[b]["cast_at"] = board.entries[b]["cast_at"], board.entries[a]["cast_at"]
    stopped(honest, board.save(), tmp_path, "board.signatures", "previous")


def test_cast_at_moved_outside_the_poll_window(honest: Honest, tmp_path: Path) -> None:
    board = HostileBoard(honest, tmp_path / "export")
    closes = honest.json("manifest.json")["poll_window"]["closes"]
    board.entries[-1]["cast_at"] = iso_utc(datetime.fromisoformat(closes) + timedelta(hours=1))
    export = board.save()
    assert "board.times" in failed_checks(honest, export, tmp_path / "record")


# --- the paper list and the keys -------------------------------------------------------------


def test_the_paper_list_edited_in_the_database(honest: Honest, tmp_path: Path) -> None:
    """The insider adds a counted voter to the signed paper list (so their e-vote is dropped) and
    signs it with the server key in place of an official's."""
    board = HostileBoard(honest, tmp_path / "honest-export")
    victim = board.entries[-1]["pseudonym"]

    def edit(db: sqlite3.Connection) -> None:
        (body,) = db.execute("SELECT body FROM paper_override_list").fetchone()
        paper = json.loads(body)
        paper["pseudonyms"] = sorted(set(paper["pseudonyms"]) | {victim})
        unsigned_list = {k: v for k, v in paper.items() if k != "signatures"}
        forged = honest.server_key.sign(canonical_json(unsigned_list)).hex()
        paper["signatures"][0]["signature"] = forged
        db.execute("UPDATE paper_override_list SET body = ?", (canonical_json(paper).decode(),))

    export = export_from_database(honest, tmp_path, edit)
    stopped(honest, export, tmp_path, "overrides.officials", "official")


def test_the_whole_board_re_signed_with_a_new_board_key(honest: Honest, tmp_path: Path) -> None:
    board = HostileBoard(honest, tmp_path / "export")
    stopped(honest, board.save(Ed25519PrivateKey.generate()), tmp_path, "pins.opening", "board_key")


def test_the_election_key_swapped_in_the_database(honest: Honest, tmp_path: Path) -> None:
    """A database insider replaces the election key column with a key whose secret it holds:
    the voting client refuses to encrypt under it (the CA pinned the real one), and the app
    tally and the verifier refuse a board exported under it."""
    other = json.loads((VECTORS / "test_key.json").read_text())["election_key"]
    # What a voter's device receives: the ballot context with the swapped key.
    opening = json.loads((honest.export / "opening.json").read_bytes())
    context = {"election_id": opening["election_id"], "election_key": other, "opening": opening}
    assert check_pins(dict(context, election_key=honest.json("election_key.json")), honest.ca_key)
    with pytest.raises(PinsMismatch, match="election key"):
        check_pins(context, honest.ca_key)

    def edit(db: sqlite3.Connection) -> None:
        db.execute("UPDATE election SET election_key = ?", (canonical_json(other).decode(),))

    # The app writes what its database holds; the tally and the verifier refuse it.
    stopped(honest, export_from_database(honest, tmp_path, edit), tmp_path, "pins.opening", "election_key")
