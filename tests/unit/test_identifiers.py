"""Thai national ID check digits and voter pseudonyms."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.services.identity.identifiers import (
    employer_account_is_valid,
    national_id_check_digit,
    national_id_is_valid,
    pseudonym,
)

# Known-answer values computed by hand with the mod-11 rule:
# 1-1017-00230-70-? : Σ dᵢ·(13..2) = 1·13+1·12+0·11+1·10+7·9+0·8+0·7+2·6+3·5+0·4+7·3+0·2 = 146,
# 146 mod 11 = 3, (11 − 3) mod 10 = 8.
KNOWN_VALID = ["1101700230708"]


def test_known_valid_ids() -> None:
    for value in KNOWN_VALID:
        assert national_id_is_valid(value)


def test_rejects_wrong_length_letters_and_unicode_digits() -> None:
    assert not national_id_is_valid("110170023070")
    assert not national_id_is_valid("11017002307080")
    assert not national_id_is_valid("11017002307a8")
    assert not national_id_is_valid("๑๑๐๑๗๐๐๒๓๐๗๐๘")  # Thai digits are not accepted as input


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_completed_prefix_is_valid_and_every_other_digit_is_not(prefix: str) -> None:
    check = national_id_check_digit(prefix)
    assert national_id_is_valid(prefix + check)
    for other in "0123456789":
        if other != check:
            assert not national_id_is_valid(prefix + other)


def test_employer_account_numbers() -> None:
    assert employer_account_is_valid("1000123456")
    assert not employer_account_is_valid("100012345")
    assert not employer_account_is_valid("10001234567")


def test_pseudonym_is_keyed_and_bound_to_election_and_electorate() -> None:
    base = pseudonym("k1", "e1", "insured", "1101700230708")
    assert len(base) == 32
    assert base == pseudonym("k1", "e1", "insured", "1101700230708")
    assert base != pseudonym("k2", "e1", "insured", "1101700230708")
    assert base != pseudonym("k1", "e2", "insured", "1101700230708")
    assert base != pseudonym("k1", "e1", "employer", "1101700230708")
