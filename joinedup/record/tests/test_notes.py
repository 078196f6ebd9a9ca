"""Clinical notes: written as drafts only their author sees, signed by the author and locked,
corrected by signed addenda; refused in words, nothing half saved."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from conftest import make_staff
from joinedup.audit.models import AuditEvent
from joinedup.conftest import typed
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import close_care_relationship, open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.people.models import Role
from joinedup.record.models import RecordEntry
from joinedup.record.services import add_addendum, edit_note, sign_note
from joinedup.record.tests.factories import (
    draft_note,
    note_template,
    signed_addendum,
    signed_note,
)
from joinedup.record.tests.test_record_page import record_page, section


@pytest.fixture
def colleague(hub):
    """A second practitioner of Wellbeing."""
    return make_staff("pat@nb.ac.uk", Role.PRACTITIONER, hub.university, service=hub.wellbeing)


def note_url(note, action=""):
    return reverse(f"record:note-{action or 'detail'}", args=[note.uuid])


def note_form(body="Talked about sleep.", *, kind="session", at=None, action="save"):
    return {"contact_kind": kind, "contact_at": typed(at or timezone.now()), "body": body,
            "action": action}  # fmt: skip


def test_a_note_is_written_as_a_draft_that_only_its_author_sees(hub, client, colleague):
    client.force_login(hub.practitioner)
    response = client.post(
        reverse("record:note-create", args=[hub.student.uuid]),
        note_form("Worked on a sleep routine."),
    )

    note = RecordEntry.with_drafts.get()
    assert response["Location"] == note_url(note)
    assert (note.is_draft, note.category, note.kind, note.service) == (
        True, "notes", "note", hub.wellbeing
    )  # fmt: skip
    assert client.get(note_url(note)).status_code == 200
    assert not RecordEntry.objects.exists()  # the default manager never finds a draft
    client.force_login(colleague)
    assert client.get(note_url(note)).status_code == 404
    contacts = client.get(reverse("record:contact-log", args=[hub.student.uuid]))
    assert "Worked on a sleep routine." not in contacts.text
    assert "Worked on a sleep routine." not in record_page(client, colleague, hub.student)
    assert "Worked on a sleep routine." not in record_page(client, hub.student_user, hub.student)


def test_the_author_signs_and_the_note_is_locked(hub, client):
    note = draft_note(hub.practitioner, hub.student)
    client.force_login(hub.practitioner)

    response = client.post(note_url(note, "edit"), note_form("Agreed a plan.", action="sign"))

    note.refresh_from_db()
    assert response.status_code == 302
    assert (note.is_draft, note.signed_by, note.body) == (False, hub.practitioner, "Agreed a plan.")
    actions = AuditEvent.objects.filter(actor=hub.practitioner).values_list("action", flat=True)
    assert {"record.note.drafted", "record.note.edited", "record.note.signed"} <= set(actions)


def test_only_the_author_signs(hub, colleague):
    note = draft_note(hub.practitioner, hub.student)

    with pytest.raises(ValidationError, match="Only the author of a note can sign it"):
        sign_note(actor=colleague, note=note)

    note.refresh_from_db()
    assert note.is_draft


def test_the_database_refuses_a_note_signed_by_anyone_but_its_author(hub, colleague):
    note = draft_note(hub.practitioner, hub.student)
    note.is_draft, note.signed_at, note.signed_by = False, timezone.now(), colleague

    with pytest.raises(IntegrityError), transaction.atomic():
        note.save()


def test_editing_a_signed_note_is_refused_in_words_and_changes_nothing(hub, client):
    note = signed_note(hub.practitioner, hub.student, "Seen for 50 minutes.")
    client.force_login(hub.practitioner)

    response = client.post(note_url(note, "edit"), note_form("Seen for 30 minutes."))

    assert response.status_code == 200
    html = response.text
    refusal = re.search(r'id="id_body_error">.*?</span>(.*?)</span>', html, re.S).group(1)
    assert "is locked: nothing was changed. To correct it, add an addendum." in refusal
    # What was typed is offered as an addendum, next to the refusal.
    assert "Seen for 30 minutes.</textarea>" in html
    assert f'action="{reverse("record:addendum-create", args=[note.uuid])}"' in html
    note.refresh_from_db()
    assert note.body == "Seen for 50 minutes."
    refused = AuditEvent.objects.get(action="record.note.edit_refused")
    assert (refused.allowed, refused.actor) == (False, hub.practitioner)


def test_a_signed_note_is_refused_in_words_whatever_the_form_holds(hub, client):
    note = signed_note(hub.practitioner, hub.student, "Seen for 50 minutes.")
    client.force_login(hub.practitioner)

    response = client.post(note_url(note, "edit"), {"body": "Only the text."})

    assert "is locked: nothing was changed." in response.text
    note.refresh_from_db()
    assert note.body == "Seen for 50 minutes."


def test_the_service_refuses_to_change_a_signed_note(hub):
    note = signed_note(hub.practitioner, hub.student, "Seen for 50 minutes.")

    with pytest.raises(ValidationError) as refused:
        edit_note(actor=hub.practitioner, note=note, contact_kind="session",
                  contact_at=note.contact_at, body="Rewritten.")  # fmt: skip

    assert "is locked" in refused.value.message_dict["body"][0]
    note.refresh_from_db()
    assert note.body == "Seen for 50 minutes."


def test_an_empty_note_is_refused_next_to_its_text_and_nothing_is_saved(hub, client):
    client.force_login(hub.practitioner)

    response = client.post(reverse("record:note-create", args=[hub.student.uuid]), note_form("   "))

    assert response.status_code == 200
    assert re.search(r'id="id_body_error">.*Write the note: it cannot be empty.', response.text)
    assert not RecordEntry.with_drafts.exists()


def test_a_contact_in_the_future_is_refused_next_to_its_time(hub, client):
    client.force_login(hub.practitioner)

    tomorrow = timezone.now() + dt.timedelta(days=1)
    response = client.post(
        reverse("record:note-create", args=[hub.student.uuid]), note_form(at=tomorrow)
    )

    assert re.search(r'id="id_contact_at_error">.*cannot be in the future', response.text)
    assert not RecordEntry.with_drafts.exists()


def test_a_note_starts_from_one_of_the_services_templates(hub, client):
    template = note_template(hub.wellbeing, "Initial session", "Presenting difficulty:")
    other = note_template(hub.counselling, "Counselling intake", "Counselling only:")
    client.force_login(hub.practitioner)
    url = reverse("record:note-create", args=[hub.student.uuid])

    page = client.get(url, {"template": template.uuid}).text
    assert "Presenting difficulty:</textarea>" in page
    # Choosing a template reloads the page: the writer is told before they type.
    assert "what is typed below is not kept" in page
    assert "Counselling intake" not in page
    assert "Counselling only:" not in client.get(url, {"template": other.uuid}).text

    client.post(url, note_form("Presenting difficulty: exam stress.") | {
        "template": template.uuid})  # fmt: skip
    assert RecordEntry.with_drafts.get().title == "Initial session"


def test_an_addendum_is_a_signed_entry_of_its_own_and_the_note_never_changes(hub, client):
    note = signed_note(hub.practitioner, hub.student, "Seen in person.")
    client.force_login(hub.practitioner)

    response = client.post(
        reverse("record:addendum-create", args=[note.uuid]),
        {"body": "Correction: the session was by video.", "action": "sign"},
    )

    addendum = RecordEntry.objects.get(kind="addendum")
    assert response["Location"] == note_url(addendum)
    assert (addendum.amends, addendum.signed_by, addendum.category) == (
        note, hub.practitioner, "notes"
    )  # fmt: skip
    note.refresh_from_db()
    assert (note.body, note.is_signed) == ("Seen in person.", True)
    page = client.get(note_url(note)).text
    assert "Correction: the session was by video." in page
    assert "Seen in person." in page


def test_a_colleague_may_add_an_addendum_and_only_they_sign_it(hub, colleague):
    note = signed_note(hub.practitioner, hub.student)

    addendum = add_addendum(actor=colleague, note=note, body="Phoned the GP afterwards.")

    with pytest.raises(ValidationError, match="Only the author"):
        sign_note(actor=hub.practitioner, note=addendum)
    assert sign_note(actor=colleague, note=addendum).signed_by == colleague


def test_an_addendum_to_a_draft_or_to_an_addendum_is_refused(hub):
    draft = draft_note(hub.practitioner, hub.student)
    with pytest.raises(ValidationError, match="still a draft"):
        add_addendum(actor=hub.practitioner, note=draft, body="More.")
    addendum = signed_addendum(hub.practitioner, signed_note(hub.practitioner, hub.student))
    with pytest.raises(ValidationError, match="Add the addendum to the note itself"):
        add_addendum(actor=hub.practitioner, note=addendum, body="More.")


def test_another_services_notes_stay_unseen_even_with_the_students_consent(hub, client):
    note = signed_note(hub.practitioner, hub.student, "Wellbeing's own words.")
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    give_consent(hub, "notes", hub.counselling)

    client.force_login(hub.counsellor)

    assert client.get(note_url(note)).status_code == 404
    response = client.post(reverse("record:addendum-create", args=[note.uuid]), {"body": "x"})
    assert response.status_code == 404
    notes = section(record_page(client, hub.counsellor, hub.student), "notes")
    assert "Wellbeing&#x27;s own words." not in notes
    assert "Notes: held by Wellbeing — not shared with you." in notes
    assert "Notes stay with the service that wrote them." in notes


def test_the_student_sees_signed_notes_on_their_record_but_never_a_draft(hub, client):
    signed_note(hub.practitioner, hub.student, "Signed words.")
    draft_note(hub.practitioner, hub.student, "Draft words.")

    notes = section(record_page(client, hub.student_user, hub.student), "notes")

    assert "Signed words." in notes
    assert "Draft words." not in notes


def test_a_service_that_no_longer_works_with_the_student_reads_its_notes_and_writes_no_more(
    hub, client
):
    note = signed_note(hub.practitioner, hub.student, "Before the episode ended.")
    for relationship in CareRelationship.objects.filter(service=hub.wellbeing):
        close_care_relationship(relationship=relationship, because="episode_ended")
    client.force_login(hub.practitioner)

    page = client.get(note_url(note))
    assert "Before the episode ended." in page.text
    assert "Add an addendum" not in page.text
    create = client.get(reverse("record:note-create", args=[hub.student.uuid]))
    assert "is not working with the student now" in create.text
    client.post(reverse("record:note-create", args=[hub.student.uuid]), note_form())
    client.post(reverse("record:addendum-create", args=[note.uuid]), {"body": "Late entry."})
    assert RecordEntry.with_drafts.count() == 1


@pytest.mark.parametrize("user", ["outsider", "crisis_practitioner"])
def test_someone_without_a_basis_gets_404_on_every_notes_page(hub, client, user):
    note = signed_note(hub.practitioner, hub.student)
    draft = draft_note(hub.practitioner, hub.student)
    client.force_login(getattr(hub, user))

    for method, url in [
        ("get", reverse("record:note-create", args=[hub.student.uuid])),
        ("post", reverse("record:note-create", args=[hub.student.uuid])),
        ("get", reverse("record:contact-log", args=[hub.student.uuid])),
        ("get", note_url(note)),
        ("get", note_url(draft)),
        ("post", note_url(draft, "edit")),
        ("post", reverse("record:addendum-create", args=[note.uuid])),
    ]:
        assert getattr(client, method)(url).status_code == 404, url
    assert RecordEntry.with_drafts.count() == 2
