"""The tally CLI through click's CliRunner: python -m tally and ssbvote tally / ssbvote trustee."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tally.cli import tally_cli
from tests.support.board_builder import BoardFixture, read_jsonl, write_jsonl

ENV = {"SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1"}


def invoke(*args: str, input: str | None = None, cli=tally_cli):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=input, env=ENV, catch_exceptions=False)


def test_full_run_through_the_cli(board: BoardFixture, tmp_path: Path) -> None:
    work, record = tmp_path / "work", tmp_path / "record"
    result = invoke("prepare", str(board.path), "--work", str(work), "--processes", "1")
    assert result.exit_code == 0, result.output
    assert "final checkpoint verified" in result.stdout
    assert f"EXCLUDED invalid ballot seq {board.invalid_seqs[0]}" in result.stderr
    tally_file = work / "tally" / "encrypted_tally.json"
    outs = []
    for i in (1, 3):
        out = tmp_path / f"trustee-{i}.json"
        # The passphrase is prompted for (hidden input) when no --passphrase-file is given.
        result = invoke("trustee", "decrypt", "--share", str(board.share_files[i - 1]), "--tally", str(tally_file),
                        "--out", str(out), input=board.passphrases[i - 1] + "\n")
        assert result.exit_code == 0, result.output
        assert board.passphrases[i - 1] not in result.output  # hidden
        assert f"Trustee trustee-{i} (index {i})" in result.stdout
        outs.append(out)
    result = invoke("finish", "--work", str(work), "--record", str(record), "--shares", str(outs[0]), str(outs[1]))
    assert result.exit_code == 0, result.output
    assert "Trustees used: 1, 3" in result.stdout
    results = json.loads((record / "results.json").read_bytes())
    assert {c: [x["votes"] for x in v["candidates"]] for c, v in results["contests"].items()} == board.intended


def test_wrong_passphrase_and_passphrase_file(board: BoardFixture, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert invoke("prepare", str(board.path), "--work", str(work), "--processes", "1", "--quiet").exit_code == 0
    tally_file = str(work / "tally" / "encrypted_tally.json")
    result = invoke("trustee", "decrypt", "--share", str(board.share_files[0]), "--tally", tally_file,
                    "--out", str(tmp_path / "s.json"), input="wrong\n")
    assert result.exit_code == 1 and "wrong passphrase or corrupted share file" in result.output
    assert not (tmp_path / "s.json").exists()
    pfile = tmp_path / "pass.txt"
    pfile.write_text(board.passphrases[1] + "\n", encoding="utf-8")
    result = invoke("trustee", "decrypt", "--share", str(board.share_files[1]), "--tally", tally_file,
                    "--out", str(tmp_path / "s.json"), "--passphrase-file", str(pfile))
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "s.json").read_bytes())
    assert doc["index"] == 2 and doc["trustee"] == "trustee-2" and sorted(doc["contests"]) == ["employer", "insured"]


def test_trustee_refuses_malformed_tally_file(board: BoardFixture, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert invoke("prepare", str(board.path), "--work", str(work), "--processes", "1", "--quiet").exit_code == 0
    bad = tmp_path / "tally.json"
    bad.write_text(json.dumps({"contests": {"insured": {"ciphertexts": ["0"], "counted_ballots": 1}}}))
    pfile = tmp_path / "pass.txt"
    pfile.write_text(board.passphrases[0])
    result = invoke("trustee", "decrypt", "--share", str(board.share_files[0]), "--board", str(work), "--tally",
                    str(bad), "--out", str(tmp_path / "s.json"), "--passphrase-file", str(pfile), "--quiet")
    assert result.exit_code == 1 and "not a well-formed tally" in result.output
    assert not (tmp_path / "s.json").exists()
    result = invoke("trustee", "decrypt", "--share", str(board.share_files[0]), "--tally", str(bad),
                    "--out", str(tmp_path / "s.json"), "--passphrase-file", str(pfile), "--quiet")
    assert result.exit_code == 1 and "is not a closed board export" in result.output


def test_prepare_refusal_is_a_clear_error(board: BoardFixture, tmp_path: Path) -> None:
    write_jsonl(board.checkpoints_path, read_jsonl(board.checkpoints_path)[:-1])
    result = invoke("prepare", str(board.path), "--work", str(tmp_path / "work"), "--processes", "1")
    assert result.exit_code == 1
    assert "Error: no final checkpoint: the board is not closed" in result.output


def test_finish_names_a_rejected_trustee_on_stderr(board: BoardFixture, tmp_path: Path) -> None:
    work = tmp_path / "work"
    assert invoke("prepare", str(board.path), "--work", str(work), "--quiet", "--processes", "1").exit_code == 0
    tally_file = str(work / "tally" / "encrypted_tally.json")
    outs = []
    for i in (1, 2, 3):
        pfile = tmp_path / f"p{i}"
        pfile.write_text(board.passphrases[i - 1])
        outs.append(tmp_path / f"t{i}.json")
        assert invoke("trustee", "decrypt", "--share", str(board.share_files[i - 1]), "--tally", tally_file,
                      "--out", str(outs[-1]), "--passphrase-file", str(pfile)).exit_code == 0
    doc = json.loads(outs[0].read_bytes())
    doc["contests"]["employer"]["proof"]["response"] = "1"
    outs[0].write_text(json.dumps(doc))
    result = invoke("finish", "--work", str(work), "--record", str(tmp_path / "r"),
                    "--shares", str(outs[0]), "--shares", str(outs[1]), "--shares", str(outs[2]))
    assert result.exit_code == 0
    assert "rejected the decryption share of trustee 'trustee-1'" in result.stderr
    assert "Trustees used: 2, 3" in result.stdout
    result = invoke("finish", "--work", str(work), "--record", str(tmp_path / "r2"), "--shares", str(outs[0]),
                    str(outs[2]))
    assert result.exit_code == 1 and "need 2 valid decryption shares of the 3 trustees, got 1" in result.output


def test_test_key_needs_the_flag(board: BoardFixture, tmp_path: Path) -> None:
    result = CliRunner().invoke(tally_cli, ["prepare", str(board.path), "--work", str(tmp_path / "w"), "--quiet"],
                                env={"SSBVOTE_ALLOW_INSECURE_TEST_KEYS": ""})
    assert result.exit_code == 1 and "below the production minimum" in result.output


def test_ssbvote_exposes_tally_and_trustee() -> None:
    from tools.cli import main

    result = CliRunner().invoke(main, ["tally", "--help"])
    assert result.exit_code == 0 and "prepare" in result.output and "finish" in result.output
    result = CliRunner().invoke(main, ["trustee", "decrypt", "--help"])
    assert result.exit_code == 0 and "--passphrase-file" in result.output
