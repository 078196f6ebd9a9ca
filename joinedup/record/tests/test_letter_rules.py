"""Letters merged with only what the writer may read; nothing false is said. No database."""

from joinedup.consent.rules import NAMES_ONLY, SUPPORTED_ONLY, Decision
from joinedup.record.rules import (
    MERGE_FIELDS,
    LeftOut,
    merge_letter,
    readable_fields,
    unknown_fields,
)

ALLOWED = Decision(True, "relationship", "In care.")
REFUSED = Decision(False, "none", "No consent.")
TEMPLATE = """Dear {{ gp_practice }},
Re: {{ name }}, born {{ date_of_birth }}, NHS number {{ nhs_number }}

{{ name }} has been seen by {{ service }} since {{ care_started }}.
{{ message }}
Yours sincerely,"""
VALUES = {
    "gp_practice": "Riverside Surgery",
    "name": "Alex Student",
    "date_of_birth": "17 May 2004",
    "nhs_number": "943 476 5919",
    "service": "Wellbeing",
    "care_started": "2 February 2026",
    "message": "Sleep has improved; we end at the next session.",
}


def every(decision: Decision) -> dict[str, Decision]:
    return dict.fromkeys(("identity", "registration", "engagement"), decision)


def test_a_template_with_every_field_readable_is_merged_line_by_line():
    merged = merge_letter(TEMPLATE, VALUES, readable_fields(every(ALLOWED)))

    assert merged.paragraphs == (
        "Dear Riverside Surgery,",
        "Re: Alex Student, born 17 May 2004, NHS number 943 476 5919",
        "Alex Student has been seen by Wellbeing since 2 February 2026.",
        "Sleep has improved; we end at the next session.",
        "Yours sincerely,",
    )
    assert merged.left_out == ()


def test_a_line_naming_a_field_the_writer_may_not_read_is_left_out_whole_and_said_so():
    decisions = every(ALLOWED) | {"registration": REFUSED}

    merged = merge_letter(TEMPLATE, VALUES, readable_fields(decisions))

    assert "Riverside Surgery" not in merged.text
    assert not any(p.startswith("Dear") for p in merged.paragraphs)
    assert merged.left_out == (LeftOut("GP practice", "not shared with you"),)


def test_a_refused_value_is_never_used_even_when_a_caller_passes_it():
    readable = readable_fields(every(ALLOWED) | {"identity": REFUSED})

    merged = merge_letter(TEMPLATE, VALUES, readable)

    for value in ("Alex Student", "17 May 2004", "943 476 5919"):
        assert value not in merged.text
    assert {o.label for o in merged.left_out} == {"Name", "Date of birth", "NHS number"}


def test_a_names_only_reading_gives_names_and_number_but_no_identifiers():
    names_only = Decision(True, "authored", "Worked with the student.", scope=NAMES_ONLY)

    readable = readable_fields(every(ALLOWED) | {"identity": names_only})

    assert {"name", "legal_name", "student_number"} <= readable
    assert not {"date_of_birth", "nhs_number", "email", "phone"} & readable


def test_knowing_only_that_a_student_is_supported_gives_no_appointments():
    supported = Decision(True, "consent", "Shared.", scope=SUPPORTED_ONLY)

    readable = readable_fields(every(ALLOWED) | {"engagement": supported})

    assert not {"next_appointment", "care_started"} & readable


def test_a_field_not_recorded_leaves_its_line_out_rather_than_saying_nothing():
    values = VALUES | {"nhs_number": ""}

    merged = merge_letter(TEMPLATE, values, readable_fields(every(ALLOWED)))

    assert "NHS number" not in merged.text
    assert LeftOut("NHS number", "not recorded") in merged.left_out


def test_an_unknown_field_is_named_in_the_template_check_and_left_out_of_a_letter():
    body = "Hello {{ name }}.\nYour shoe size is {{ shoe_size }}."

    assert unknown_fields(body) == ["shoe_size"]
    merged = merge_letter(body, VALUES, readable_fields(every(ALLOWED)))
    assert merged.paragraphs == ("Hello Alex Student.",)
    assert merged.left_out == (LeftOut("shoe_size", "not a field JoinedUp knows"),)


def test_a_value_is_merged_once_and_never_read_as_a_field():
    values = VALUES | {"message": "Please quote {{ nhs_number }} when you call."}

    merged = merge_letter("{{ message }}", values, readable_fields(every(REFUSED)))

    assert merged.paragraphs == ("Please quote {{ nhs_number }} when you call.",)


def test_every_field_has_a_label_and_a_known_category():
    assert len({f.name for f in MERGE_FIELDS}) == len(MERGE_FIELDS)
    assert {f.category for f in MERGE_FIELDS} == {None, "identity", "registration", "engagement"}
