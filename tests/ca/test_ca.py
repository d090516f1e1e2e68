"""The credential authority tool (``python -m ca``, docs/record.md §6): command line and API."""
from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ca.cli import ca_cli
from ca.errors import CAError, RollRefused
from ca.issue import issue_credentials
from ca.keys import fingerprint, generate_key, load_key, public_hex
from ca.pin import build_opening
from ca.revoke import revoke
from crypto.credential import ALPHABET, DATA_SYMBOLS, parse_credential, public_credential, voter_key
from crypto.encoding import canonical_json
from election import authority
from election.roll import national_id_check_digit
from election.signed import sign, verify

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "examples" / "small-manifest.json"
ELECTION_KEY = ROOT / "tests" / "vectors" / "golden-record" / "election_key.json"


def national_ids(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        prefix = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
        out.add(prefix + national_id_check_digit(prefix))
    return sorted(out)


def insured_csv(ids: list[str]) -> str:
    return "national_id,date_of_birth,name\n" + "".join(
        f"{nid},1980-02-{i % 28 + 1:02d},ผู้ประกันตน {i}\n" for i, nid in enumerate(ids))


def employer_csv(rows: list[tuple[str, str]]) -> str:
    return "employer_account,authorised_national_id,employer_name\n" + "".join(
        f"{acct},{person},บริษัท {i} จำกัด\n" for i, (acct, person) in enumerate(rows))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def manifest_bytes() -> bytes:
    return MANIFEST.read_bytes()


@pytest.fixture
def election_id(manifest_bytes: bytes) -> str:
    return hashlib.sha256(canonical_json(json.loads(manifest_bytes))).hexdigest()


@pytest.fixture
def rolls(tmp_path: Path) -> list[Path]:
    insured = tmp_path / "insured.csv"
    insured.write_text(insured_csv(national_ids(12)), encoding="utf-8")
    employers = tmp_path / "employers.csv"
    employers.write_text(employer_csv([("100000000%d" % i, nid)
                                       for i, nid in enumerate(national_ids(3, seed=9))]),
                         encoding="utf-8")
    return [insured, employers]


def read(path: Path) -> dict:  # type: ignore[type-arg]
    data = path.read_bytes()
    obj = json.loads(data)
    assert canonical_json(obj) == data, f"{path.name} is not canonical JSON"
    return obj  # type: ignore[no-any-return]


# --- keygen ----------------------------------------------------------------------------------


def test_keygen_writes_a_private_pem_and_prints_the_public_key(tmp_path: Path) -> None:
    out = tmp_path / "ca-key.pem"
    result = CliRunner().invoke(ca_cli, ["keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    public = public_hex(load_key(out))
    assert f"public key:  {public}" in result.output
    assert f"fingerprint: {fingerprint(public)}" in result.output
    assert re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}", fingerprint(public))
    again = CliRunner().invoke(ca_cli, ["keygen", "--out", str(out)])
    assert again.exit_code == 1 and "never overwritten" in again.output
    assert public_hex(load_key(out)) == public


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(CAError, match="not an unencrypted PEM"):
        load_key(bad)


# --- issue -----------------------------------------------------------------------------------


def test_issue_writes_letters_mapping_and_signed_list(tmp_path: Path, key: Ed25519PrivateKey,
                                                      manifest_bytes: bytes, election_id: str,
                                                      rolls: list[Path]) -> None:
    out = tmp_path / "issue"
    summary = issue_credentials(manifest_bytes, rolls, key, out)
    assert summary.election_id == election_id
    assert summary.voters == {"insured": 12, "employer": 3}

    listed = read(out / "credentials.json")
    assert authority.check_credential_list(listed) == []
    assert listed["type"] == "ssbvote-credentials" and listed["election_id"] == election_id
    assert verify(listed, public_hex(key))
    assert not verify(listed, public_hex(Ed25519PrivateKey.generate()))
    assert hashlib.sha256((out / "credentials.json").read_bytes()).hexdigest() == summary.credentials_hash

    # Credentials are unique, well formed, 26 random data symbols of 32 (130 bits ≥ 128).
    creds = summary.credentials
    assert len(creds) == 15 and len(set(creds.values())) == 15
    assert DATA_SYMBOLS * (len(ALPHABET).bit_length() - 1) >= 128
    for voter, credential in creds.items():
        assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){6}", credential)
        parse_credential(credential)

    for electorate in ("insured", "employer"):
        mapping = read(out / f"mapping-{electorate}.json")
        assert authority.check_mapping(mapping) == []
        assert (mapping["election_id"], mapping["electorate"]) == (election_id, electorate)
        assert sorted(mapping["credentials"].values()) == listed["contests"][electorate]

    # The mail merge and the letters carry the credential whose derived key the mapping holds.
    with open(out / "letters" / "mail-merge.csv", encoding="utf-8", newline="") as handle:
        merge = list(csv.DictReader(handle))
    assert len(merge) == 15
    mappings = {e: read(out / f"mapping-{e}.json")["credentials"] for e in ("insured", "employer")}
    for row in merge:
        credential = row["credential"]
        assert creds[row["voter_key"]] == credential
        derived = public_credential(voter_key(credential, election_id))
        assert mappings[row["electorate"]][row["voter_key"]] == derived
        assert row["qr_text"] == f"ssbvote-credential:1:{election_id}:{parse_credential(credential)}"
        letter = (out / "letters" / f"{row['voter_key']}.html").read_text(encoding="utf-8")
        assert credential in letter.replace("&#8209;", "-")
        assert "<svg" in letter and summary.fingerprint in letter and public_hex(key) in letter
        assert "Social Security" in letter or json.loads(manifest_bytes)["title"]["en"] in letter
        assert "last vote counts" in letter and "paper vote replaces" in letter
        assert row["voter_key"] not in letter  # the letter shows only the last digits
    assert stat.S_IMODE((out / "letters").stat().st_mode) == 0o700
    assert read(out / "manifest.json") == json.loads(manifest_bytes)


def test_issue_command_line_and_issuing_twice_is_refused(tmp_path: Path, manifest_bytes: bytes,
                                                         rolls: list[Path]) -> None:
    key_file = tmp_path / "ca-key.pem"
    generate_key(key_file)
    out = tmp_path / "issue"
    args = ["issue", "--key", str(key_file), "--manifest", str(MANIFEST), str(rolls[0]),
            "--out", str(out), "--processes", "1"]
    result = CliRunner().invoke(ca_cli, args)
    assert result.exit_code == 0, result.output
    assert "insured: 12 credentials issued" in result.output
    assert (out / "mapping-insured.json").exists() and not (out / "mapping-employer.json").exists()
    before = (out / "mapping-insured.json").read_bytes()

    again = CliRunner().invoke(ca_cli, args)
    assert again.exit_code == 1 and "already has an issue for the insured roll" in again.output
    assert (out / "mapping-insured.json").read_bytes() == before

    # The other electorate may follow into the same folder: the list then holds both.
    more = CliRunner().invoke(ca_cli, args[:5] + [str(rolls[1])] + args[6:])
    assert more.exit_code == 0, more.output
    listed = read(out / "credentials.json")
    assert set(listed["contests"]) == {"insured", "employer"}
    assert len(listed["contests"]["insured"]) == 12


def test_issue_with_two_processes(tmp_path: Path, key: Ed25519PrivateKey, manifest_bytes: bytes,
                                  election_id: str, rolls: list[Path]) -> None:
    summary = issue_credentials(manifest_bytes, rolls, key, tmp_path / "out", processes=2)
    mapping = summary.public_credentials["insured"]
    assert len(mapping) == 12
    for voter, public in mapping.items():
        assert public_credential(voter_key(summary.credentials[voter], election_id)) == public


def test_bad_rolls_are_refused_naming_every_line(tmp_path: Path, key: Ed25519PrivateKey,
                                                 manifest_bytes: bytes) -> None:
    ids = national_ids(4)
    wrong_check = ids[1][:12] + str((int(ids[1][12]) + 1) % 10)
    roll = tmp_path / "bad.csv"
    roll.write_text("national_id,date_of_birth,name\n"
                    f"{ids[0]},1980-01-01,a\n"
                    f"{wrong_check},1980-01-01,b\n"
                    f"{ids[2]},1980-02-30,c\n"
                    f"{ids[0]},1980-01-01,d\n"
                    f"{ids[3]},1980-01-01\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(RollRefused) as caught:
        issue_credentials(manifest_bytes, [roll], key, out)
    problems = caught.value.problems
    assert any(p.startswith("bad.csv: line 3:") and "check digit" in p for p in problems)
    assert any(p.startswith("bad.csv: line 4:") and "date_of_birth" in p for p in problems)
    assert any(p.startswith("bad.csv: line 5:") and "appears again" in p for p in problems)
    assert any(p.startswith("bad.csv: line 6:") and "expected 3 fields" in p for p in problems)
    assert not out.exists()

    header = tmp_path / "header.csv"
    header.write_text("id,dob\n1,2\n")
    result = CliRunner().invoke(ca_cli, ["issue", "--key", str(_key_file(tmp_path, key)),
                                         "--manifest", str(MANIFEST), str(header),
                                         "--out", str(out)])
    assert result.exit_code == 1 and "header.csv: line 1: header must name" in result.output


def test_a_person_on_both_rolls_is_refused(tmp_path: Path, key: Ed25519PrivateKey,
                                           manifest_bytes: bytes) -> None:
    person = national_ids(1)[0]
    insured = tmp_path / "i.csv"
    insured.write_text(insured_csv([person]))
    employers = tmp_path / "e.csv"
    employers.write_text(employer_csv([("1000000001", person)]))
    with pytest.raises(RollRefused, match="e.csv: line 2: authorised person .* insured roll"):
        issue_credentials(manifest_bytes, [insured, employers], key, tmp_path / "out")


def _key_file(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    path = tmp_path / "ca-key.pem"
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


# --- revoke ----------------------------------------------------------------------------------


def test_revoke_and_reissue(tmp_path: Path, key: Ed25519PrivateKey, manifest_bytes: bytes,
                            election_id: str, rolls: list[Path]) -> None:
    out = tmp_path / "issue"
    summary = issue_credentials(manifest_bytes, rolls, key, out)
    voters = sorted(summary.public_credentials["insured"])
    lost, gone = voters[0], voters[1]
    old = summary.public_credentials["insured"][lost]
    listed_before = (out / "credentials.json").read_bytes()

    result = CliRunner().invoke(ca_cli, ["revoke", "--key", str(_key_file(tmp_path, key)),
                                         "--dir", str(out), "--electorate", "insured",
                                         "--voter-key", lost, "--reissue", "--name", "สมชาย"])
    assert result.exit_code == 0, result.output
    lines = (out / "revocations.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    revocation = json.loads(lines[0])
    assert canonical_json(revocation) == lines[0]
    assert authority.check_revocation(revocation) == []
    assert verify(revocation, public_hex(key))
    assert (revocation["election_id"], revocation["contest"], revocation["revoked"]) == \
        (election_id, "insured", old)
    new = revocation["replacement"]
    assert new != old and new not in json.loads(listed_before)["contests"]["insured"]
    assert read(out / "mapping-insured.json")["credentials"][lost] == new
    assert (out / "credentials.json").read_bytes() == listed_before  # pinned list unchanged

    with open(out / "letters" / "reissued.csv", encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["voter_key"] == lost and row["name"] == "สมชาย"
    assert row["credential"] != summary.credentials[lost]
    assert public_credential(voter_key(row["credential"], election_id)) == new
    assert row["credential"] in (out / "letters" / f"{lost}.html").read_text().replace("&#8209;", "-")

    # Revoking without reissue is final; a credential is revoked once.
    plain = revoke(out, key, "insured", gone)
    assert plain.revocation["replacement"] is None and plain.credential is None
    assert verify(plain.revocation, public_hex(key))
    with pytest.raises(CAError, match="revoked already .* final"):
        revoke(out, key, "insured", gone, reissue=True)
    # The reissued credential can itself be revoked (the new letter was lost too).
    again = revoke(out, key, "insured", lost, reissue=True)
    assert again.revocation["revoked"] == new
    assert len((out / "revocations.jsonl").read_bytes().splitlines()) == 3

    with pytest.raises(CAError, match="not on the insured roll"):
        revoke(out, key, "insured", "0000000000000")
    with pytest.raises(CAError, match="another CA"):
        revoke(out, Ed25519PrivateKey.generate(), "insured", voters[2])


# --- pin -------------------------------------------------------------------------------------


def _officials() -> bytes:
    people = [{"username": name, "public_key": public_hex(Ed25519PrivateKey.generate())}
              for name in ("bob", "alice")]
    return json.dumps(people).encode()


def _board_key() -> bytes:
    return json.dumps({"algorithm": "Ed25519",
                       "public_key": public_hex(Ed25519PrivateKey.generate())}).encode()


def test_pin_signs_the_opening(tmp_path: Path, key: Ed25519PrivateKey, manifest_bytes: bytes,
                               election_id: str, rolls: list[Path]) -> None:
    out = tmp_path / "issue"
    issue_credentials(manifest_bytes, rolls, key, out)
    files = {"election_key.json": ELECTION_KEY.read_bytes(), "board_key.json": _board_key(),
             "officials.json": _officials()}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    opening_path = tmp_path / "opening.json"
    result = CliRunner().invoke(ca_cli, [
        "pin", "--key", str(_key_file(tmp_path, key)), "--manifest", str(MANIFEST),
        "--election-key", str(tmp_path / "election_key.json"),
        "--board-key", str(tmp_path / "board_key.json"),
        "--credentials", str(out / "credentials.json"),
        "--officials", str(tmp_path / "officials.json"), "--out", str(opening_path),
        "--allow-insecure-test-key"])
    assert result.exit_code == 0, result.output
    opening = read(opening_path)
    assert authority.check_opening(opening) == []
    assert verify(opening, public_hex(key))
    digest = hashlib.sha256(opening_path.read_bytes()).hexdigest()
    assert f"opening hash: {digest}" in result.output
    assert opening["election_id"] == election_id
    assert opening["ca_key"] == public_hex(key)
    assert opening["election_key"] == hashlib.sha256(files["election_key.json"]).hexdigest()
    assert opening["credentials"] == hashlib.sha256((out / "credentials.json").read_bytes()).hexdigest()
    assert opening["board_key"] == json.loads(files["board_key.json"])["public_key"]
    assert [o["username"] for o in opening["officials"]] == ["alice", "bob"]


def test_pin_refuses_a_list_of_another_ca_and_malformed_keys(
        tmp_path: Path, key: Ed25519PrivateKey, manifest_bytes: bytes, election_id: str,
        rolls: list[Path]) -> None:
    out = tmp_path / "issue"
    issue_credentials(manifest_bytes, rolls, key, out)
    credentials = (out / "credentials.json").read_bytes()
    good = dict(key=key, manifest=manifest_bytes, election_key=ELECTION_KEY.read_bytes(),
                board_key=_board_key(), credentials=credentials, officials=_officials(),
                allow_insecure_test_key=True)
    build_opening(**good)  # type: ignore[arg-type]

    other = Ed25519PrivateKey.generate()
    foreign = sign(authority.credential_list(election_id, "2026-01-01T00:00:00.000000Z",
                                             json.loads(credentials)["contests"]), other)
    with pytest.raises(CAError, match="not signed by this CA key"):
        build_opening(**{**good, "credentials": canonical_json(foreign)})  # type: ignore[arg-type]
    with pytest.raises(CAError, match="not signed by this CA key"):
        build_opening(**{**good, "key": other})  # type: ignore[arg-type]

    short = json.dumps({"algorithm": "Ed25519", "public_key": "ab" * 31}).encode()
    with pytest.raises(CAError, match="board key"):
        build_opening(**{**good, "board_key": short})  # type: ignore[arg-type]
    upper = json.dumps([{"username": "alice", "public_key": "AB" * 32}]).encode()
    with pytest.raises(CAError, match=r"officials\[0\].public_key"):
        build_opening(**{**good, "officials": upper})  # type: ignore[arg-type]
    with pytest.raises(CAError, match="election key"):
        build_opening(**{**good, "election_key": b'{"n": "zz"}'})  # type: ignore[arg-type]
    with pytest.raises(CAError, match="election key"):
        build_opening(**{**good, "election_key": b"not json"})  # type: ignore[arg-type]
    with pytest.raises(CAError, match="below|bits|insecure|small"):
        build_opening(**{**good, "allow_insecure_test_key": False})  # type: ignore[arg-type]


# --- erase -----------------------------------------------------------------------------------


def test_erase_removes_the_letters_and_keeps_the_public_files(
        tmp_path: Path, key: Ed25519PrivateKey, manifest_bytes: bytes, rolls: list[Path]) -> None:
    out = tmp_path / "issue"
    issue_credentials(manifest_bytes, rolls, key, out)
    assert len(list((out / "letters").iterdir())) == 16
    result = CliRunner().invoke(ca_cli, ["erase", "--dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "erased 16 files" in result.output
    assert not (out / "letters").exists()
    assert (out / "credentials.json").exists() and (out / "mapping-insured.json").exists()
    help_text = CliRunner().invoke(ca_cli, ["erase", "--help"]).output
    assert "printed copy" in help_text
    assert "nothing to erase" in CliRunner().invoke(ca_cli, ["erase", "--dir", str(out)]).output


def test_the_ca_never_imports_the_server() -> None:
    """The CA is independent of the server's operator: no app/, tools/, Flask or database."""
    import subprocess
    import sys

    code = ("import sys, ca.cli; bad = sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('app', 'tools', 'flask', 'sqlalchemy')); print(bad)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_letters_of_one_issue_share_a_qr_version_whatever_their_symbols() -> None:
    """The QR version is fitted on the first letter and reused: a later credential whose symbols
    encode less compactly must still fit (it overflowed when each text was split into
    digit/byte segments, which made the encoded length depend on the digits in it)."""
    from ca.letters import QrMaker
    from crypto.credential import credential_from_data, credential_qr_text

    compact = credential_qr_text("0" * 64, credential_from_data("0123456789" * 2 + "012345"))
    loose = credential_qr_text("a" * 64, credential_from_data("ABCDEFGHJK" * 2 + "MNPQRS"))
    assert len(compact) == len(loose)
    maker = QrMaker()
    first, second = maker.matrix(compact), maker.matrix(loose)
    assert len(first) == len(second) and first != second
