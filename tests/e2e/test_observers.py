"""Observers follow a live election over real HTTP (issue 23, docs/record.md §3.2–§3.5).

Voters cast with the Python voting client (tools/voting_client.py) against the app served on
127.0.0.1; observers run ``python -m verifier --follow`` in subprocesses.  The attacks are done
for real: the server rewrites a board entry in its database and re-chains and re-signs the
checkpoints from there with its own board key; it drops a witness's statement from the export.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, select

from app.extensions import db
from app.models import BoardEntry, BoardHead, Checkpoint, Election, WitnessStatement
from app.models.base import utcnow
from app.services.identity import activation
from app.services.voting import board, board_export
from crypto.encoding import canonical_json
from election.board import sha256_hex
from tally.errors import BoardRefused
from tally.finish import finish
from tally.prepare import ENCRYPTED_TALLY, prepare
from tally.trustee import decrypt
from tests.conftest import build_app, make_config
from tests.support import election_setup
from tests.support.auth_client import FAST_ARGON2, PASSWORD
from tests.support.live import serving
from tools import scenario
from tools.voting_client import VotingClient
from verifier.witness import keygen

ROOT = Path(__file__).resolve().parents[2]
WITNESSES = ("observer-a", "observer-b")
INSURED = 5


@dataclass
class Observed:
    url: str  # the server
    app: Flask
    slug: str
    ca_key: str
    tmp: Path
    setup: Any
    keys: dict[str, Path]  # witness → private key file
    cast_count: int = 0
    clients: dict[str, VotingClient] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.url}/api/elections/{self.slug}/"

    def cast(self, kind: str, index: int, selections: list[int]) -> None:
        """Voter ``index`` of ``kind`` registers, signs in and casts over HTTP."""
        if kind == "insured":
            voter = self.setup.ids[index]
        else:
            voter = "1000000001"
        attribute = self.setup.codes[voter]  # the activation letter (docs/accounts.md §9)
        client = self.clients.get(voter)
        if client is None:  # a voter who casts again keeps their session
            client = VotingClient(self.url, kind, credential=self.setup.credentials[voter],
                                  ca_key=self.ca_key, allow_insecure_test_key=True)
            client.register(voter, attribute, PASSWORD)
            self.clients[voter] = client
        client.cast(self.slug, selections)
        self.cast_count += 1

    def audit(self, index: int, selections: list[int]) -> None:
        """Insured voter ``index`` audits an encryption of ``selections`` (docs/protocol.md §14):
        an audit entry, never a cast ballot."""
        voter = self.setup.ids[index]
        client = self.clients.get(voter)
        if client is None:
            client = VotingClient(self.url, "insured", credential=self.setup.credentials[voter],
                                  ca_key=self.ca_key, allow_insecure_test_key=True)
            client.register(voter, self.setup.codes[voter], PASSWORD)
            self.clients[voter] = client
        client.audit(self.slug, selections)

    def follow(self, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "verifier", "--follow", self.api, "--state",
             str(self.tmp / f"{name}.json"), "--ca-key", self.ca_key, "--allow-test-key",
             "--processes", "1", *extra],
            capture_output=True, text=True, cwd=ROOT, timeout=300)

    def witness_sign(self, name: str, post: bool = True) -> subprocess.CompletedProcess[str]:
        out = self.tmp / f"{name}-statement.json"
        return subprocess.run(
            [sys.executable, "-m", "verifier", "witness", "sign", "--key", str(self.keys[name]),
             "--name", name, "--state", str(self.tmp / f"{name}.json"), "--out", str(out)]
            + (["--post", self.api + "witnesses"] if post else []),
            capture_output=True, text=True, cwd=ROOT, timeout=60)

    def election(self) -> Election:
        db.session.expire_all()
        found = db.session.scalar(select(Election).where(Election.slug == self.slug))
        assert found is not None
        return found


@pytest.fixture
def observed(tmp_path: Path) -> Iterator[Observed]:
    keys = {name: tmp_path / f"{name}.key" for name in WITNESSES}
    pins = tuple((name, keygen(path)) for name, path in keys.items())
    app = build_app(make_config(tmp_path, **FAST_ARGON2, BOARD_CHECKPOINT_EVERY=2,
                                AUTH_IP_RATE_LIMIT="1000 per minute",
                                CAST_RATE_LIMIT="1000 per hour"))
    with app.app_context():
        ids = scenario.national_ids(INSURED)
        person = scenario.national_ids(1, seed=7)[0]
        now = utcnow()
        manifest = scenario.with_poll_window(scenario.small_manifest(), now - timedelta(hours=1),
                                             now + timedelta(days=1))
        setup = election_setup.ready_election(
            manifest, [scenario.insured_csv(ids), scenario.employer_csv([("1000000001", person)])],
            tmp_path / "trustees", now, witnesses=pins)
        assert setup.authority is not None
        # Each voter's activation letter (docs/accounts.md §9), as the test sender writes it.
        codes = activation.issue_for_election(setup.election.id, now, "test")
        setup_view = SimpleNamespace(ids=ids, employer_person=person, credentials=setup.credentials,
                                     ceremony=setup.ceremony, codes=codes)
        slug, ca_key = setup.slug, setup.authority.ca_public_key
        db.session.remove()
    with serving(app, "ssbvote-observed") as url, app.app_context():
        yield Observed(url, app, slug, ca_key, tmp_path, setup_view, keys)
        db.session.remove()


def _close_and_export(o: Observed, folder: str) -> Path:
    election = o.election()
    now = utcnow()
    election_setup.close_polls(election, now)
    election_setup.record_paper_votes(election, "voter_id\n", now)
    return board_export.export(o.election(), o.tmp / folder)


def _tally(o: Observed, export: Path, *witness_files: Path) -> Path:
    work, record = o.tmp / "work", o.tmp / "record"
    prepare(export, work, processes=1, allow_insecure_test_key=True, show_progress=False,
            witnesses=witness_files)
    outs = []
    for index, (share, (_name, passphrase)) in enumerate(
            zip(o.setup.ceremony.share_files, election_setup.TRUSTEES), start=1):
        if index > 2:
            break
        out = o.tmp / f"share-{index}.json"
        decrypt(share, work / ENCRYPTED_TALLY, out, passphrase, allow_insecure_test_key=True)
        outs.append(out)
    finish(work, outs, record, allow_insecure_test_key=True)
    return record


def _verify(o: Observed, record: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    run = subprocess.run([sys.executable, "-m", "verifier", str(record), "--ca-key", o.ca_key,
                          "--allow-test-key", "--processes", "1", "--json", *extra],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    return run.returncode, json.loads(run.stdout)


def _check(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in doc["checks"] if c["name"] == name)


def test_observers_follow_an_honest_election_and_two_witnesses_cosign_the_record(
        observed: Observed) -> None:
    o = observed
    for i in range(3):
        o.cast("insured", i, [1, 0, 1, 0, 0])
    o.cast("employer", 0, [0, 1, 0, 0])  # seq 4: checkpoints at 2 and 4
    for name in WITNESSES:
        run = o.follow(name)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "verified up to seq 4" in run.stdout and "4 new ballots" in run.stdout
        assert "insured: 3 ballots on the board, 3 distinct voters" in run.stdout
    o.cast("insured", 3, [0, 0, 0, 1, 1])
    o.cast("insured", 0, [0, 1, 0, 0, 0])  # a re-vote: seq 6, 5 ballots of 4 voters insured
    run = o.follow("observer-a")
    assert run.returncode == 0, run.stdout + run.stderr
    # only what is new is fetched and its proofs verified
    assert "verified up to seq 6" in run.stdout and "2 new ballots" in run.stdout
    assert "insured: 5 ballots on the board, 4 distinct voters" in run.stdout
    state = json.loads((o.tmp / "observer-a.json").read_text())
    assert [cp["seq"] for cp in state["checkpoints"]] == [0, 2, 4, 6]  # one at opening
    assert state["verified"]["seq"] == 6

    # the snapshot mode on the observer's own copy, with the saved checkpoints
    snap = subprocess.run([sys.executable, "-m", "verifier", "--snapshot",
                           str(o.tmp / "observer-a.json.board"), "--ca-key", o.ca_key,
                           "--allow-test-key", "--seen", str(o.tmp / "observer-a.json"), "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    doc = json.loads(snap.stdout)
    assert snap.returncode == 0, [c for c in doc["checks"] if c["status"] != "pass"]
    assert _check(doc, "ballots.proofs")["notes"][0]["params"]["count"] == 6

    election_setup.close_polls(o.election(), utcnow())  # the final checkpoint, at 6
    for name in WITNESSES:
        run = o.follow(name)
        assert run.returncode == 0, run.stdout + run.stderr
        signed = o.witness_sign(name)
        assert signed.returncode == 0, signed.stderr
        assert "posted: 201" in signed.stderr
    election_setup.record_paper_votes(o.election(), "voter_id\n", utcnow())
    export = board_export.export(o.election(), o.tmp / "closed")
    assert sorted(p.name for p in (export / "witnesses").iterdir()) == [
        "observer-a.json", "observer-b.json"]
    record = _tally(o, export)
    assert sorted(p.name for p in (record / "witnesses").iterdir()) == [
        "observer-a.json", "observer-b.json"]
    code, doc = _verify(o, record, "--seen", str(o.tmp / "observer-a.json"))
    assert code == 0, [c for c in doc["checks"] if c["status"] != "pass"]
    witnesses = _check(doc, "witnesses.statements")
    assert witnesses["notes"][0]["params"] == {"count": 2, "pinned": 2}
    assert _check(doc, "board.seen")["notes"][-1]["params"]["count"] == 5  # 0, 2, 4, 6, final 6

    # a witness statement in the record that is altered fails check 33
    tampered = json.loads((record / "witnesses" / "observer-b.json").read_text())
    tampered["seq"] = 5
    (record / "witnesses" / "observer-b.json").write_bytes(canonical_json(tampered))
    code, doc = _verify(o, record)
    assert code == 1 and _check(doc, "witnesses.statements")["status"] == "fail"


def _fork(o: Observed, seq: int) -> None:
    """The cheating server rewrites entry ``seq`` in its database, re-chains every later entry
    and re-signs every checkpoint from there with its own board key (docs/record.md §3.4)."""
    election = o.election()
    rows = list(db.session.scalars(select(BoardEntry).where(BoardEntry.election_pk == election.id)
                                   .order_by(BoardEntry.seq)))
    target = rows[seq - 1]
    target.cast_at = target.cast_at[:-2] + ("1Z" if target.cast_at[-2] != "1" else "2Z")
    prev = rows[seq - 2].entry_hash if seq > 1 else election.election_id
    heads = {0: election.election_id}
    for row in rows:
        if row.seq >= seq:
            row.prev_hash = prev
            body = board.entry_dict(row, election.election_id)
            del body["entry_hash"]
            row.entry_hash = sha256_hex(canonical_json(body))
        prev = row.entry_hash
        heads[row.seq] = row.entry_hash
    old = list(db.session.scalars(select(Checkpoint).where(Checkpoint.election_pk == election.id)
                                  .order_by(Checkpoint.id)))
    db.session.execute(delete(Checkpoint).where(Checkpoint.election_pk == election.id))
    for cp in old:
        board.write_checkpoint(election, SimpleNamespace(seq=cp.seq, head=heads[cp.seq]),  # type: ignore[arg-type]
                               utcnow(), final=cp.final)
    head = db.session.scalar(select(BoardHead).where(BoardHead.election_pk == election.id))
    assert head is not None
    head.head = heads[head.seq]
    db.session.commit()
    assert board.verify_chain(o.election()) == []  # the forked board is self-consistent
    db.session.rollback()  # end the read: SQLite would lock the server's writers out


def test_a_forked_board_is_caught_by_the_observer_the_record_check_and_the_tally(
        observed: Observed) -> None:
    o = observed
    for i in range(4):
        o.cast("insured", i, [1, 1, 0, 0, 0])
    run = o.follow("observer-a")
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads((o.tmp / "observer-a.json").read_text())
    seen_head_2 = next(cp["head"] for cp in seen["checkpoints"] if cp["seq"] == 2)
    signed = o.witness_sign("observer-a")  # (4, head) co-signed and stored by the server
    assert signed.returncode == 0, signed.stderr
    statement = o.tmp / "observer-a-statement.json"

    _fork(o, 2)
    o.cast("insured", 4, [0, 0, 1, 1, 0])
    o.cast("employer", 0, [1, 0, 0, 0])

    run = o.follow("observer-a")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "EQUIVOCATION at seq 2" in run.stdout and seen_head_2 in run.stdout
    # the state kept both signed heads for seq 2: proof of equivocation
    state = json.loads((o.tmp / "observer-a.json").read_text())
    heads_2 = {cp["head"] for cp in state["checkpoints"] if cp["seq"] == 2}
    assert len(heads_2) == 2 and seen_head_2 in heads_2

    # a witness statement of the old board is refused now (409), a new one never goes back
    request = urllib.request.Request(o.api + "witnesses", data=statement.read_bytes(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)  # noqa: S310 - loopback
    assert refused.value.code == 409
    assert json.loads(refused.value.read())["error"] == "not_on_board"

    export = _close_and_export(o, "closed")
    # the tally refuses to start: the witness's last head (from the export) is not on the board
    with pytest.raises(BoardRefused, match="witness observer-a: its latest statement .seq 4"):
        prepare(export, o.tmp / "work-1", processes=1, allow_insecure_test_key=True,
                show_progress=False)
    # a server that drops the statement from its database does not hide it: the witness hands
    # it to the tally operator (--witness)
    db.session.execute(delete(WitnessStatement))
    db.session.commit()
    export = board_export.export(o.election(), o.tmp / "closed-2")
    assert not (export / "witnesses").exists()
    with pytest.raises(BoardRefused, match="witness observer-a"):
        prepare(export, o.tmp / "work-2", processes=1, allow_insecure_test_key=True,
                show_progress=False, witnesses=[statement])

    # the record the cheating operator publishes anyway fails for the observer's saved heads
    record = _tally(o, export)
    code, doc = _verify(o, record)
    assert code == 0, [c for c in doc["checks"] if c["status"] != "pass"]  # self-consistent
    code, doc = _verify(o, record, "--seen", str(o.tmp / "observer-a.json"))
    assert code == 1
    seen_check = _check(doc, "board.seen")
    assert seen_check["status"] == "fail"
    codes = [f["code"] for f in seen_check["failures"]]
    assert "seen.equivocation" in codes
    gone = next(f for f in seen_check["failures"] if f["code"] == "seen.not_on_chain")
    assert gone["params"]["seq"] == 2 and gone["params"]["head"] == seen_head_2


def test_the_snapshot_api_refuses_bad_ranges_and_unsigned_entries(observed: Observed) -> None:
    o = observed
    for i in range(3):
        o.cast("insured", i, [1, 0, 0, 0, 0])  # one checkpoint, at 2; entry 3 is unsigned

    def get(query: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(o.api + query) as answer:  # noqa: S310 - loopback
                return answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    status, body = get("entries?after=0&upto=2")
    assert status == 200 and len(body.splitlines()) == 2
    for bad in ("entries?after=0&upto=3", "entries?after=2&upto=2", "entries?after=-1&upto=2",
                "entries?after=00&upto=2", "entries?after=0", "entries?after=0&upto=2&x=1",
                "ballots?after=0&upto=1e1", "entries?after=0&upto=99999999999999999999",
                "entries?after=0&upto=9007199254740993"):  # 2^53 + 1: past every URL integer
        status, body = get(bad)
        assert status == 400 and json.loads(body)["error"] == "bad_range", bad
    status, body = get("ballots?after=1&upto=2")
    assert status == 200 and json.loads(body)["seq"] == 2  # encrypted ballots are public live
    status, _ = get("snapshot/secret.json")
    assert status == 404


def test_witness_statements_are_checked_and_a_server_changing_what_was_seen_is_caught(
        observed: Observed) -> None:
    o = observed
    for i in range(2):
        o.cast("insured", i, [0, 0, 1, 0, 0])  # checkpoint at 2
    run = o.follow("observer-a")
    assert run.returncode == 0, run.stdout + run.stderr
    state = json.loads((o.tmp / "observer-a.json").read_text())

    def post(obj: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(o.api + "witnesses", data=json.dumps(obj).encode(),
                                         headers={"Content-Type": "application/json"},
                                         method="POST")
        try:
            with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    from verifier.witness import load_key, sign_statement
    key_a, key_b = load_key(o.keys["observer-a"]), load_key(o.keys["observer-b"])
    head = state["verified"]["head"]
    # signed with another witness's key (or the server's own): refused
    status, body = post(sign_statement(key_b, "observer-a", state["election_id"],
                                       state["opening"], 2, head))
    assert status == 400 and body["error"] == "witness_refused"
    status, body = post(sign_statement(key_a, "observer-z", state["election_id"],
                                       state["opening"], 2, head))
    assert status == 400 and body["error"] == "witness_refused"  # not pinned
    status, body = post(sign_statement(key_a, "observer-a", state["election_id"],
                                       state["opening"], 2, "ab" * 32))
    assert status == 409 and body["error"] == "not_on_board"
    # the one strict JSON parser of every /api endpoint (issue 22): a duplicate key is malformed
    good = sign_statement(key_a, "observer-a", state["election_id"], state["opening"], 2, head)
    doubled = json.dumps(good)[:-1] + ', "seq": 1}'
    request = urllib.request.Request(o.api + "witnesses", data=doubled.encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)  # noqa: S310 - loopback
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"] == "malformed"
    assert post(sign_statement(key_a, "observer-a", state["election_id"], state["opening"], 2,
                               head))[0] == 201
    status, body = post(sign_statement(key_a, "observer-a", state["election_id"],
                                       state["opening"], 0, state["election_id"]))
    assert status == 409  # a statement never goes back

    # the server serves a checkpoint it did not sign (its head rewritten in the database)
    election = o.election()
    row = db.session.scalars(select(Checkpoint).where(Checkpoint.election_pk == election.id)
                             .order_by(Checkpoint.id.desc())).first()
    assert row is not None
    original = row.body
    row.body = original.replace(head, "ab" * 32)
    db.session.commit()
    run = o.follow("observer-a")
    assert run.returncode == 1 and "signature does not verify" in run.stdout, run.stdout
    row.body = original
    db.session.commit()

    # the server swaps a pinned file after the observer first fetched it
    election = o.election()
    saved = election.opening
    assert saved is not None
    opening = json.loads(saved)
    election.opening = json.dumps({**opening, "at": "2026-01-01T00:00:00.000000Z"})
    db.session.commit()
    run = o.follow("observer-a")
    assert run.returncode == 1 and "opening.json changed" in run.stdout, run.stdout
    election = o.election()
    election.opening = saved
    db.session.commit()
    run = o.follow("observer-a", "--interval", "0.2", "--rounds", "2")  # the loop
    assert run.returncode == 0, run.stdout + run.stderr
    assert "round 1: verified up to seq 2" in run.stdout and "round 2: verified up to seq 2" in run.stdout


def test_audit_entries_are_served_checked_live_and_not_turnout(observed: Observed) -> None:
    """Record version 3 (issue 16): the entries API serves audit entries like ballot entries;
    the observer opens every audit (check 29) and counts only cast ballots and the credentials
    that cast them — on the page as in the verifier (check 35)."""
    o = observed
    o.audit(4, [1, 0, 0, 0, 0])        # seq 1: voter 4 only audits
    o.cast("insured", 0, [1, 0, 0, 0, 0])   # seq 2
    o.audit(0, [0, 1, 0, 0, 0])        # seq 3: voter 0 audits after casting
    o.cast("insured", 1, [0, 0, 1, 0, 0])   # seq 4: checkpoints at 2 and 4
    with urllib.request.urlopen(o.api + "entries?after=0&upto=4") as answer:  # noqa: S310
        served = [json.loads(line) for line in answer.read().splitlines()]
    assert [e["kind"] for e in served] == ["audit", "ballot", "audit", "ballot"]
    assert "seed" in served[0] and "previous" not in served[0]

    run = o.follow("observer-a")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "insured: 2 ballots on the board, 2 distinct voters" in run.stdout, run.stdout
    snap = subprocess.run([sys.executable, "-m", "verifier", "--snapshot",
                           str(o.tmp / "observer-a.json.board"), "--ca-key", o.ca_key,
                           "--allow-test-key", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    doc = json.loads(snap.stdout)
    assert snap.returncode == 0, [c for c in doc["checks"] if c["status"] != "pass"]
    assert _check(doc, "audits.open")["notes"][0]["params"] == {"count": 2, "opened": 2}
    turnout = _check(doc, "board.turnout")["notes"]
    assert {"code": "board_turnout.audits", "params": {"contest": "insured", "audits": 2}} in [
        {"code": n["code"], "params": n["params"]} for n in turnout]

    from app.services.voting import observers
    view = observers.view(o.election())
    insured = next(t for t in view.turnout if t.code == "insured")
    assert (insured.ballots, insured.voters) == (2, 2)
