"""Fixtures: complete election records (format version 4) built with
tests/support/board_builder.py and the tally CLI (``python -m tally prepare / trustee decrypt /
finish``), then copied per test for tampering.  The tests may use crypto/ and tally/ to *build*
records; verifier/ never imports them (test_independence.py).

Beside each record (``<record>/../ca-key.hex``) is the credential authority's public key as the
CA publishes it; :func:`run_verifier` gives it to the verifier with ``--ca-key`` (the file form
of the option), as an observer does (docs/record.md §2.0)."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.support.board_builder import BoardFixture, build_board_export
from verifier import cli

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BuiltRecord:
    path: Path
    board: BoardFixture


def _tally(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "tally", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"tally {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"


CA_KEY_FILE = "ca-key.hex"  # beside the record: the CA's published public key


def ca_public_hex(board: BoardFixture) -> str:
    """The CA's public key (64 hex) of a built board."""
    return str(board.ca_public_hex)


def ca_key_file(record: Path) -> Path:
    return record.parent / CA_KEY_FILE


def build_record(base: Path, **board_args: Any) -> BuiltRecord:
    """Closed board → tally prepare → every trustee decrypts → finish → the record."""
    fx = build_board_export(base / "board", shares_dir=base / "trustees", **board_args)
    (base / CA_KEY_FILE).write_text(ca_public_hex(fx) + "\n")
    work = base / "work"
    _tally("prepare", str(fx.path), "--work", str(work), "--quiet", "--processes", "1",
           "--allow-insecure-test-key")
    shares = []
    for i, (share_file, passphrase) in enumerate(zip(fx.share_files, fx.passphrases), start=1):
        pw = base / f"passphrase-{i}"
        pw.write_text(passphrase)
        out = base / f"trustee-{i}.json"
        _tally("trustee", "decrypt", "--share", str(share_file), "--tally",
               str(work / "tally" / "encrypted_tally.json"), "--out", str(out),
               "--passphrase-file", str(pw), "--allow-insecure-test-key")
        shares += ["--shares", str(out)]
    _tally("finish", "--work", str(work), *shares, "--record", str(base / "record"),
           "--allow-insecure-test-key")
    return BuiltRecord(base / "record", fx)


@pytest.fixture(scope="session")
def built_record(tmp_path_factory: pytest.TempPathFactory) -> BuiltRecord:
    """~20 insured + 5 employers, re-votes, 2 paper overrides, a credential revoked and
    replaced (the replacement votes) and one revoked for good, non-voting credentials, 3
    trustees threshold 2, 512-bit test key."""
    return build_record(tmp_path_factory.mktemp("record"), insured=20, employers=5,
                        revote_rate=0.4, paper=2, revoked=1, revoked_final=1, trustees=3,
                        threshold=2, key_bits=512, seed=11)


@pytest.fixture(scope="session")
def record_with_invalid_ballot(tmp_path_factory: pytest.TempPathFactory) -> BuiltRecord:
    """A record whose tally excluded one invalid last ballot (the server should have refused
    it)."""
    return build_record(tmp_path_factory.mktemp("invalid"), insured=8, employers=3,
                        revote_rate=0.3, paper=1, invalid_ballots=1, seed=5)


@pytest.fixture(scope="session")
def audited_election(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real election with audited ballots (``ssbvote simulate --audits``), the devices' seeds
    and the voters' credentials logged (tests/verifier/auditrecord.py); ~1.5 minutes, once."""
    from tests.verifier.auditrecord import simulate_with_audits  # it imports this module
    return simulate_with_audits(tmp_path_factory.mktemp("audits"))


@pytest.fixture
def record(built_record: BuiltRecord, tmp_path: Path) -> Path:
    """A private copy of the valid record, free to tamper with."""
    dest = tmp_path / "record"
    shutil.copytree(built_record.path, dest)
    shutil.copy(ca_key_file(built_record.path), ca_key_file(dest))
    return dest


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rehash(record: Path) -> None:
    """Recompute HASHES.json (docs/record.md §4.5) so a deeper check is the one that fires."""
    files = {p.relative_to(record).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(record.rglob("*")) if p.is_file() and p.name != "HASHES.json"}
    doc = {"files": files, "record_hash": hashlib.sha256(canonical(files)).hexdigest()}
    (record / "HASHES.json").write_bytes(canonical(doc))


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def write_json(path: Path, obj: Any) -> None:
    path.write_bytes(canonical(obj))


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def write_jsonl(path: Path, objs: list[Any]) -> None:
    path.write_bytes(b"".join(canonical(o) + b"\n" for o in objs))


@dataclass
class Outcome:
    code: int
    doc: dict[str, Any]

    @property
    def failed(self) -> set[str]:
        return {c["name"] for c in self.doc["checks"] if c["status"] == "fail"}

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.doc["checks"] if c["name"] == name)

    def items(self, name: str) -> list[dict[str, Any]]:
        return [f["item"] for f in self.check(name)["failures"]]


@pytest.fixture
def run_verifier(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    def run(record: Path, *extra: str, ca_key: bool = True) -> Outcome:
        """The verifier on ``record`` (with the CA key beside it unless ``ca_key`` is
        False)."""
        capsys.readouterr()
        key = ["--ca-key", str(ca_key_file(record))] if ca_key else []
        code = cli.main(["--json", "--allow-test-key", "--processes", "1", "--progress",
                         "never", *key, *extra, str(record)])
        out = capsys.readouterr().out
        return Outcome(code, json.loads(out))
    return run
