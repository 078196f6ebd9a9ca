"""The demo's story student has signed notes, a corrected one, and a letter to their GP."""

import pytest

from joinedup.record.demo import LETTER_TEMPLATES, build_demo_hub
from joinedup.record.models import RecordEntry
from joinedup.record.rules import FIELDS_BY_NAME, merge_letter


def test_the_story_student_has_signed_notes_an_addendum_and_a_letter(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub(students_per_university=3)

    entries = RecordEntry.objects.filter(student__student_number="N2499999")
    notes = entries.filter(kind="note")
    assert notes.count() == 4
    assert all(note.signed_by_id == note.author_id for note in notes)
    assert entries.get(kind="addendum").amends in notes
    letter = entries.get(kind="letter")
    assert letter.letter.kind == "gp"
    with letter.attachment.file.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_demo_gp_letter_identifies_a_student_without_an_nhs_number():
    # The GP matches the letter to the patient by legal name and date of birth when there
    # is no NHS number to quote: only the number's own line is left out.
    gp = next(body for kind, _name, body in LETTER_TEMPLATES if kind == "gp")
    values = {field: f"<{field}>" for field in FIELDS_BY_NAME} | {"nhs_number": ""}

    merged = merge_letter(gp, values, readable=set(FIELDS_BY_NAME))

    text = "\n".join(merged.paragraphs)
    assert "Re: <legal_name>, born <date_of_birth>" in text
    assert "NHS number" not in text


def test_the_demo_is_never_loaded_beside_real_accounts(db):
    from django.core.management import CommandError, call_command

    from joinedup.people.models import User

    User.objects.create_user("real.person@northbridge.ac.uk", "a long real password 42")
    for command, args in (("demo", ()), ("seed", ("--students", "5"))):
        with pytest.raises(CommandError, match="holds 1 account that is not the demo hub's"):
            call_command(command, *args, verbosity=0)
    assert list(User.objects.values_list("email", flat=True)) == ["real.person@northbridge.ac.uk"]
