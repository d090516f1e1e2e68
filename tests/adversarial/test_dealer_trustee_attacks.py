"""Issue 17: attacks by the key dealer, the tally operator and on the trustees' offline tool —
each one performed for real, and the producer-side refusal that now stops it (docs/protocol.md
§6.2, §6.10, §6.11, §10; the verifier's checks 24–28 of docs/record.md §5 are tested in
tests/verifier).

Dealer (trusted for privacy only):
* shares 0 instead of d — every count decrypts to 0 → ``key.shared_secret``;
* publishes v = 1 — the tally operator, holding no secret, forges every trustee's share →
  ``key.verification_base`` (v is derived from a hash), and unsigned share files are refused;
* picks v as an n-th residue and writes a trustee's shares for any count → ``key.verification_base``;
  under a derived v the same forgery fails its proof;
* a 2048-bit n whose p − 1 is smooth → ``key.public`` (Pollard's p − 1);
* an n with a 17-bit factor at test size → ``key.public``; a 40-bit factor → ``key.factor_proof``;
* a prime n → refused as a public key;
* a share that does not match v_i → the trustee tool refuses.
Tally operator / trustee tool:
* a hidden contest holding one voter's ballot in the tally file → refused, naming it;
* another ciphertext or another vector length for a contest → refused;
* a counted set that excludes a valid ballot as invalid, or counts one that is not the last → refused;
* a second decryption of a contest with other ciphertexts → refused unless --force (recorded);
* share files unsigned, signed by another trustee, or for another tally → ``tally finish`` rejects;
* an export under another CA key (--ca-key) or another election key → refused.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from crypto import ContestStatement, encrypt_contest
from crypto.ceremony import write_encrypted_share
from crypto.credential import ballot_party
from crypto.encoding import canonical_json
from crypto.errors import InvalidProof
from crypto.hazmat import combine_unchecked
from crypto.keycheck import CHECKS, KeyCheckFailed, _PASSED, check_election_key
from crypto.primes import generate_safe_prime
from crypto.threshold import ElectionPublicKey, compute_decryption_share, verify_decryption_share
from election.signed import sign, unsigned
from tally.cli import tally_cli
from tally.errors import BoardRefused, TallyError
from tally.prepare import ENCRYPTED_TALLY, prepare
from tally.trustee import TrusteeRefused, decrypt, default_state_path
from tests.support.board_builder import BoardFixture, build_board_export, read_jsonl, rewrite_board
from tests.support.dishonest_dealer import (
    cofactor,
    dishonest_key,
    forged_secret,
    small_safe_prime,
    smooth_prime,
)
from tests.tally.conftest import copy_board
from tests.tally.helpers import run_finish, trustee_shares

NAMES = ["trustee-1", "trustee-2", "trustee-3"]
ENV = {"SSBVOTE_ALLOW_INSECURE_TEST_KEYS": "1"}


def _fails(key: ElectionPublicKey, check: str) -> str:
    _PASSED.clear()
    with pytest.raises(KeyCheckFailed) as info:
        check_election_key(key)
    assert info.value.check == check, str(info.value)
    return str(info.value)


@pytest.fixture(scope="module")
def primes() -> tuple[int, int]:
    while True:
        p, q = generate_safe_prime(256), generate_safe_prime(256)
        if p != q and (p * q).bit_length() == 512:
            return p, q


def _ballots(key: ElectionPublicKey, votes: list[list[int]]) -> list[list[int]]:
    statement = ContestStatement(key.public_key, "e" * 64, "c", "voter", len(votes[0]), len(votes[0]))
    return [list(encrypt_contest(statement, v, bytes([i]) * 32).ciphertexts) for i, v in enumerate(votes)]


def _tally(key: ElectionPublicKey, cts: list[list[int]]) -> list[int]:
    n2 = key.public_key.n_square
    out = [1] * len(cts[0])
    for ballot in cts:
        out = [a * c % n2 for a, c in zip(out, ballot)]
    return out


VOTES = [[1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 0, 0]]
COUNTS = [3, 1, 2]


# --- the dealer -------------------------------------------------------------------------------


def test_dealer_sharing_zero_makes_every_count_zero_and_is_refused(primes: tuple[int, int], tmp_path: Path) -> None:
    key, shares = dishonest_key(*primes, NAMES, 2, secret=0)
    tally = _tally(key, _ballots(key, VOTES))
    proven = [compute_decryption_share(s, "e" * 64, "c", tally) for s in shares[:2]]
    for share in proven:
        verify_decryption_share(key, "e" * 64, "c", tally, share)  # each share's proof holds …
    assert combine_unchecked(key, proven) == [0, 0, 0] != COUNTS  # … and every count is 0
    assert "d ≡ 1 (mod n)" in _fails(key, "key.shared_secret")
    # the tally refuses the key before counting, the trustee tool before decrypting
    board = build_board_export(tmp_path / "export", insured=4, employers=2, paper=0, seed=3,
                               election_key=(key, shares))
    with pytest.raises(BoardRefused, match=r"election key refused \(key.shared_secret\)"):
        prepare(board.path, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
    with pytest.raises(TrusteeRefused, match="key.shared_secret"):
        decrypt(board.share_files[0], None, tmp_path / "s.json", board.passphrases[0], board=board.path,
                allow_insecure_test_key=True)


def test_verification_base_one_lets_anyone_forge_shares_and_is_refused(primes: tuple[int, int]) -> None:
    key, _ = dishonest_key(*primes, NAMES, 2, base="one")
    tally = _tally(key, _ballots(key, VOTES))
    # The operator holds no secret: it picks x_1, x_2 with λ_1·x_1 + λ_2·x_2 = 0 (λ = 2·Δ·(2, −1)).
    forged = [compute_decryption_share(SimpleNamespace(election_key=key, index=i, secret_share=x),  # type: ignore[arg-type]
                                       "e" * 64, "c", tally) for i, x in ((1, 1), (2, 2))]
    for share in forged:
        verify_decryption_share(key, "e" * 64, "c", tally, share)  # v = v_i = 1: every proof holds
    assert combine_unchecked(key, forged) == [0, 0, 0] != COUNTS
    assert "derived from the key id" in _fails(key, "key.verification_base")


def test_verification_base_nth_residue_lets_the_dealer_set_any_count(primes: tuple[int, int]) -> None:
    p, q = primes
    key, shares = dishonest_key(p, q, NAMES, 2, base="nth-residue")
    tally = _tally(key, _ballots(key, VOTES))
    honest = [compute_decryption_share(s, "e" * 64, "c", tally) for s in shares[:2]]
    assert combine_unchecked(key, honest) == COUNTS
    # the dealer computes trustee 1's share with another class (CRT over n and λ(n)) …
    target = 5 * key.delta * shares[0].secret_share  # five times the right class
    fake = dataclasses.replace(shares[0], secret_share=forged_secret(shares[0], p, q, target))
    forged = compute_decryption_share(fake, "e" * 64, "c", tally)
    verify_decryption_share(key, "e" * 64, "c", tally, forged)  # … whose proof holds against v_1
    assert combine_unchecked(key, [forged, honest[1]]) != COUNTS
    assert "derived from the key id" in _fails(key, "key.verification_base")
    # Under a derived v (class 2κ, a unit) the same forgery fails its proof.
    good, good_shares = dishonest_key(p, q, NAMES, 2)
    fake = dataclasses.replace(good_shares[0], secret_share=forged_secret(good_shares[0], p, q, 12345))
    with pytest.raises(InvalidProof):
        verify_decryption_share(good, "e" * 64, "c", tally, compute_decryption_share(fake, "e" * 64, "c", tally))


def test_2048_bit_modulus_with_smooth_p_minus_1_is_refused() -> None:
    """Every other check passes: proofs (made honestly for these primes), v, the shared secret."""
    p = smooth_prime(1024)
    key, _ = dishonest_key(p, cofactor(p, 2048), NAMES, 2, allow_insecure_test_key=False)
    assert "Pollard" in _fails(key, "key.public")
    for name, check in CHECKS[1:]:
        check(key, None)


def test_modulus_with_a_small_factor_is_refused(tmp_path: Path) -> None:
    import gmpy2

    small = next(r for r in range(65539, 1 << 17, 4) if gmpy2.is_prime(r))  # ≡ 3 (mod 4), 17 bits
    key, shares = dishonest_key(small, cofactor(small, 512), NAMES, 2)  # a 17-bit factor
    assert key.public_key.n % small == 0 and small.bit_length() == 17
    assert "Pollard" in _fails(key, "key.public")
    board = build_board_export(tmp_path / "export", insured=3, employers=2, paper=0, seed=4,
                               election_key=(key, shares))
    with pytest.raises(BoardRefused, match=r"\(key.public\)"):
        prepare(board.path, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
    factor = small_safe_prime(40)  # beyond trial division and Pollard: Π^fac refuses it
    key, _ = dishonest_key(factor, cofactor(factor, 512), NAMES, 2)
    assert "below 2^61" in _fails(key, "key.factor_proof")


def test_prime_modulus_is_refused(tmp_path: Path, primes: tuple[int, int]) -> None:
    import gmpy2

    key, shares = dishonest_key(*primes, NAMES, 2)
    board = build_board_export(tmp_path / "export", insured=3, employers=2, paper=0, seed=5,
                               election_key=(key, shares))
    doc = json.loads((board.path / "election_key.json").read_bytes())
    doc["n"] = format(int(gmpy2.next_prime(1 << 511)), "x")
    (board.path / "election_key.json").write_bytes(canonical_json(doc))
    with pytest.raises(TallyError, match="product of two distinct primes"):
        prepare(board.path, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)


def test_trustee_refuses_a_share_that_does_not_match_its_verification_key(primes: tuple[int, int], tmp_path: Path) -> None:
    key, shares = dishonest_key(*primes, NAMES, 2)
    wrong = dataclasses.replace(shares[0], secret_share=shares[0].secret_share + 1)
    path = tmp_path / "t1.share.json"
    write_encrypted_share(path, wrong, "passphrase one", scrypt_log2_n=14)
    (tmp_path / "p").write_text("passphrase one")
    result = CliRunner().invoke(tally_cli, ["trustee", "check-share", "--share", str(path), "--passphrase-file",
                                            str(tmp_path / "p")], env=ENV)
    assert result.exit_code == 1 and "does not match the verification key v_1" in result.output
    good = tmp_path / "t2.share.json"
    write_encrypted_share(good, shares[1], "passphrase two", scrypt_log2_n=14)
    (tmp_path / "p").write_text("passphrase two")
    result = CliRunner().invoke(tally_cli, ["trustee", "check-share", "--share", str(good), "--passphrase-file",
                                            str(tmp_path / "p")], env=ENV)
    assert result.exit_code == 0 and "every check passes" in result.output and key.trustees[1].signing_key in result.output


# --- the tally operator and the trustee tool ---------------------------------------------------


@pytest.fixture(scope="module")
def base_board(tmp_path_factory: pytest.TempPathFactory) -> BoardFixture:
    root = tmp_path_factory.mktemp("attacks")
    return build_board_export(root / "export", insured=10, employers=6, revote_rate=0.35, paper=1,
                              invalid_ballots=1, trustees=3, threshold=2, seed=17)


@pytest.fixture
def prepared(base_board: BoardFixture, tmp_path: Path) -> tuple[BoardFixture, Path]:
    board = copy_board(base_board, tmp_path)
    prepare(board.path, tmp_path / "work", processes=1, allow_insecure_test_key=True, show_progress=False)
    return board, tmp_path / "work"


def _decrypt(fixture: BoardFixture, work: Path, i: int, out: Path, **options: Any) -> Any:
    return decrypt(fixture.share_files[i - 1], options.pop("tally", work / ENCRYPTED_TALLY), out,
                   fixture.passphrases[i - 1], allow_insecure_test_key=True, **options)


def _counted_ballot(board: BoardFixture, contest: str) -> dict[str, Any]:
    seq = board.counted[contest][0][0]
    return next(line for line in read_jsonl(board.ballots_path) if line["seq"] == seq)


def test_hidden_contest_with_one_voters_ballot_is_refused(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    victim = _counted_ballot(board, "insured")
    doctored = json.loads((work / ENCRYPTED_TALLY).read_bytes())
    doctored["contests"]["hidden"] = {"ciphertexts": victim["ballot"]["ciphertexts"], "counted_ballots": 1}
    (work / ENCRYPTED_TALLY).write_bytes(canonical_json(doctored))
    # The attack: decrypting every contest of the file (what the tool did) reveals the vote.
    key = board.election_key
    cts = [int(c, 16) for c in victim["ballot"]["ciphertexts"]]
    revealed = combine_unchecked(key, [compute_decryption_share(s, board.election_id, "hidden", cts)
                                       for s in board.trustee_shares[:2]])
    assert revealed == board.casts[victim["seq"]][2]
    with pytest.raises(TrusteeRefused, match="contest 'hidden' is not in the manifest"):
        _decrypt(board, work, 1, tmp_path / "s1.json")
    assert not (tmp_path / "s1.json").exists()
    assert not default_state_path(board.share_files[0]).exists()  # nothing decrypted, nothing recorded


def test_other_ciphertexts_or_length_for_a_contest_are_refused(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    original = (work / ENCRYPTED_TALLY).read_bytes()
    victim = _counted_ballot(board, "employer")
    doctored = json.loads(original)
    doctored["contests"]["employer"]["ciphertexts"] = victim["ballot"]["ciphertexts"]  # one voter's ballot
    (work / ENCRYPTED_TALLY).write_bytes(canonical_json(doctored))
    with pytest.raises(TrusteeRefused, match="contest 'employer' differs from the product of the counted ballots"):
        _decrypt(board, work, 1, tmp_path / "s1.json")
    doctored = json.loads(original)
    doctored["contests"]["insured"]["ciphertexts"].append(victim["ballot"]["ciphertexts"][0])
    (work / ENCRYPTED_TALLY).write_bytes(canonical_json(doctored))
    with pytest.raises(TrusteeRefused, match="contest 'insured' has 6 ciphertexts, the manifest 5 candidates"):
        _decrypt(board, work, 1, tmp_path / "s1.json")
    # without the tally's file the tool decrypts its own tally — the honest one
    (work / ENCRYPTED_TALLY).write_bytes(original)
    summary = _decrypt(board, work, 1, tmp_path / "s1.json")
    assert summary.contests == {c: len(v) for c, v in board.counted.items()}


def test_a_lying_counted_set_is_refused(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    counted_path = work / "tally" / "counted.json"
    original = counted_path.read_bytes()
    doc = json.loads(original)
    moved = doc["contests"]["insured"]["counted"].pop(0)  # a valid ballot declared invalid
    doc["contests"]["insured"]["excluded"].append(dict(moved, reason="invalid: made up"))
    counted_path.write_bytes(canonical_json(doc))
    with pytest.raises(TrusteeRefused, match=f"ballot seq {moved['seq']} is excluded as invalid, but its proofs verify"):
        _decrypt(board, work, 1, tmp_path / "s1.json", tally=None, board=work)
    doc = json.loads(original)
    superseded = next(x for x in doc["contests"]["insured"]["excluded"] if x["reason"] == "superseded")
    doc["contests"]["insured"]["counted"].append({"pseudonym": superseded["pseudonym"], "seq": superseded["seq"]})
    counted_path.write_bytes(canonical_json(doc))
    with pytest.raises(TrusteeRefused, match=f"ballot seq {superseded['seq']} of contest 'insured' is counted, but it "
                                             "is not its credential's last ballot"):
        _decrypt(board, work, 1, tmp_path / "s1.json", tally=None, board=work)


def test_each_contest_is_decrypted_once(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    first = _decrypt(board, work, 1, tmp_path / "s1.json")
    again = _decrypt(board, work, 1, tmp_path / "s1-again.json")  # the same tally: allowed
    assert again.repeated == ["employer", "insured"] and not again.forced
    # Another board of the same election (the server re-signed it with one ballot replaced):
    other = copy_board(board, tmp_path / "other")
    seq, pseudonym = board.counted["insured"][0]
    credential = board.cast_credentials[seq]
    statement = ContestStatement(board.election_key.public_key, board.election_id, "insured",
                                 ballot_party(pseudonym, credential), 5, 2)
    rewrite_board(other, ballots={seq: encrypt_contest(statement, [0, 0, 0, 0, 1], b"\x07" * 32).to_dict()})
    work2 = tmp_path / "work2"
    prepare(other.path, work2, processes=1, allow_insecure_test_key=True, show_progress=False)
    with pytest.raises(TrusteeRefused, match="contest 'insured' of election .* was already decrypted by this trustee"):
        _decrypt(board, work2, 1, tmp_path / "s1-other.json")
    warnings: list[str] = []
    forced = _decrypt(board, work2, 1, tmp_path / "s1-other.json", force=True, warn=warnings.append)
    assert forced.forced == ["insured"] and forced.repeated == ["employer"]
    assert any("FORCED" in w and "insured" in w for w in warnings)
    state = [json.loads(line) for line in default_state_path(board.share_files[0]).read_text().splitlines()]
    assert [s["forced"] for s in state] == [False, False, True]
    assert first.contests == again.contests


def test_finish_accepts_only_shares_signed_by_their_trustee(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    s1, s2, s3 = trustee_shares(board, work, tmp_path, [1, 2, 3])
    doc = json.loads(s1.read_bytes())
    # the tally operator's own shares (v1 style, unsigned) in trustee 1's name
    (tmp_path / "unsigned.json").write_bytes(canonical_json({k: doc[k] for k in ("trustee", "index", "contests")}))
    # trustee 1's shares signed by trustee 2's key
    (tmp_path / "other-key.json").write_bytes(canonical_json(sign(unsigned(doc), board.trustee_shares[1].signing_key)))
    # trustee 1's signature over another tally
    (tmp_path / "other-tally.json").write_bytes(canonical_json(
        sign(dict(unsigned(doc), tally="ab" * 32), board.trustee_shares[0].signing_key)))
    for name, reason in (("unsigned.json", "not signed by its trustee"),
                         ("other-key.json", "signature is not by the trustee's signing key"),
                         ("other-tally.json", "made for another encrypted tally")):
        warnings: list[str] = []
        with pytest.raises(TallyError, match="got 1"):
            run_finish(work, [tmp_path / name, s2], tmp_path / f"record-{name}", warnings)
        assert any(reason in w and "trustee-1" in w for w in warnings), warnings
    summary = run_finish(work, [s1, s2, s3], tmp_path / "record")
    assert summary.trustees_used == [1, 2]
    assert (tmp_path / "record" / "tally" / "decryption_shares" / "trustee-1.json").read_bytes() == s1.read_bytes()


def test_export_for_another_ca_or_key_is_refused(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    with pytest.raises(TrusteeRefused, match="not by the credential authority's"):
        _decrypt(board, work, 1, tmp_path / "s.json", ca_key="00" * 32)
    _decrypt(board, work, 1, tmp_path / "s.json", ca_key=board.ca_public_hex)
    # a trustee of another election key
    other = build_board_export(tmp_path / "other", insured=2, employers=2, paper=0, trustees=2, threshold=2, seed=9)
    with pytest.raises(TrusteeRefused, match="another election key"):
        decrypt(other.share_files[0], None, tmp_path / "x.json", other.passphrases[0], board=work,
                allow_insecure_test_key=True)


def test_trustee_cli_rebuilds_and_signs(prepared: tuple[BoardFixture, Path], tmp_path: Path) -> None:
    board, work = prepared
    (tmp_path / "p").write_text(board.passphrases[2])
    out = tmp_path / "t3.json"
    result = CliRunner().invoke(tally_cli, ["trustee", "decrypt", "--share", str(board.share_files[2]), "--board",
                                            str(work), "--out", str(out), "--passphrase-file", str(tmp_path / "p"),
                                            "--quiet", "--verify-all"], env=ENV)
    assert result.exit_code == 0, result.output
    assert "Tally rebuilt from the board" in result.output
    doc = json.loads(out.read_bytes())
    assert doc["type"] == "ssbvote-decryption-shares" and doc["index"] == 3 and len(doc["signature"]) == 128
    assert doc["election_id"] == board.election_id
    assert f"proofs of {sum(len(v) for v in board.counted.values()) + len(board.invalid_seqs)} ballots verified" \
        in result.output
    (tmp_path / "ca.txt").write_text(f"CA public key: {board.ca_public_hex}\n")
    result = CliRunner().invoke(tally_cli, ["trustee", "decrypt", "--share", str(board.share_files[2]), "--board",
                                            str(work), "--out", str(out), "--passphrase-file", str(tmp_path / "p"),
                                            "--quiet", "--ca-key", str(tmp_path / "ca.txt")], env=ENV)
    assert result.exit_code == 0 and "same tally as decrypted before" in result.output, result.output
    result = CliRunner().invoke(tally_cli, ["trustee", "decrypt", "--share", str(board.share_files[2]), "--board",
                                            str(work), "--out", str(out), "--passphrase-file", str(tmp_path / "p"),
                                            "--quiet", "--ca-key", "ab" * 32], env=ENV)
    assert result.exit_code == 1 and "not by the credential authority's" in result.output
