"""Letters from a service's templates: merged with only what the writer may read, previewed,
sent as a PDF kept on the record."""

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import close_care_relationship
from joinedup.people.models import Organisation
from joinedup.record.models import Letter, RecordEntry
from joinedup.record.selectors import merge_letter_for
from joinedup.record.services import send_letter
from joinedup.record.tests.factories import letter_template

RECIPIENT = "Dr Rivers\nRiverside Surgery\n1 River Road\nNorthbridge NB1 1AA"


@pytest.fixture
def registered(hub):
    """The student's NHS number and GP practice are on record."""
    student = hub.student
    student.nhs_number = "9434765919"
    student.gp_practice = Organisation.objects.create(name="Riverside Surgery",
                                                      kind="gp_practice")  # fmt: skip
    student.save()
    return student


def letter_form(template, action="preview", **fields):
    return {"template": template.uuid, "recipient": RECIPIENT,
            "message": "Sleep has improved.", "action": action} | fields  # fmt: skip


def pdf_text(entry) -> str:
    with entry.attachment.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def test_the_preview_shows_the_letter_merged_with_the_record(hub, client, registered):
    template = letter_template(hub.wellbeing)
    client.force_login(hub.practitioner)

    response = client.post(reverse("record:letter-create", args=[hub.student.uuid]),
                           letter_form(template))  # fmt: skip

    html = response.text
    assert "Dear colleagues at Riverside Surgery," in html
    assert "Re: Alex StudentNB1000001, born 17 May 2004, NHS number 943 476 5919" in html
    assert "Sleep has improved." in html
    assert "Send the letter" in html
    assert not RecordEntry.objects.exists()  # a preview sends nothing


def test_sending_keeps_the_pdf_on_the_record_saying_who_when_and_to_whom(hub, client, registered):
    template = letter_template(hub.wellbeing)
    client.force_login(hub.practitioner)
    url = reverse("record:letter-create", args=[hub.student.uuid])
    preview = client.post(url, letter_form(template)).text
    previewed = re.search(r'name="previewed" value="(\w+)"', preview).group(1)

    response = client.post(url, letter_form(template, "send", previewed=previewed))

    assert response["Location"] == reverse("record:letters", args=[hub.student.uuid])
    entry = RecordEntry.objects.get(kind="letter")
    assert (entry.author, entry.service, entry.category) == (
        hub.practitioner, hub.wellbeing, "notes"
    )  # fmt: skip
    assert (entry.letter.recipient, entry.letter.kind) == (RECIPIENT, "gp")
    assert entry.attachment.content_type == "application/pdf"
    text = pdf_text(entry)
    assert "Dear colleagues at Riverside Surgery," in text
    assert "943 476 5919" in text
    assert "Dr Rivers" in text
    letters = client.get(reverse("record:letters", args=[hub.student.uuid])).text
    assert "GP letter" in letters
    assert "Riverside Surgery" in letters
    assert AuditEvent.objects.filter(action="record.letter.sent", actor=hub.practitioner).exists()


def test_a_field_not_recorded_is_left_out_and_the_letter_says_so(hub, client):
    template = letter_template(hub.wellbeing)  # the student has no NHS number or GP on record
    client.force_login(hub.practitioner)

    html = client.post(reverse("record:letter-create", args=[hub.student.uuid]),
                       letter_form(template)).text  # fmt: skip

    assert "NHS number" not in re.search(r"data-letter>(.*?)</div>", html, re.S).group(1)
    assert "NHS number: not recorded" in html
    assert "GP practice: not recorded" in html


def test_a_letter_merged_for_a_service_that_no_longer_works_with_the_student_leaves_out_what_it_may_not_read(  # noqa: E501
    hub, registered
):
    template = letter_template(hub.wellbeing)
    for relationship in CareRelationship.objects.filter(service=hub.wellbeing):
        close_care_relationship(relationship=relationship, because="episode_ended")

    merged = merge_letter_for(hub.practitioner, registered, hub.wellbeing, template, "Hello.")

    # Names only: no date of birth, NHS number or GP practice; the lines naming them go.
    assert "9434765919" not in merged.text
    assert "943 476 5919" not in merged.text
    assert "Riverside Surgery" not in merged.text
    assert "17 May 2004" not in merged.text
    assert {(o.label, o.why) for o in merged.left_out} >= {
        ("NHS number", "not shared with you"),
        ("GP practice", "not shared with you"),
        ("Date of birth", "not shared with you"),
    }
    with pytest.raises(ValidationError, match="not working with the student now"):
        send_letter(actor=hub.practitioner, student=registered, template=template,
                    recipient=RECIPIENT)  # fmt: skip


def test_a_letter_that_changed_since_its_preview_is_not_sent(hub, client, registered):
    template = letter_template(hub.wellbeing)
    client.force_login(hub.practitioner)
    url = reverse("record:letter-create", args=[hub.student.uuid])
    preview = client.post(url, letter_form(template)).text
    previewed = re.search(r'name="previewed" value="(\w+)"', preview).group(1)
    registered.nhs_number = "4010232137"
    registered.save()

    response = client.post(url, letter_form(template, "send", previewed=previewed))

    assert response.status_code == 200
    assert "The letter has changed since you previewed it" in response.text
    assert "401 023 2137" in response.text  # the new preview, to check again
    assert not RecordEntry.objects.exists()


def test_another_services_template_cannot_be_used(hub, client):
    letter_template(hub.wellbeing)
    theirs = letter_template(hub.counselling)
    client.force_login(hub.practitioner)

    response = client.post(reverse("record:letter-create", args=[hub.student.uuid]),
                           letter_form(theirs, "send"))  # fmt: skip

    assert "Choose one of your service&#x27;s letters." in response.text
    assert not Letter.objects.exists()


def test_the_recipient_is_needed(hub, client):
    template = letter_template(hub.wellbeing)
    client.force_login(hub.practitioner)

    response = client.post(reverse("record:letter-create", args=[hub.student.uuid]),
                           letter_form(template, recipient="  "))  # fmt: skip

    assert re.search(r'id="id_recipient_error">.*Say who the letter is to', response.text, re.S)


def test_the_next_appointment_is_merged_from_the_services_own_appointments(hub, registered):
    from joinedup.referrals.models import Appointment
    from joinedup.referrals.services import open_episode

    episode = open_episode(actor=hub.practitioner, student=registered, service=hub.wellbeing)
    when = timezone.localtime(timezone.now() + dt.timedelta(days=7)).replace(
        hour=14, minute=30, second=0, microsecond=0
    )
    Appointment.objects.create(episode=episode, starts_at=when, kind="treatment",
                               recorded_by=hub.practitioner)  # fmt: skip
    body = "Your next appointment is on {{ next_appointment }}."
    template = letter_template(hub.wellbeing, kind="appointment", body=body)

    merged = merge_letter_for(hub.practitioner, registered, hub.wellbeing, template, "")

    assert merged.paragraphs == (f"Your next appointment is on {when:%A %-d %B %Y} at 14:30.",)


def test_someone_without_a_basis_gets_404_on_the_letter_pages(hub, client):
    template = letter_template(hub.wellbeing)
    client.force_login(hub.outsider)

    for method, url, data in [
        ("get", reverse("record:letters", args=[hub.student.uuid]), {}),
        ("get", reverse("record:letter-create", args=[hub.student.uuid]), {}),
        ("post", reverse("record:letter-create", args=[hub.student.uuid]),
         letter_form(template, "send")),
    ]:  # fmt: skip
        assert getattr(client, method)(url, data).status_code == 404
    assert not RecordEntry.objects.exists()
