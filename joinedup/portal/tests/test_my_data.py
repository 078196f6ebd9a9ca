"""Subject access: the student downloads everything held about them that they may see."""

import io
import json

from django.urls import reverse
from pypdf import PdfReader

from joinedup.audit.models import AuditEvent
from joinedup.measures.tests.factories import record, start_episode
from joinedup.record.tests.factories import write_entry


def test_the_download_holds_the_record_without_what_was_withheld(hub, client):
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, body="My story")
    write_entry(
        hub.student,
        "risk",
        hub.wellbeing,
        hub.practitioner,
        body="HELD BACK",
        withheld_reason="For safety.",
    )
    record(start_episode(hub), hub.practitioner)
    client.force_login(hub.student_user)
    response = client.get(reverse("portal:my-data"))
    assert response["Content-Disposition"] == 'attachment; filename="my-joinedup-record.json"'
    data = json.loads(response.content)
    assert [e["text"] for e in data["record"]] == ["My story"]
    assert data["questionnaires"][0]["measure"] == "PHQ-9"
    assert len(data["questionnaires"][0]["answers"]) == 9
    assert data["identity"]["student_number"] == "NB1000001"
    assert "HELD BACK" not in response.content.decode()
    assert AuditEvent.objects.filter(action="portal.data.downloaded").exists()


def test_the_pdf_is_readable_and_leaves_out_what_was_withheld(hub, client):
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, body="My story")
    write_entry(
        hub.student, "risk", hub.wellbeing, hub.practitioner, body="HELD BACK",
        withheld_reason="For safety.",
    )  # fmt: skip
    client.force_login(hub.student_user)
    response = client.get(reverse("portal:my-data-pdf"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-joinedup-record.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "My story" in text
    assert "NB1000001" in text
    assert "HELD BACK" not in text
    assert AuditEvent.objects.filter(action="portal.data.downloaded", reason="pdf").exists()


def test_the_fhir_bundle_is_valid_and_leaves_out_what_was_withheld(hub, client):
    from fhir.resources.R4B.bundle import Bundle

    hub.student.nhs_number = "9990000018"
    hub.student.save()
    record(start_episode(hub), hub.practitioner)
    client.force_login(hub.student_user)
    response = client.get(reverse("portal:my-data-fhir"))
    assert response["Content-Type"] == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(response.content))
    assert bundle.type == "collection"
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "QuestionnaireResponse", "Observation"} <= kinds
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    assert ("https://fhir.nhs.uk/Id/nhs-number", "9990000018") in {
        (i.system, i.value) for i in patient.identifier
    }
    assert AuditEvent.objects.filter(action="portal.data.downloaded", reason="fhir.json").exists()


def test_someone_elses_data_is_refused_in_words_and_the_attempt_audited(hub, client):
    client.force_login(hub.practitioner)
    for name in ("portal:my-data", "portal:my-data-pdf", "portal:my-data-fhir"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "You can download only your own record" in response.content.decode()
    refused = AuditEvent.objects.filter(action="portal.data.refused")
    assert refused.count() == 3
    assert {e.allowed for e in refused} == {False}


def test_the_download_holds_every_message_each_way(hub, client):
    from joinedup.messaging.models import Message

    thread = {"student": hub.student, "service": hub.wellbeing}
    Message.objects.create(
        **thread, from_student=True, author=hub.student_user, body="Can we talk about deadlines?"
    )
    Message.objects.create(
        **thread, from_student=False, author=hub.practitioner, body="Yes, on Thursday."
    )
    client.force_login(hub.student_user)
    data = json.loads(client.get(reverse("portal:my-data")).content)
    assert [(m["from_you"], m["by"], m["text"]) for m in data["messages"]] == [
        (True, "", "Can we talk about deadlines?"),
        (False, "Priya", "Yes, on Thursday."),
    ]
    pdf = client.get(reverse("portal:my-data-pdf")).content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "You to Wellbeing" in text
    assert "Priya, Wellbeing, to you" in text
    assert "Yes, on Thursday." in text


def test_the_safety_plan_downloads_whole_with_numbers_to_tap(hub, client):
    from joinedup.risk.services import save_safety_plan

    save_safety_plan(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
        warning_signs="Not sleeping", things_that_help="Walking the dog",
        people_and_places="My sister, 07700 900456", professional_contacts="Priya, Wellbeing",
        crisis_numbers="Samaritans 116 123", making_safer="Give the pills to my sister",
    )  # fmt: skip
    client.force_login(hub.student_user)
    response = client.get(reverse("portal:safety-plan-pdf"))
    assert response["Content-Disposition"] == 'attachment; filename="my-safety-plan.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    for part in ("Not sleeping", "Walking the dog", "My sister", "Priya, Wellbeing",
                 "Give the pills to my sister", "If you need help now"):  # fmt: skip
        assert part in text
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
    }
    assert {"tel:07700900456", "tel:116123", "tel:999", "tel:111"} <= links
    assert AuditEvent.objects.filter(
        action="portal.safety_plan.downloaded", category="risk", basis="self"
    ).exists()
    client.force_login(hub.practitioner)
    assert client.get(reverse("portal:safety-plan-pdf")).status_code == 403


def test_the_pdf_is_in_plain_words_and_holds_every_part(hub, client):
    import re

    from joinedup.consent.services import open_break_glass, record_consent
    from joinedup.people.tests.factories import plant_everything

    plant_everything(hub, hub.student, tag="planted")
    record_consent(
        actor=hub.practitioner, student=hub.student, category="risk", purpose="direct_care",
        how_given="in_person", recipient_service=hub.crisis,
    )  # fmt: skip
    open_break_glass(actor=hub.crisis_practitioner, student=hub.student,
                     reason="Risk to life: called by the ambulance service.")  # fmt: skip
    client.force_login(hub.crisis_practitioner)
    client.get(reverse("record:student-detail", args=[hub.student.uuid]))
    client.force_login(hub.student_user)
    pdf = client.get(reverse("portal:my-data-pdf")).content
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    for code in ("direct_care", "break_glass", "in_person", "in_treatment", "enrolled",
                 "None", "_"):  # fmt: skip
        assert code not in flat, code
    assert not re.search(r"\d{4}-\d{2}-\d{2}", flat), "an ISO date"
    for words in ("Notes about keeping you safe, with Crisis Team", "agreed in person",
                  "For direct care;", "Signs planted", "Return to study plan", "Support",
                  "Ready to return to study", "Emergency override: Risk to life: called by the "
                  "ambulance service.", "Hello planted"):  # fmt: skip
        assert words in flat, words
