"""Voter roll import: all or nothing, every problem named by line."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Election, RollEntry
from app.services.administration import manifest as manifests
from app.services.administration import roll_import
from app.services.errors import InputFileError, ServiceError
from tests.support.factories import employer_csv, insured_csv, national_ids, small_manifest


@pytest.fixture
def election(any_app: Flask) -> Election:
    return manifests.create_election(small_manifest())


def roll_count() -> int:
    return db.session.scalar(select(func.count()).select_from(RollEntry)) or 0


def test_good_rolls_import_with_pseudonyms(election: Election) -> None:
    ids = national_ids(20)
    result = roll_import.import_roll_text(election, insured_csv(ids))
    assert (result.electorate, result.imported) == ("insured", 20)
    emp = roll_import.import_roll_text(election, employer_csv([("1000000001", national_ids(1, seed=9)[0])]))
    assert (emp.electorate, emp.imported) == ("employer", 1)
    entries = db.session.scalars(select(RollEntry).where(RollEntry.electorate == "insured")).all()
    assert sorted(e.voter_key for e in entries) == ids
    assert len({e.pseudonym for e in entries}) == 20
    assert all(e.voter_key not in e.pseudonym for e in entries)
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "roll.import")).all()
    assert len(audit) == 2


def _bad_check_digit(nid: str) -> str:
    return nid[:12] + str((int(nid[12]) + 1) % 10)


def test_invalid_check_digit_names_the_line_and_imports_nothing(election: Election) -> None:
    ids = national_ids(5)
    ids[3] = _bad_check_digit(ids[3])
    with pytest.raises(InputFileError) as excinfo:
        roll_import.import_roll_text(election, insured_csv(ids))
    assert f"line 5: national ID '{ids[3]}' is not valid" in str(excinfo.value)
    assert roll_count() == 0


def test_duplicates_in_file_are_reported_with_both_lines(election: Election) -> None:
    ids = national_ids(4)
    ids.append(ids[1])
    with pytest.raises(InputFileError) as excinfo:
        roll_import.import_roll_text(election, insured_csv(ids))
    assert f"line 6: national ID {ids[1]} appears again (first on line 3)" in str(excinfo.value)
    assert roll_count() == 0


def test_already_on_roll_refused(election: Election) -> None:
    ids = national_ids(3)
    roll_import.import_roll_text(election, insured_csv(ids))
    with pytest.raises(InputFileError, match="already on the roll"):
        roll_import.import_roll_text(election, insured_csv(national_ids(2, seed=5) + ids[:1]))
    assert roll_count() == 3


def test_unknown_and_missing_columns(election: Election) -> None:
    with pytest.raises(InputFileError, match=r"line 1: unknown column\(s\) salary"):
        roll_import.import_roll_text(election, "national_id,date_of_birth,salary\n")
    with pytest.raises(InputFileError, match=r"line 1: missing column\(s\) date_of_birth"):
        roll_import.import_roll_text(election, "national_id,name\n1101700230708,x\n")
    with pytest.raises(InputFileError, match="line 1: header must name"):
        roll_import.import_roll_text(election, "id,dob\n1,2\n")
    assert roll_count() == 0


def test_bad_dates_and_field_counts_all_reported(election: Election) -> None:
    ids = national_ids(3)
    text = ("national_id,date_of_birth,name\n"
            f"{ids[0]},1980-02-30,A\n"
            f"{ids[1]},1980-01-01\n"
            f"{ids[2]},01/02/1980,C\n")
    with pytest.raises(InputFileError) as excinfo:
        roll_import.import_roll_text(election, text)
    message = str(excinfo.value)
    assert "line 2: date_of_birth '1980-02-30' is not a date" in message
    assert "line 3: expected 3 fields, found 2" in message
    assert "line 4: date_of_birth '01/02/1980'" in message
    assert "3 problem(s)" in message
    assert roll_count() == 0


def test_voter_in_both_rolls_refused_either_order(election: Election) -> None:
    person = national_ids(1, seed=42)[0]
    roll_import.import_roll_text(election, insured_csv([person]))
    with pytest.raises(InputFileError, match="one roll only"):
        roll_import.import_roll_text(election, employer_csv([("1000000001", person)]))
    assert roll_count() == 1


def test_voter_in_both_rolls_refused_employer_first(election: Election) -> None:
    person = national_ids(1, seed=43)[0]
    roll_import.import_roll_text(election, employer_csv([("1000000002", person)]))
    with pytest.raises(InputFileError, match="one roll only"):
        roll_import.import_roll_text(election, insured_csv([person]))
    assert roll_count() == 1


def test_employer_fields_validated(election: Election) -> None:
    with pytest.raises(InputFileError) as excinfo:
        roll_import.import_roll_text(election, employer_csv([("12345", "1101700230708"),
                                                             ("1000000003", "1101700230700")]))
    assert "line 2: employer account number '12345' is not valid" in str(excinfo.value)
    assert "line 3: authorised_national_id '1101700230700' is not a valid national ID" in str(excinfo.value)
    assert roll_count() == 0


def test_empty_file_and_header_only(election: Election) -> None:
    with pytest.raises(InputFileError, match="empty"):
        roll_import.import_roll_text(election, "")
    with pytest.raises(InputFileError, match="no voters"):
        roll_import.import_roll_text(election, "national_id,date_of_birth\n")


def test_roll_frozen_once_polls_open(election: Election) -> None:
    election.status = "open"
    db.session.commit()
    with pytest.raises(ServiceError, match="once polls have opened"):
        roll_import.import_roll_text(election, insured_csv(national_ids(1)))


def test_excel_bom_is_accepted(election: Election, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "roll.csv"
    path.write_text(insured_csv(national_ids(2)), encoding="utf-8-sig")
    assert roll_import.import_roll_file(election, path).imported == 2
