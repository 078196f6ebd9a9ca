"""The rules of clinical notes: drafts, sign and lock, addenda, who sees a draft. No database."""

import datetime as dt

import pytest

from joinedup.record.rules import (
    NoteState,
    addendum_refusal,
    draft_visible_to,
    edit_refusal,
    note_problems,
    sign_refusal,
)

AUTHOR, COLLEAGUE = 1, 2
WELLBEING, COUNSELLING = 10, 11
NOW = dt.datetime(2026, 3, 5, 14, 0, tzinfo=dt.UTC)
DRAFT = NoteState(kind="note", author_id=AUTHOR, service_id=WELLBEING, is_draft=True)
SIGNED = NoteState(
    kind="note", author_id=AUTHOR, service_id=WELLBEING, is_draft=False,
    signed_at=dt.datetime(2026, 3, 5, 10, 30, tzinfo=dt.UTC), signed_by="Priya Shah",
)  # fmt: skip
SIGNED_ADDENDUM = NoteState(
    kind="addendum", author_id=COLLEAGUE, service_id=WELLBEING, is_draft=False,
    signed_at=NOW, signed_by="Colin Reid",
)  # fmt: skip


def test_the_author_changes_their_draft():
    assert edit_refusal(DRAFT, AUTHOR) is None


def test_a_colleague_cannot_change_someone_elses_draft():
    assert edit_refusal(DRAFT, COLLEAGUE) == "Only the author of a draft can change it."


@pytest.mark.parametrize("actor", [AUTHOR, COLLEAGUE])
def test_a_signed_note_is_locked_and_the_refusal_says_who_signed_when_and_what_to_do(actor):
    refusal = edit_refusal(SIGNED, actor)

    assert refusal == (
        "This note was signed by Priya Shah on 5 Mar 2026 10:30 and is locked: nothing was "
        "changed. To correct it, add an addendum."
    )


def test_only_the_author_signs_a_draft():
    assert sign_refusal(DRAFT, AUTHOR) is None
    assert sign_refusal(DRAFT, COLLEAGUE) == "Only the author of a note can sign it."


def test_a_note_is_signed_once():
    assert sign_refusal(SIGNED, AUTHOR) == (
        "This note is already signed by Priya Shah on 5 Mar 2026 10:30."
    )


def test_an_addendum_corrects_a_signed_note_of_the_writers_own_service():
    assert addendum_refusal(SIGNED, [WELLBEING]) is None
    assert addendum_refusal(SIGNED, [COUNSELLING, WELLBEING]) is None


def test_a_draft_is_changed_not_amended():
    assert addendum_refusal(DRAFT, [WELLBEING]) == (
        "The note is still a draft: change it, or sign it first."
    )


def test_another_service_cannot_add_to_a_note():
    assert addendum_refusal(SIGNED, [COUNSELLING]) == (
        "Only the service that wrote a note can add to it."
    )


def test_an_addendum_goes_on_the_note_not_on_another_addendum():
    assert addendum_refusal(SIGNED_ADDENDUM, [WELLBEING]) == "Add the addendum to the note itself."


def test_a_draft_is_seen_by_its_author_alone_and_never_by_the_student():
    assert draft_visible_to(AUTHOR, AUTHOR, reader_is_student=False)
    assert not draft_visible_to(AUTHOR, COLLEAGUE, reader_is_student=False)
    assert not draft_visible_to(AUTHOR, None, reader_is_student=False)
    assert not draft_visible_to(AUTHOR, AUTHOR, reader_is_student=True)


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n"])
def test_an_empty_note_is_refused_next_to_its_text(body):
    assert note_problems(body, NOW, NOW) == {"body": "Write the note: it cannot be empty."}


def test_a_note_needs_the_time_of_its_contact_and_it_is_not_in_the_future():
    assert note_problems("Seen.", None, NOW) == {"contact_at": "Enter when the contact took place."}
    later = NOW + dt.timedelta(hours=1)
    assert note_problems("Seen.", later, NOW) == {
        "contact_at": "The contact cannot be in the future."
    }
    # A clock a minute or two ahead of the server's is not the future.
    assert note_problems("Seen.", NOW + dt.timedelta(minutes=2), NOW) == {}


def test_an_addendum_has_no_contact_of_its_own():
    assert note_problems("Correction: the date was Tuesday.", None, NOW, needs_contact=False) == {}
