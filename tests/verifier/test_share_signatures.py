"""Check 28 (``tally.share_signatures``, docs/record.md §4.3, §5) and its effect on checks 13–14,
on share files made by hand for a hand-made key (tests/verifier/keybuilder.py); and a share
forged under a dealer-chosen v = 1, which verifies (check 13's equations hold trivially) but
whose key fails checks 26 and 27."""
from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.verifier.keybuilder import Dealer, decryption_share as _share, honest_key, hx
from verifier.checks import (CheckResult, Context, Options, check_04_key_public,
                             check_05_key_verification, check_13_tally_decryption_shares,
                             check_26_key_verification_base, check_27_key_shared_secret,
                             check_28_tally_share_signatures)
from verifier.record import ELECTION_KEY, ENCRYPTED_TALLY, Record
from verifier.threshold import parse_decryption_share, parse_election_key, verify_decryption_share

EID = hashlib.sha256(b"an election").hexdigest()
CONTEST = "insured"


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decryption_share(n: int, v: int, v_i: int, index: int, x: int, delta: int,
                     cts: list[int], rng: random.Random) -> dict[str, Any]:
    return _share(EID, CONTEST, n, v, v_i, index, x, delta, cts, rng)


class Shares:
    """A record fragment: the key, an encrypted tally of one contest, and every trustee's
    signed share file."""

    def __init__(self, dealer: Dealer, key: dict[str, Any]) -> None:
        self.dealer, self.key = dealer, key
        n = dealer.n
        n2 = n * n
        rng = random.Random(3)
        plain = [2, 0, 1]
        self.cts = [(1 + m * n) * pow(rng.randrange(2, n), n, n2) % n2 for m in plain]
        self.tally = {"election_id": EID, "contests": {CONTEST: {
            "ciphertexts": [hx(c) for c in self.cts], "counted_ballots": 3}}}
        v = int(key["verification_base"], 16)
        self.files: dict[int, dict[str, Any]] = {}
        for tr in key["trustees"]:
            i = tr["index"]
            share = decryption_share(n, v, int(tr["verification_key"], 16), i,
                                     dealer.delta * dealer.secrets[i], dealer.delta, self.cts,
                                     rng)
            self.files[i] = self.sign({
                "type": "ssbvote-decryption-shares", "election_id": EID, "trustee": tr["trustee"],
                "index": i, "tally": hashlib.sha256(canonical(self.tally)).hexdigest(),
                "contests": {CONTEST: share}}, i)

    def sign(self, obj: dict[str, Any], signer: int) -> dict[str, Any]:
        body = {k: v for k, v in obj.items() if k != "signature"}
        return {**body, "signature": self.dealer.signers[signer].sign(canonical(body)).hex()}

    def context(self) -> Context:
        rec = Record(Path("/nonexistent"))
        rec.json[ELECTION_KEY] = self.key
        rec.files[ENCRYPTED_TALLY] = canonical(self.tally)
        for i, obj in self.files.items():
            rel = f"tally/decryption_shares/trustee-{i}.json"
            rec.files[rel] = canonical(obj)
            rec.json[rel] = obj
        ctx = Context(rec, Options(allow_test_key=True))
        ctx.election_id = EID
        ctx.contests = {CONTEST: None}  # type: ignore[dict-item]  # only the ids are used
        ctx.tally = {CONTEST: self.cts}
        return ctx

    def run(self) -> tuple[Context, CheckResult, CheckResult]:
        ctx = self.context()
        check_04_key_public(ctx)
        check_05_key_verification(ctx)
        r13 = check_13_tally_decryption_shares(ctx)
        r28 = check_28_tally_share_signatures(ctx)
        return ctx, r13, r28


@pytest.fixture(scope="module")
def honest_shares() -> Shares:
    dealer, text = honest_key(1)
    key = json.loads(text)
    return Shares(dealer, key)


@pytest.fixture
def shares(honest_shares: Shares) -> Shares:
    s = copy.copy(honest_shares)
    s.files = copy.deepcopy(honest_shares.files)
    return s


def codes(r: CheckResult) -> list[str]:
    return [f.code for f in r.failures]


def test_signed_share_files_pass_13_and_28(shares: Shares) -> None:
    ctx, r13, r28 = shares.run()
    assert r13.passed and r28.passed, (r13.failures, r28.failures)
    assert ctx.valid_shares is not None and sorted(ctx.valid_shares) == [1, 2, 3]
    assert [f.params for f in r28.notes] == [{"trustees": [1, 2, 3]}]


def test_a_file_signed_by_another_trustee_fails_28_and_is_not_used(shares: Shares) -> None:
    shares.files[2] = shares.sign(shares.files[2], 3)
    ctx, r13, r28 = shares.run()
    assert codes(r28) == ["share_signatures.signed_by"]
    f = r28.failures[0]
    assert f.item == {"file": "tally/decryption_shares/trustee-2.json", "trustee": 2}
    assert f.params == {"index": 2, "signer": 3}
    assert codes(r13) == ["shares.unsigned"]
    assert ctx.valid_shares is not None and sorted(ctx.valid_shares) == [1, 3]


def test_an_unsigned_or_badly_signed_file_fails_28(shares: Shares) -> None:
    shares.files[1]["signature"] = "00" * 64
    del shares.files[3]["signature"]
    ctx, r13, r28 = shares.run()
    assert sorted(codes(r28)) == ["share_signatures.invalid", "share_signatures.shape"]
    assert {f.item["trustee"] for f in r28.failures} == {1, 3}
    assert ctx.valid_shares is not None and sorted(ctx.valid_shares) == [2]
    assert "shares.unsigned" in codes(r13) and "shares.shape" in codes(r13)


@pytest.mark.parametrize("field,value,code", [
    ("tally", "ab" * 32, "share_signatures.tally"),
    ("election_id", "cd" * 32, "share_signatures.election_id"),
    ("type", "ssbvote-checkpoint", "share_signatures.type"),
])
def test_a_file_signed_by_its_trustee_for_something_else_fails_28(
        shares: Shares, field: str, value: str, code: str) -> None:
    """The trustee's own signature over another tally, election or type of object: the
    signature verifies, the content is not this record's."""
    shares.files[1] = shares.sign({**shares.files[1], field: value}, 1)
    _, r13, r28 = shares.run()
    assert codes(r28) == [code]
    assert codes(r13) == ["shares.unsigned"]


def test_a_file_naming_another_trustee_fails_28(shares: Shares) -> None:
    shares.files[1] = shares.sign({**shares.files[1], "trustee": "Mallory"}, 1)
    _, r13, r28 = shares.run()
    assert codes(r28) == ["share_signatures.unknown_trustee"]
    assert "shares.name_mismatch" in codes(r13)


def test_a_version_1_share_file_fails_13_and_28(shares: Shares) -> None:
    shares.files[2] = {k: shares.files[2][k] for k in ("trustee", "index", "contests")}
    _, r13, r28 = shares.run()
    assert codes(r28) == ["share_signatures.shape"] and codes(r13) == ["shares.shape"]


def test_no_share_files_passes_28_vacuously(shares: Shares) -> None:
    shares.files = {}
    _, _, r28 = shares.run()
    assert r28.passed


# --- a share forged under v = 1 ----------------------------------------------------------------

def test_a_share_forged_under_v_1_verifies_but_the_key_fails_26_and_27() -> None:
    """A dealer who picks v = 1 (so every v_i = 1) lets anyone prove any share: the forger
    takes an exponent of its choice.  Check 13's equations hold; checks 26–27 refuse the key,
    so the record fails (the dealer can no longer choose v: docs/protocol.md §6.6)."""
    dealer = Dealer(seed=1, base=1)
    key = dealer.key(proofs=False)
    assert all(t["verification_key"] == "1" for t in key["trustees"])
    s = Shares(dealer, key)
    forged = decryption_share(dealer.n, 1, 1, 1, 424242, dealer.delta, s.cts, random.Random(9))
    parsed = parse_election_key(key)
    verify_decryption_share(parsed, EID, CONTEST, s.cts,
                            parse_decryption_share(forged, len(s.cts), "forged"))
    ctx = s.context()
    check_04_key_public(ctx)
    check_05_key_verification(ctx)
    assert not check_26_key_verification_base(ctx).passed
    assert not check_27_key_shared_secret(ctx).passed
