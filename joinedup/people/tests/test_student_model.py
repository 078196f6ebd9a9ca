"""The Student record: identifiers checked on full_clean, numbers unique per university."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from joinedup.people.models import Organisation, Student

UNIQUE_NUMBER_MESSAGE = (
    "A student with this student number is already registered at this university."
)


@pytest.fixture
def university(db) -> Organisation:
    return Organisation.objects.create(name="University of Northbridge", kind="university")


@pytest.fixture
def other_university(db) -> Organisation:
    return Organisation.objects.create(name="Southgate University", kind="university")


def _student(university, **fields) -> Student:
    defaults = {
        "legal_given_name": "Alexandra",
        "legal_family_name": "Okafor",
        "preferred_name": "Alex",
        "date_of_birth": dt.date(2004, 5, 17),
        "student_number": "NB1000001",
    }
    return Student(university=university, **(defaults | fields))


def _errors(student: Student) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        student.full_clean()
    return excinfo.value.message_dict


def test_student_with_valid_identifiers_passes_full_clean(university):
    student = _student(
        university, nhs_number="9434765919", term_postcode="LS2 9JT", home_postcode="M1 1AE"
    )
    student.full_clean()


def test_full_clean_stores_nhs_number_as_ten_digits(university):
    student = _student(university, nhs_number="943 476 5919")
    student.full_clean()
    assert student.nhs_number == "9434765919"


def test_full_clean_stores_postcodes_in_royal_mail_form(university):
    student = _student(university, term_postcode="ls29jt", home_postcode=" sw1a  1aa ")
    student.full_clean()
    assert (student.term_postcode, student.home_postcode) == ("LS2 9JT", "SW1A 1AA")


def test_blank_identifiers_pass_full_clean(university):
    _student(university, nhs_number="", term_postcode="", home_postcode="").full_clean()


def test_full_clean_refuses_nhs_number_with_wrong_check_digit(university):
    errors = _errors(_student(university, nhs_number="9434765918"))
    assert errors == {
        "nhs_number": ["This is not a valid NHS number: its check digit does not match."]
    }


@pytest.mark.parametrize("value", ["943476591", "94347659190", "94347659AB"])
def test_full_clean_refuses_nhs_number_of_wrong_length(university, value):
    errors = _errors(_student(university, nhs_number=value))
    assert "An NHS number has 10 digits, like 943 476 5919." in errors["nhs_number"]


@pytest.mark.parametrize("field", ["term_postcode", "home_postcode"])
def test_full_clean_refuses_malformed_postcode(university, field):
    errors = _errors(_student(university, **{field: "LS2 9CI"}))
    assert errors == {field: ["Enter a real UK postcode, like LS2 9JT."]}


def test_full_clean_names_every_bad_identifier_at_once(university):
    errors = _errors(
        _student(university, nhs_number="9434765918", term_postcode="12345", home_postcode="QQ")
    )
    assert set(errors) == {"nhs_number", "term_postcode", "home_postcode"}


def test_organisation_full_clean_refuses_malformed_ods_code(db):
    organisation = Organisation(name="Northbridge NHS Trust", kind="nhs_trust", ods_code="rx-4")
    with pytest.raises(ValidationError) as excinfo:
        organisation.full_clean()
    assert excinfo.value.message_dict == {
        "ods_code": ["Enter an ODS code of 3 to 6 capital letters and digits, like RW4 or P84001."]
    }


def test_organisation_with_valid_ods_code_passes_full_clean(db):
    Organisation(name="Northbridge NHS Trust", kind="nhs_trust", ods_code="RX4").full_clean()


def test_ods_code_is_unique_but_blank_codes_are_not(db):
    Organisation.objects.create(name="Trust A", kind="nhs_trust", ods_code="RX4")
    Organisation.objects.create(name="Uni A", kind="university")
    Organisation.objects.create(name="Uni B", kind="university")
    duplicate = Organisation(name="Trust B", kind="nhs_trust", ods_code="RX4")
    with pytest.raises(ValidationError, match="unique_ods_code"):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_student_number_is_unique_within_a_university(university):
    _student(university).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _student(university, legal_given_name="Sam").save()
    assert Student.objects.filter(university=university).count() == 1


def test_duplicate_student_number_is_explained_by_validation(university):
    _student(university).save()
    duplicate = _student(university, legal_given_name="Sam")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.validate_constraints()
    assert excinfo.value.messages == [UNIQUE_NUMBER_MESSAGE]
    assert _errors(duplicate) == {"__all__": [UNIQUE_NUMBER_MESSAGE]}


def test_same_student_number_is_allowed_at_another_university(university, other_university):
    _student(university).save()
    elsewhere = _student(other_university)
    elsewhere.full_clean()
    elsewhere.save()
    assert Student.objects.filter(student_number="NB1000001").count() == 2


def test_display_name_uses_the_preferred_name(university):
    student = _student(university, preferred_name="Alex")
    assert student.display_name == "Alex Okafor"
    assert str(student) == "Alex Okafor"
    assert student.legal_name == "Alexandra Okafor"


def test_display_name_falls_back_to_the_legal_given_name(university):
    student = _student(university, preferred_name="")
    assert student.display_name == "Alexandra Okafor"
