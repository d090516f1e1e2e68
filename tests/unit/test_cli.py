"""The officials' CLI (click CliRunner), run against a real SQLite file via the environment."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tools.cli import main
from tests.support.factories import EXAMPLES, national_ids, small_manifest, insured_csv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SSBVOTE_ENV": "test",
        "SSBVOTE_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_db_upgrade_and_current(env: dict[str, str]) -> None:
    code, out = run(env, "db", "upgrade")
    assert code == 0 and "database at" in out
    code, out = run(env, "db", "current")
    assert code == 0
    current, head = [line.split(":", 1)[1].strip() for line in out.strip().splitlines()]
    assert current == head != "None"


def test_election_create_and_roll_import(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    code, out = run(env, "election", "create", str(EXAMPLES / "demo-manifest.json"))
    assert code == 0, out
    assert "up to 7 of 228 candidates" in out and "up to 7 of 65 candidates" in out
    code, out = run(env, "roll", "import", "--election", "ssb-demo-2026", str(EXAMPLES / "demo-insured.csv"))
    assert code == 0, out
    assert "imported 40 insured voters" in out


def test_bad_files_exit_nonzero_with_clear_message(env: dict[str, str], tmp_path: Path) -> None:
    run(env, "db", "upgrade")
    bad = small_manifest()
    bad["contests"][0]["max_selections"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    code, out = run(env, "election", "create", str(path))
    assert code == 1
    assert "contests[0].max_selections: must be a whole number of at least 1" in out
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small_manifest()))
    assert run(env, "election", "create", str(good))[0] == 0
    ids = national_ids(3)
    roll = tmp_path / "roll.csv"
    roll.write_text(insured_csv(ids).replace(ids[2], ids[2][:12] + str((int(ids[2][12]) + 1) % 10)))
    code, out = run(env, "roll", "import", "--election", "test-election", str(roll))
    assert code == 1
    assert "line 4:" in out and "nothing was imported" in out
    code, out = run(env, "roll", "import", "--election", "no-such", str(roll))
    assert code == 1 and "no election named 'no-such'" in out


def test_demo_setup_prints_logins(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--key-bits", "1024", "--instance", str(tmp_path / "demo")],
        env={"DATABASE_URL": ""}, catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "rolls imported: 40 insured, 12 employers" in result.output
    assert (tmp_path / "demo" / "ssbvote.sqlite3").exists()
    assert "Polls are OPEN" in result.output
    assert len(list((tmp_path / "demo" / "trustees").glob("*.share.json"))) == 3
    # Version 2: each demo voter's credential is printed beside the login, with the CA key and
    # the folder of the printable credential letters.
    import re

    assert len(re.findall(r"credential (?:[0-9A-Z]{4}-){6}[0-9A-Z]{4}", result.output)) == 3 + 2 + 2
    letters = tmp_path / "demo" / "ca" / "ssb-demo-2026" / "letters"
    assert f"Credential letters (private; one per voter): {letters}" in result.output
    assert len(list(letters.glob("*.html"))) == 52
    # Issue 22: voters without a ready account register with an activation code; the demo
    # prints a few and the development sender wrote every letter to the outbox.
    codes = re.findall(r"ID (\d+)  activation code ((?:[0-9A-Z]{4}-){3}[0-9A-Z]{4})", result.output)
    assert len(codes) == 4
    outbox = list((tmp_path / "demo" / "outbox").glob("*-activation_code-*.json"))
    assert len(outbox) == 52 - 3 - 2


def test_the_credential_authority_steps_through_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    """README "Operating an election", record format version 2: officials get an official
    credential (shown once); the CA (``python -m ca``) issues the voters' credentials, the server
    imports the mapping and the signed list (``ssbvote credentials import`` / ``list``), the CA
    pins the election key, board key, list and officials' keys (``ssbvote election ca-inputs``,
    ``ssbvote official keys``, ``python -m ca pin``) and the server stores the opening
    (``ssbvote election pin``); a lost credential is revoked and reissued
    (``ssbvote credentials revoke``).  Everything the CA signed is checked with SSBVOTE_CA_KEY."""
    from ca.cli import ca_cli

    def ca(*args: str) -> str:
        result = CliRunner().invoke(ca_cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    ca_dir, issue = tmp_path / "ca", tmp_path / "ca" / "issue"
    ca_dir.mkdir()
    keygen = ca("keygen", "--out", str(ca_dir / "ca-key.pem"))
    (ca_dir / "ca-public-key.txt").write_text(keygen)  # SSBVOTE_CA_KEY: the keygen output will do
    env = {**env, "SSBVOTE_CA_KEY": str(ca_dir / "ca-public-key.txt"), "SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1"}
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(small_manifest()))
    ids = national_ids(3)
    roll = tmp_path / "insured.csv"
    roll.write_text(insured_csv(ids))
    for step in (["db", "upgrade"], ["election", "create", str(manifest)],
                 ["roll", "import", "--election", "test-election", str(roll)]):
        assert run(env, *step)[0] == 0
    credentials = {}
    for username in ("ro-a", "ro-b"):
        result = CliRunner().invoke(main, ["official", "add", "--username", username, "--name", username,
                                           "--role", "returning-officer", "--password-stdin"],
                                    env=env, input="a long official passphrase\n")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        credentials[username] = lines[[i for i, line in enumerate(lines) if "Official credential" in line][0] + 1].strip()
    phrases = tmp_path / "phrases.txt"
    phrases.write_text("trustee passphrase one\ntrustee passphrase two\n")
    code, out = run(env, "election", "keygen", "--election", "test-election", "--trustee", "A", "--trustee", "B",
                    "--threshold", "2", "--bits", "512", "--out", str(tmp_path / "shares"),
                    "--passphrase-file", str(phrases))
    assert code == 0, out

    ca("issue", "--key", str(ca_dir / "ca-key.pem"), "--manifest", str(manifest), str(roll), "--out", str(issue),
       "--processes", "1", "--quiet")
    mapping = issue / "mapping-insured.json"
    code, out = run(env, "credentials", "list", "--election", "test-election", str(issue / "credentials.json"))
    assert code == 1 and "import the mapping files first" in out  # the list must match the mappings
    code, out = run(env, "credentials", "import", "--election", "test-election", str(mapping))
    assert code == 0 and "3 insured credentials added, 0 already imported" in out, out
    code, out = run(env, "credentials", "import", "--election", "test-election", str(mapping))
    assert code == 0 and "0 insured credentials added, 3 already imported" in out  # idempotent
    strange = json.loads(mapping.read_text())
    strange["credentials"]["1234567890121"] = "ab" * 32
    strange["contests"]["1234567890121"] = "insured"
    (tmp_path / "strange.json").write_text(json.dumps(strange))
    code, out = run(env, "credentials", "import", "--election", "test-election", str(tmp_path / "strange.json"))
    assert code == 1 and "voter 1234567890121 is not on this election's insured roll" in out
    code, out = run(env, "credentials", "list", "--election", "test-election", str(issue / "credentials.json"))
    assert code == 0 and "credential list stored: 3 in insured" in out, out

    pins = tmp_path / "pins"
    code, out = run(env, "election", "ca-inputs", "--election", "test-election", "--out", str(pins))
    assert code == 0, out
    code, out = run(env, "official", "keys", "--election", "test-election")
    assert code == 0 and json.loads(out) == json.loads((pins / "officials.json").read_text())
    from crypto.credential import official_key, public_credential
    assert [o["public_key"] for o in json.loads(out)] == [public_credential(official_key(credentials[u]))
                                                           for u in ("ro-a", "ro-b")]
    opening = tmp_path / "opening.json"
    ca("pin", "--key", str(ca_dir / "ca-key.pem"), "--manifest", str(pins / "manifest.json"),
       "--election-key", str(pins / "election_key.json"), "--board-key", str(pins / "board_key.json"),
       "--credentials", str(issue / "credentials.json"), "--officials", str(pins / "officials.json"),
       "--out", str(opening), "--allow-insecure-test-key")
    # An opening signed by another key (naming it), or pinning other officials, is refused.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from ca.keys import public_hex
    from election.signed import sign, unsigned

    other = Ed25519PrivateKey.generate()
    pinned = json.loads(opening.read_text())
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(sign({**unsigned(pinned), "ca_key": public_hex(other)}, other)))
    code, out = run(env, "election", "pin", "--election", "test-election", str(forged))
    assert code == 1 and "not signed by the configured CA key" in out
    from ca.keys import load_key

    key = load_key(ca_dir / "ca-key.pem")  # the CA's own signature, over one official only
    forged.write_text(json.dumps(sign({**unsigned(pinned), "officials": pinned["officials"][:1]}, key)))
    code, out = run(env, "election", "pin", "--election", "test-election", str(forged))
    assert code == 1 and "officials are not the registered officials' keys" in out
    code, out = run(env, "election", "pin", "--election", "test-election", str(opening))
    assert code == 0 and "opening hash" in out, out

    ca("revoke", "--key", str(ca_dir / "ca-key.pem"), "--dir", str(issue), "--electorate", "insured",
       "--voter-key", ids[0], "--reissue")
    code, out = run(env, "credentials", "revoke", "--election", "test-election", str(issue / "revocations.jsonl"),
                    "--mapping", str(mapping))
    assert code == 0 and "revoked" in out and "is now live" in out, out
    code, out = run(env, "credentials", "revoke", "--election", "test-election", str(issue / "revocations.jsonl"))
    assert code == 0 and "1 revocation(s) imported before, skipped" in out
