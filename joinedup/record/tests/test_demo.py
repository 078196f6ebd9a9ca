"""The demo's story student has signed notes, a corrected one, and a letter to their GP."""

from joinedup.record.demo import build_demo_hub
from joinedup.record.models import RecordEntry


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
