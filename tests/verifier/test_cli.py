"""The verifier's CLI: exit codes, --json shape, Thai report, ssbvote verify, parallel and
pure-Python paths, and a record whose tally legitimately excluded an invalid ballot."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.verifier.conftest import (ROOT, BuiltRecord, Outcome, ca_key_file, read_json,
                                     rehash, write_json)
from verifier import arith, cli
from verifier.checks import CHECKS
from verifier.i18n import AUDIT, CHECK_TITLES, MESSAGES, RECEIPT, TRACKER

CHECK_NAMES = ["record.format", "record.hashes", "manifest.election_id", "key.public",
               "key.verification", "board.chain", "board.ballots", "board.checkpoints",
               "ballots.proofs", "overrides.signature", "tally.counted_set", "tally.aggregate",
               "tally.decryption_shares", "results.combination", "results.elected",
               "results.plausible", "pins.opening", "credentials.list", "board.signatures",
               "board.unique", "board.times", "overrides.officials", "tally.turnout",
               "key.modulus_proof", "key.factor_proof", "key.verification_base",
               "key.shared_secret", "tally.share_signatures",
               # issue 16
               "audits.open", "audits.not_counted", "audits.seeds_secret",
               # issue 23
               "board.seen", "witnesses.statements", "pins.witnesses", "board.turnout",
               # issue 19
               "key.short_base",
               # issue 21
               "manifest.rules", "credentials.contests", "results.seats", "tally.contests",
               # issues 20 and 21 (i20w)
               "poll.extensions", "results.lots"]
CHECK_NUMBERS = list(range(1, 43))


def ca_args(record: Path) -> list[str]:
    return ["--ca-key", str(ca_key_file(record))]


def test_valid_record_passes_every_check(built_record: BuiltRecord, run_verifier) -> None:
    out: Outcome = run_verifier(built_record.path)
    assert out.code == 0, out.failed
    assert [c["name"] for c in out.doc["checks"]] == CHECK_NAMES
    assert [c["number"] for c in out.doc["checks"]] == CHECK_NUMBERS


def test_without_the_ca_key_only_pins_opening_fails(built_record: BuiltRecord,
                                                    run_verifier) -> None:
    out: Outcome = run_verifier(built_record.path, ca_key=False)
    assert out.code == 1 and out.failed == {"pins.opening"}
    (f,) = out.check("pins.opening")["failures"]
    assert f["code"] == "pins.no_ca_key" and "--ca-key" in f["message"]


def test_ca_key_as_hex_and_as_json_file(built_record: BuiltRecord, run_verifier,
                                        tmp_path: Path) -> None:
    hex_key = ca_key_file(built_record.path).read_text().strip()
    (tmp_path / "ca.json").write_text(json.dumps({"algorithm": "Ed25519",
                                                  "public_key": hex_key}))
    for value in (hex_key, str(tmp_path / "ca.json")):
        out: Outcome = run_verifier(built_record.path, "--ca-key", value, ca_key=False)
        assert out.code == 0, out.failed


def test_results_match_the_intended_votes(built_record: BuiltRecord) -> None:
    results = read_json(built_record.path / "results.json")
    for cid, intended in built_record.board.intended_by_id().items():
        got = {c["id"]: c["votes"] for c in results["contests"][cid]["candidates"]}
        assert got == intended


def test_json_shape(built_record: BuiltRecord, run_verifier) -> None:
    doc = run_verifier(built_record.path).doc
    assert set(doc) == {"format", "version", "record", "election_id", "ok", "exit_code",
                        "error", "checks"}
    assert doc["format"] == "ssbvote-verification" and doc["version"] == 1
    assert doc["ok"] is True and doc["exit_code"] == 0 and doc["error"] is None
    assert doc["election_id"] == built_record.board.election_id
    for c in doc["checks"]:
        assert set(c) == {"number", "name", "title", "status", "failure_count", "failures",
                          "notes"}
        assert c["status"] == "pass" and c["failures"] == []
        for note in c["notes"]:
            assert set(note) == {"code", "message", "params", "item"}


def test_json_failure_shape(record: Path, run_verifier) -> None:
    doc = read_json(record / "results.json")
    doc["contests"]["insured"]["candidates"][0]["votes"] += 1
    write_json(record / "results.json", doc)
    rehash(record)
    out = run_verifier(record)
    assert out.doc["ok"] is False and out.doc["exit_code"] == 1
    check = out.check("results.combination")
    assert check["status"] == "fail" and check["failure_count"] == 1
    (f,) = check["failures"]
    assert f["code"] == "results.count"
    assert f["item"] == {"file": "results.json", "contest": "insured", "candidate": "I001"}
    assert f["params"]["found"] == f["params"]["expected"] + 1


def test_thai_report(built_record: BuiltRecord, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--lang", "th", "--allow-test-key", "--processes", "1", "--progress",
                     "never", *ca_args(built_record.path), str(built_record.path)])
    text = capsys.readouterr().out
    assert code == 0
    assert "การตรวจสอบบันทึกการเลือกตั้งโดยอิสระ" in text
    assert "[ผ่าน]" in text and f"ผ่านทั้ง {len(CHECK_NUMBERS)} รายการ" in text
    assert "กุญแจทดสอบ" in text


def test_thai_failure_report(record: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = read_json(record / "results.json")
    doc["contests"]["insured"]["candidates"][0]["votes"] += 1
    write_json(record / "results.json", doc)
    code = cli.main(["--lang", "th", "--allow-test-key", "--processes", "1", *ca_args(record),
                     str(record)])
    text = capsys.readouterr().out
    assert code == 1
    assert "ไม่ผ่าน" in text and "ผู้สมัคร I001" in text and "SHA-256 ไม่ตรงกับ HASHES.json" in text


def test_english_text_report_names_the_item(record: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (record / "board/ballots.jsonl").write_bytes(
        b"".join((record / "board/ballots.jsonl").read_bytes().splitlines(keepends=True)[1:]))
    rehash(record)
    assert cli.main(["--allow-test-key", "--processes", "1", *ca_args(record),
                     str(record)]) == 1
    text = capsys.readouterr().out
    assert "[FAIL]  7 board.ballots" in text
    assert "seq 1: board entry has no ballot (removed)" in text
    assert "RESULT: " in text and "7 board.ballots" in text.splitlines()[-1]


def test_test_key_refused_without_the_flag(built_record: BuiltRecord,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--json", "--processes", "1", *ca_args(built_record.path),
                     str(built_record.path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    # checks 24–27 and 36 need check 4: they fail naming it (docs/record.md §5)
    assert [c["name"] for c in doc["checks"] if c["status"] == "fail"] == [
        "key.public", "key.modulus_proof", "key.factor_proof", "key.verification_base",
        "key.shared_secret", "key.short_base"]
    by_number = {c["number"]: c for c in doc["checks"]}
    for number in (24, 25, 26, 27, 36):
        assert [f["code"] for f in by_number[number]["failures"]] == ["key.requires"]


def test_message_codes_are_not_defined_twice() -> None:
    """A code repeated in a dict literal of verifier/i18n.py would silently replace the first
    text (check 28's codes once collided with check 19's)."""
    import ast
    tree = ast.parse((Path(__file__).resolve().parents[2] / "verifier" / "i18n.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_every_message_and_check_is_translated() -> None:
    assert set(CHECK_TITLES) == set(CHECK_NAMES)
    assert len(CHECKS) == len(CHECK_NUMBERS)
    for en, th in [*MESSAGES.values(), *RECEIPT.values()]:
        assert en and th and en != th


# --- exit 2 -----------------------------------------------------------------------------------

def _exit2(path: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code = cli.main(["--json", "--allow-test-key", "--processes", "1", str(path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2 and doc["exit_code"] == 2 and doc["ok"] is False and doc["checks"] == []
    return doc


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "not a directory" in _exit2(tmp_path / "nope", capsys)["error"]


def test_not_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "FORMAT.json" in _exit2(tmp_path, capsys)["error"]


@pytest.mark.parametrize("target,content", [
    ("results.json", b'{"contests": '),
    ("tally/counted.json", b'{"contests": {}, "contests": {}}'),
    ("board/entries.jsonl", b'{"seq": 1}\nnot json\n'),
    ("FORMAT.json", b'{"format": "ssbvote-record", "version": 1}'),
    ("FORMAT.json", b'{"format": "ssbvote-record", "version": 2}'),
    ("FORMAT.json", b'{"format": "ssbvote-record", "version": 3}'),
    ("FORMAT.json", b'{"format": "something-else", "version": 1}'),
])
def test_unreadable_record(record: Path, target: str, content: bytes,
                           capsys: pytest.CaptureFixture[str]) -> None:
    (record / target).write_bytes(content)
    assert target in _exit2(record, capsys)["error"]


def test_unreadable_text_goes_to_stderr(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--lang", "th", str(tmp_path / "nope")]) == 2
    assert "อ่านบันทึกไม่ได้" in capsys.readouterr().err


# --- other paths ------------------------------------------------------------------------------

def test_ssbvote_verify_command(built_record: BuiltRecord) -> None:
    from tools.cli import main as ssbvote

    result = CliRunner().invoke(ssbvote, ["verify", "--allow-test-key", "--processes", "1",
                                          "--json", *ca_args(built_record.path),
                                          str(built_record.path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    result = CliRunner().invoke(ssbvote, ["verify", "--help"])
    assert "--lang" in result.output


def test_parallel_per_proof_and_pure_python_agree(record: Path, run_verifier) -> None:
    seq = int(read_json(record / "tally/counted.json")["contests"]["employer"]["counted"][-1]["seq"])
    lines = (record / "board/ballots.jsonl").read_bytes().splitlines()
    objs = [json.loads(x) for x in lines]
    for o in objs:
        if o["seq"] == seq:
            z = int(o["ballot"]["sum_proof"]["responses"][0], 16)
            o["ballot"]["sum_proof"]["responses"][0] = format(z + 1, "x")
    from tests.verifier.conftest import write_jsonl
    write_jsonl(record / "board/ballots.jsonl", objs)
    outs = [run_verifier(record, "--processes", "2"),
            run_verifier(record, "--no-batch"),
            run_verifier(record, "--pure-python", "--processes", "2")]
    arith.use_gmpy2(arith.GMPY2_AVAILABLE)
    for out in outs:
        assert out.items("ballots.proofs") == [{"file": "board/ballots.jsonl", "seq": seq,
                                                "contest": "employer",
                                                "candidate": "sum-proof"}]
    assert [o.doc["checks"][8]["notes"][0]["params"]["mode"] for o in outs] == [
        "batch", "per-proof", "batch"]
    assert outs[2].doc["checks"][8]["notes"][0]["params"]["backend"] == "python"


def test_python_m_verifier_with_pure_python_env(built_record: BuiltRecord) -> None:
    env = dict(os.environ, SSBVOTE_VERIFIER_PURE_PYTHON="1")
    proc = subprocess.run([sys.executable, "-m", "verifier", "--json", "--allow-test-key",
                           "--progress", "always", *ca_args(built_record.path),
                           str(built_record.path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["checks"][8]["notes"][0]["params"]["backend"] == "python"
    assert "[" in proc.stderr and "/" in proc.stderr  # the progress bar


def test_invalid_ballot_on_the_board_is_reported_even_when_excluded(
        record_with_invalid_ballot: BuiltRecord, run_verifier) -> None:
    """docs/record.md §5: check 9 fails for an invalid ballot on the signed board (the server
    should have refused it) while check 11 confirms the tally excluded it correctly."""
    out = run_verifier(record_with_invalid_ballot.path)
    assert out.code == 1
    assert out.failed == {"ballots.proofs"}
    (seq,) = record_with_invalid_ballot.board.invalid_seqs
    assert [i["seq"] for i in out.items("ballots.proofs")] == [seq]
