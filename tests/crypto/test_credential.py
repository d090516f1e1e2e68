"""Credentials and ballot signatures (docs/protocol.md §13): tests/vectors/credentials.json
re-derived byte for byte, mistypes rejected, signatures bound to every field."""
from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import credential as cred
from crypto.credential import (
    ALPHABET, MISTYPED, ballot_party, ballot_statement, check_symbols, credential_from_data,
    credential_qr_text, format_credential, generate_credential, official_key, parse_credential,
    parse_credential_qr, public_credential, sign_ballot, signing_key, signing_seed,
    verify_ballot_signature, voter_key,
)
from crypto.encoding import canonical_json
from crypto.errors import InvalidInput

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

ELECTION = "b3c1f0e2d4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"
FIELDS = ("election_id", "opening", "contest", "pseudonym", "credential", "ballot_hash")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("credential_generate", VECTORS / "generate_credentials.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "credentials.json").read_text(encoding="utf-8"))
    return data


Args = tuple[str, str, str, str, str, str]


def _args(statement: dict[str, str]) -> Args:
    e, o, c, p, k, h = (statement[f] for f in FIELDS)
    return e, o, c, p, k, h


# --- known answers ---------------------------------------------------------------------------


def test_vectors_match_generator_byte_for_byte(vectors: dict[str, Any]) -> None:
    assert vectors == _generator().build_all()
    text = (VECTORS / "credentials.json").read_text(encoding="utf-8")
    assert text == json.dumps(vectors, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    assert len(vectors["cases"]) >= 5 and len(vectors["mistyped"]) >= 10


def test_vectors_case_by_case(vectors: dict[str, Any]) -> None:
    """Each intermediate value, independently of the generator's own code path."""
    for v in vectors["cases"]:
        assert v["credential"] == v["data"] + check_symbols(v["data"])
        x = v["check_value"]
        assert v["credential"][26:] == ALPHABET[x >> 5] + ALPHABET[x & 31]
        assert parse_credential(v["typed"]) == v["credential"]
        assert parse_credential(v["formatted"]) == v["credential"]
        assert format_credential(v["credential"]) == v["formatted"]
        assert format_credential(v["typed"]) == v["formatted"]
        assert credential_qr_text(v["election_id"], v["typed"]) == v["qr_text"]
        assert parse_credential_qr(v["qr_text"]) == (v["election_id"], v["credential"])
        assert signing_seed(v["typed"], "voter", v["election_id"]).hex() == v["voter_seed"]
        assert signing_seed(v["credential"], "official", vectors["officials_scope"]).hex() == v["official_seed"]
        voter = voter_key(v["formatted"], v["election_id"])
        assert public_credential(voter) == v["voter_public"]
        assert public_credential(voter.public_key()) == v["voter_public"]
        assert public_credential(official_key(v["typed"])) == v["official_public"]
        s = v["statement"]
        assert s["credential"] == v["voter_public"] and s["opening"] == vectors["opening"]
        assert ballot_statement(*_args(s), previous=s["previous"]) == s
        assert canonical_json(s).decode("utf-8") == v["statement_json"]
        assert ballot_party(s["pseudonym"], s["credential"]) == v["ballot_party"]
        assert sign_ballot(s, voter) == v["signature"]  # Ed25519 is deterministic
        assert verify_ballot_signature(*_args(s), v["signature"], previous=s["previous"])


def test_vector_keys_are_distinct(vectors: dict[str, Any]) -> None:
    publics = [v[k] for v in vectors["cases"] for k in ("voter_public", "official_public")]
    assert len(set(publics)) == len(publics)


def test_mistyped_vectors(vectors: dict[str, Any]) -> None:
    for item in vectors["mistyped"]:
        with pytest.raises(InvalidInput, match=f"^{MISTYPED}$"):
            parse_credential(item["typed"])


# --- parsing ---------------------------------------------------------------------------------

_credentials = st.text(alphabet=ALPHABET, min_size=26, max_size=26).map(credential_from_data)


@settings(max_examples=300, deadline=None)
@given(_credentials)
def test_parse_format_round_trip(symbols: str) -> None:
    formatted = format_credential(symbols)
    assert re.fullmatch(r"(?:[0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", formatted)
    assert parse_credential(formatted) == symbols
    assert format_credential(parse_credential(formatted)) == formatted


@settings(max_examples=200, deadline=None)
@given(_credentials, st.lists(st.sampled_from(["", " ", "-", "\t", "\n", "  "]), min_size=28, max_size=28),
       st.lists(st.booleans(), min_size=28, max_size=28))
def test_parse_is_lenient_about_case_spacing_and_lookalikes(symbols: str, seps: list[str], lower: list[bool]) -> None:
    typed = ""
    for symbol, sep, low in zip(symbols, seps, lower):
        char = {"0": "O", "1": "L" if low else "I"}.get(symbol, symbol) if low else symbol
        typed += (char.lower() if low else char) + sep
    assert parse_credential(typed) == symbols


def test_single_substitutions_are_detected() -> None:
    """§13.1: every symbol replaced by every other symbol; a change escapes only if the 10-bit
    check collides (probability 2^-10 for a data symbol, never for a check symbol)."""
    credentials = [credential_from_data(d) for d in ("01" * 13, ALPHABET[:26], "K7QM3XDA1PWE0ZN9HGRT4S6B8Y")]
    credentials += [parse_credential(generate_credential()) for _ in range(3)]
    tried = missed = 0
    for good in credentials:
        for i in range(28):
            for symbol in ALPHABET:
                if symbol == good[i]:
                    continue
                tried += 1
                typed = good[:i] + symbol + good[i + 1:]
                try:
                    parse_credential(typed)
                except InvalidInput as exc:
                    assert str(exc) == MISTYPED
                else:
                    missed += 1
                    assert i < 26, "a changed check symbol must always be caught"
    assert tried == 6 * 28 * 31
    assert missed / tried < 0.006, (missed, tried)  # expected ≈ 26/28 · 2^-10 ≈ 0.0009


def test_transpositions_mostly_detected() -> None:
    good = credential_from_data(ALPHABET[:26])
    swaps = [good[:i] + good[i + 1] + good[i] + good[i + 2:] for i in range(27) if good[i] != good[i + 1]]
    caught = sum(not cred.is_credential(s) for s in swaps)
    assert caught >= len(swaps) - 1


@pytest.mark.parametrize("typed", [
    "", "0" * 28, "ABCD", "Z" * 29, "U" * 28, None, 12345, b"0" * 28, "x" * 10_000,
])
def test_rejects_garbage(typed: Any) -> None:
    with pytest.raises(InvalidInput, match=f"^{MISTYPED}$"):
        parse_credential(typed)


def test_rejects_wrong_length_u_and_foreign_characters() -> None:
    good = credential_from_data("K7QM3XDA1PWE0ZN9HGRT4S6B8Y")
    for bad in (good[:27], good + "0", good[:26], good[1:], "0" + good,
                good.replace("K", "U"), good.replace("K", "u"), good[:4] + "." + good[4:],
                good[:4] + "_" + good[4:], good[:4] + "\u00a0" + good[4:], good[:4] + "\u2013" + good[4:],
                good.replace("M", "\uff2d"), good[:8] + "\u0131" + good[9:], good + "\x00"):
        with pytest.raises(InvalidInput, match=f"^{MISTYPED}$"):
            parse_credential(bad)
    assert parse_credential(good.lower()) == good
    assert parse_credential("\t" + " - ".join(good) + "\r\n") == good


def test_check_symbols_and_data_validation() -> None:
    with pytest.raises(InvalidInput):
        check_symbols("0" * 25)
    with pytest.raises(InvalidInput):
        check_symbols("O" * 26)  # the data are canonical symbols, not what was typed
    assert len(check_symbols("0" * 26)) == 2


def test_qr_text() -> None:
    symbols = credential_from_data(ALPHABET[:26])
    text = credential_qr_text(ELECTION, format_credential(symbols))
    assert text == f"ssbvote-credential:1:{ELECTION}:{symbols}"
    assert parse_credential_qr(text) == (ELECTION, symbols)
    for bad in (text.replace(":1:", ":2:"), text.upper(), text[:-1], text + "0",
                text.replace(symbols, format_credential(symbols)), text.replace(symbols, symbols.lower()),
                f"ssbvote-credential:1:{ELECTION[:-1]}:{symbols}", "ssbvote-credential:1:", "",
                text[:-2] + text[-1] + text[-2]):
        with pytest.raises(InvalidInput):
            parse_credential_qr(bad)
    with pytest.raises(InvalidInput):
        credential_qr_text(ELECTION.upper(), symbols)


# --- generation ------------------------------------------------------------------------------


def test_generate_shape_and_entropy() -> None:
    made = [generate_credential() for _ in range(400)]
    assert len(set(made)) == len(made)
    for text in made:
        assert re.fullmatch(r"(?:[0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", text)
        assert format_credential(parse_credential(text)) == text
    counts = Counter("".join(parse_credential(t)[:26] for t in made))
    assert set(counts) == set(ALPHABET)
    expected = 400 * 26 / 32  # 325 per symbol; chi-square with 31 degrees of freedom
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 80, chi2  # p ≈ 2·10^-6 of a false alarm


def test_generate_draws_from_crypto_randomness(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fake(upper: int) -> int:
        calls.append(upper)
        return len(calls) % upper

    monkeypatch.setattr(cred, "random_below", fake)
    text = generate_credential()
    assert calls == [32] * 26
    assert parse_credential(text)[:26] == "".join(ALPHABET[i % 32] for i in range(1, 27))


# --- keys ------------------------------------------------------------------------------------


def test_keys_depend_on_purpose_scope_and_credential() -> None:
    a = credential_from_data("K7QM3XDA1PWE0ZN9HGRT4S6B8Y")
    b = credential_from_data("K7QM3XDA1PWE0ZN9HGRT4S6B8Z")
    other = "00" * 32
    keys = {
        public_credential(voter_key(a, ELECTION)), public_credential(voter_key(a, other)),
        public_credential(voter_key(b, ELECTION)), public_credential(official_key(a)),
        public_credential(signing_key(a, "official", ELECTION)),
    }
    assert len(keys) == 5
    assert public_credential(voter_key(a, ELECTION)) == public_credential(signing_key(a, "voter", ELECTION))
    assert public_credential(official_key(a)) == public_credential(signing_key(a, "official", "ssbvote-officials"))
    for bad_election in (ELECTION.upper(), ELECTION[:-1], "", "e"):
        with pytest.raises(InvalidInput):
            voter_key(a, bad_election)
    for purpose, scope in (("", ELECTION), ("voter", ""), ("voter", "ผู้"), ("voter", "a b")):
        with pytest.raises(InvalidInput):
            signing_key(a, purpose, scope)
    with pytest.raises(InvalidInput, match=f"^{MISTYPED}$"):
        voter_key(a[:-1] + ("0" if a[-1] != "0" else "1"), ELECTION)


# --- ballot statement and signature ----------------------------------------------------------


def _signed(previous: str = "") -> tuple[dict[str, str], str]:
    key = voter_key(credential_from_data(ALPHABET[:26]), ELECTION)
    statement = ballot_statement(ELECTION, "ab" * 32, "insured-board", "cd" * 16, public_credential(key),
                                 "ef" * 32, previous=previous)
    return statement, sign_ballot(statement, key)


@pytest.mark.parametrize("previous", ["", "12" * 32])
def test_signature_fails_when_any_field_changes(previous: str) -> None:
    statement, signature = _signed(previous)
    assert verify_ballot_signature(*_args(statement), signature, previous=previous)
    changed = {"election_id": "00" * 32, "opening": "ac" * 32, "contest": "employer-board",
               "pseudonym": "ce" * 16, "ballot_hash": "ee" * 32,
               "credential": public_credential(voter_key(credential_from_data("0" * 26), ELECTION))}
    for field, value in changed.items():
        assert not verify_ballot_signature(*_args({**statement, field: value}), signature, previous=previous), field
    other_previous = "" if previous else "12" * 32
    assert not verify_ballot_signature(*_args(statement), signature, previous=other_previous)
    raw = bytearray(bytes.fromhex(signature))
    for i in (0, 31, 32, 63):
        flipped = bytearray(raw)
        flipped[i] ^= 1
        assert not verify_ballot_signature(*_args(statement), flipped.hex(), previous=previous)


def test_malformed_signature_and_fields_are_false_not_errors() -> None:
    statement, signature = _signed()
    for bad in (signature.upper(), signature[:-2], signature + "00", "", "zz" * 64):
        assert not verify_ballot_signature(*_args(statement), bad, previous="")
    upper = _args({**statement, "credential": statement["credential"].upper()})
    assert not verify_ballot_signature(*upper, signature, previous="")
    assert not verify_ballot_signature(*_args(statement), signature, previous="12")


def test_statement_validation() -> None:
    good = dict(zip(FIELDS, ("ab" * 32, "cd" * 32, "insured", "ef" * 16, "01" * 32, "23" * 32)))
    statement = ballot_statement(**good, previous="")
    assert list(sorted(statement)) == sorted([*FIELDS, "previous", "type"])
    assert statement["type"] == "ssbvote-ballot"
    for field, bad in (("election_id", "AB" * 32), ("opening", "cd" * 31), ("contest", ""), ("contest", "x" * 257),
                       ("pseudonym", "ef" * 32), ("credential", "01" * 16), ("ballot_hash", 5)):
        with pytest.raises(InvalidInput, match=field):
            ballot_statement(**{**good, field: bad}, previous="")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="previous"):
        ballot_statement(**good, previous="12")


def test_sign_ballot_refuses_a_foreign_key_or_shape() -> None:
    statement, _ = _signed()
    with pytest.raises(InvalidInput):
        sign_ballot(statement, voter_key(credential_from_data("0" * 26), ELECTION))
    with pytest.raises(InvalidInput):
        sign_ballot({**statement, "extra": "x"}, voter_key(credential_from_data(ALPHABET[:26]), ELECTION))


def test_ballot_party() -> None:
    assert ballot_party("ab" * 16, "cd" * 32) == "ab" * 16 + "/" + "cd" * 32
    with pytest.raises(InvalidInput):
        ballot_party("ผู้ประกันตน", "cd" * 32)
    with pytest.raises(InvalidInput):
        ballot_party("ab" * 16, "CD" * 32)


def test_statement_is_a_record_signed_object() -> None:
    """The ballot statement with its signature is a record.md §1 signed object."""
    signed = pytest.importorskip("election.signed")
    statement, signature = _signed("12" * 32)
    assert signed.verify({**statement, "signature": signature}, statement["credential"])
    key = voter_key(credential_from_data(ALPHABET[:26]), ELECTION)
    assert signed.sign(statement, key)["signature"] == signature
