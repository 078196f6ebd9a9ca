"""Identifier checks for NHS numbers, postcodes and ODS codes: no database."""

import pytest
from django.core.exceptions import ValidationError

from joinedup.people.validators import (
    normalise_nhs_number,
    normalise_postcode,
    validate_nhs_number,
    validate_ods_code,
    validate_postcode,
)

CHECK_DIGIT_MESSAGE = "This is not a valid NHS number: its check digit does not match."
LENGTH_MESSAGE = "An NHS number has 10 digits, like 943 476 5919."
POSTCODE_MESSAGE = "Enter a real UK postcode, like LS2 9JT."
ODS_MESSAGE = "Enter an ODS code of 3 to 6 capital letters and digits, like RW4 or P84001."


def _message(excinfo) -> str:
    (message,) = excinfo.value.messages
    return message


# NHS numbers


@pytest.mark.parametrize("value", ["9434765919", "9990000018", "4010232137"])
def test_valid_nhs_number_passes(value):
    validate_nhs_number(value)


@pytest.mark.parametrize("value", ["943 476 5919", "943-476-5919", " 9434765919 "])
def test_nhs_number_with_spaces_or_dashes_passes(value):
    validate_nhs_number(value)


def test_nhs_number_normalises_to_ten_digits():
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"
    assert normalise_nhs_number("") == ""


def test_blank_nhs_number_is_allowed():
    validate_nhs_number("")


@pytest.mark.parametrize("value", ["9434765918", "9434765910", "943 476 5911"])
def test_nhs_number_with_wrong_check_digit_is_refused(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_nhs_number(value)
    assert _message(excinfo) == CHECK_DIGIT_MESSAGE
    assert excinfo.value.code == "invalid_nhs_number"


def test_nhs_number_whose_check_digit_would_be_ten_is_refused_whatever_its_last_digit():
    # 000000006: the weighted sum is 6 x 2 = 12, remainder 1, check digit 11 - 1 = 10,
    # which no single digit can be, so no number starting like this is valid.
    for last in range(10):
        with pytest.raises(ValidationError) as excinfo:
            validate_nhs_number(f"000000006{last}")
        assert _message(excinfo) == CHECK_DIGIT_MESSAGE


@pytest.mark.parametrize("value", ["943476591", "94347659190", "12345", "94347659AB", "NHS"])
def test_nhs_number_of_wrong_length_or_not_digits_is_refused(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_nhs_number(value)
    assert _message(excinfo) == LENGTH_MESSAGE


# Postcodes


@pytest.mark.parametrize(
    "value",
    [
        "M1 1AE",  # A9 9AA
        "B33 8TH",  # A99 9AA
        "CR2 6XH",  # AA9 9AA
        "DN55 1PT",  # AA99 9AA
        "W1A 0AX",  # A9A 9AA
        "EC1A 1BB",  # AA9A 9AA
        "LS2 9JT",
        "GIR 0AA",
    ],
)
def test_valid_postcode_forms_pass(value):
    validate_postcode(value)


@pytest.mark.parametrize("value", ["ls2 9jt", "LS29JT", " ls2  9jt ", "ec1a1bb"])
def test_postcode_in_any_case_or_spacing_passes(value):
    validate_postcode(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ls29jt", "LS2 9JT"), (" ec1a  1bb", "EC1A 1BB"), ("M11AE", "M1 1AE"), ("", "")],
)
def test_postcode_normalises_to_royal_mail_form(value, expected):
    assert normalise_postcode(value) == expected


def test_blank_postcode_is_allowed():
    validate_postcode("")


@pytest.mark.parametrize(
    "value",
    [
        "LS2",  # outward code only
        "LS2 9J",  # inward code too short
        "LS2 9JTT",  # inward code too long
        "12345",  # a US ZIP code
        "L$2 9JT",  # punctuation
        "LS2 9CI",  # C and I are never used in the inward code
        "LSS2 9JT",  # three area letters
        "2LS 9JT",  # starts with a digit
        "LS2 AJT",  # inward code starts with a letter
    ],
)
def test_malformed_postcode_is_refused(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_postcode(value)
    assert _message(excinfo) == POSTCODE_MESSAGE
    assert excinfo.value.code == "invalid_postcode"


# ODS codes


@pytest.mark.parametrize("value", ["RW4", "RXV", "RX4", "P84001", "8HK49", "Y0211"])
def test_valid_ods_code_passes(value):
    validate_ods_code(value)


def test_blank_ods_code_is_allowed():
    validate_ods_code("")


@pytest.mark.parametrize("value", ["R4", "P840011", "rw4", "RW-4", "RW 4", "P8400!"])
def test_malformed_ods_code_is_refused(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_ods_code(value)
    assert _message(excinfo) == ODS_MESSAGE
    assert excinfo.value.code == "invalid_ods_code"
