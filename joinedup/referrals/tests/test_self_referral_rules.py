"""Rules of self-referral: who may refer themselves, what they are told, what triage may do."""

import pytest

from joinedup.referrals.selfreferral import rules
from joinedup.referrals.selfreferral.rules import Refusal


@pytest.mark.parametrize(
    ("accepts", "staff", "open_", "expected"),
    [
        (True, False, False, None),
        (False, False, False, Refusal.NOT_TAKEN),
        (False, True, True, Refusal.NOT_TAKEN),
        (True, True, False, Refusal.STAFF),
        (True, True, True, Refusal.STAFF),
        (True, False, True, Refusal.ALREADY_OPEN),
    ],
)
def test_refusal_says_why_a_person_may_not_refer_themselves(accepts, staff, open_, expected):
    assert rules.refusal(accepts_self=accepts, is_staff=staff, has_open_referral=open_) == expected


@pytest.mark.parametrize(
    ("email", "phone", "missing"),
    [("a@b.example", "", False), ("", "07700 900123", False), ("a@b.example", "0", False),
     ("", "", True), ("  ", " ", True)],
)  # fmt: skip
def test_contact_is_missing_only_without_an_email_and_a_phone(email, phone, missing):
    assert rules.contact_missing(email, phone) is missing


def test_a_student_number_is_stored_without_spaces_in_capitals():
    assert rules.student_number(" nb 123 4567 ") == "NB1234567"
    assert rules.student_number("   ") == ""


def test_the_number_triage_gives_wins_over_the_one_typed():
    assert rules.number_on_confirm("nb111", "nb 222") == "NB222"
    assert rules.number_on_confirm("nb111", "  ") == "NB111"
    assert rules.number_on_confirm("", "") == ""


@pytest.mark.parametrize(
    ("standard", "typical", "told"),
    [(42, 12, 12), (42, None, 42), (None, 5, 5), (None, None, None), (42, 0, 0)],
)
def test_the_wait_told_is_the_typical_wait_now_else_the_standard(standard, typical, told):
    assert rules.wait_to_tell(standard, typical) == told


@pytest.mark.parametrize(
    ("state", "pending", "may"),
    [("sent", True, True), ("sent", False, False), ("accepted", True, False),
     ("declined", True, False), ("withdrawn", True, False)],
)  # fmt: skip
def test_triage_confirms_or_rejects_only_a_pending_record_awaiting_a_decision(state, pending, may):
    assert rules.may_triage(state, pending) is may


def test_a_rejection_gives_only_a_reason_a_person_may_be_told():
    assert rules.may_reject_for("not_eligible")
    assert rules.may_reject_for("out_of_area")
    assert not rules.may_reject_for("higher")  # clinical: said by a clinician, not an email
    assert not rules.may_reject_for("")


def test_two_records_without_a_student_number_are_not_duplicates_by_number():
    import datetime as dt

    from joinedup.people.rules import Identity, Match, matches_between

    def person(number, key):
        return Identity(university_id=1, student_number=number, nhs_number="",
                        legal_given_name="A", legal_family_name=f"B{key}",
                        date_of_birth=dt.date(2000, 1, key), key=key)  # fmt: skip

    assert matches_between(person("", 1), person("", 2)) == frozenset()
    assert matches_between(person("nb1", 1), person("NB1", 2)) == {Match.STUDENT_NUMBER}
