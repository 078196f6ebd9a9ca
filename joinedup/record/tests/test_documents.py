"""Documents on the record: PDFs and images only, checked by content, kept through Django's
storage, read only through the policy and always as a download."""

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.models import Attachment, RecordEntry
from joinedup.record.tests.factories import PDF, PNG, uploaded

HTML = b"<!DOCTYPE html><html><body><script>alert('hi')</script></body></html>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, hub, content=PDF, name="letter.pdf", **fields):
    data = {"file": SimpleUploadedFile(name, content), "title": "GP referral letter",
            "category": "assessment"} | fields  # fmt: skip
    return client.post(reverse("record:documents", args=[hub.student.uuid]), data)


def download(client, entry):
    """The response, its file read to the end (`body`), which closes it."""
    response = client.get(reverse("record:entry-file", args=[entry.uuid]))
    if response.streaming:
        response.body = b"".join(response.streaming_content)
    return response


def test_a_pdf_is_uploaded_kept_in_storage_and_downloaded_as_an_attachment(hub, client, media):
    client.force_login(hub.practitioner)

    response = upload(client, hub)

    assert response["Location"] == reverse("record:documents", args=[hub.student.uuid])
    entry = RecordEntry.objects.get(kind="document")
    assert (entry.category, entry.service, entry.title) == (
        "assessment", hub.wellbeing, "GP referral letter"
    )  # fmt: skip
    stored = entry.attachment.file.name
    assert default_storage.exists(stored)
    assert (media / stored).read_bytes() == PDF
    assert "letter" not in stored  # kept under the entry's id, never the uploaded name
    got = download(client, entry)
    assert got["Content-Type"] == "application/pdf"
    assert got["Content-Disposition"] == 'attachment; filename="letter.pdf"'
    assert got.body == PDF
    read = AuditEvent.objects.filter(action="record.file.read", category="assessment").get()
    assert (read.allowed, read.actor) == (True, hub.practitioner)


def test_the_type_comes_from_the_content_not_the_name(hub, client):
    client.force_login(hub.practitioner)

    upload(client, hub, PNG, name="photo-of-letter.pdf")

    attachment = Attachment.objects.get()
    assert (attachment.content_type, attachment.name) == ("image/png", "photo-of-letter.png")


def test_a_pdf_that_is_really_html_is_refused_next_to_the_field_and_nothing_is_kept(
    hub, client, media
):
    client.force_login(hub.practitioner)

    response = upload(client, hub, HTML, name="discharge.pdf")

    assert response.status_code == 200
    assert re.search(r'id="id_file_error">.*is not a PDF or an image', response.text, re.S)
    assert not RecordEntry.objects.exists()
    assert not list(media.rglob("*.*"))


def test_an_oversize_upload_is_refused_next_to_the_field(hub, client, settings, media):
    settings.DOCUMENT_MAX_BYTES = 40
    client.force_login(hub.practitioner)

    response = upload(client, hub, PDF + bytes(100))

    assert re.search(r'id="id_file_error">.*a document can be at most 40', response.text, re.S)
    assert not RecordEntry.objects.exists()
    assert not list(media.rglob("*.*"))


def test_a_document_is_read_as_the_category_it_is_filed_in_allows(hub, client):
    entry = uploaded(hub.practitioner, hub.student, category="assessment")
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    client.force_login(hub.counsellor)

    assert download(client, entry).status_code == 404
    page = client.get(reverse("record:documents", args=[hub.student.uuid])).text
    assert "Documents: held by Wellbeing — not shared with you." in page
    assert entry.title not in page

    give_consent(hub, "assessment", hub.counselling)

    assert download(client, entry).status_code == 200
    assert entry.title in client.get(reverse("record:documents", args=[hub.student.uuid])).text


def test_a_document_in_the_notes_or_private_never_leaves_its_service(hub, client):
    notes = uploaded(hub.practitioner, hub.student, category="notes")
    private = uploaded(hub.practitioner, hub.student, category="assessment", private=True)
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    give_consent(hub, "notes", hub.counselling)
    give_consent(hub, "assessment", hub.counselling)
    client.force_login(hub.counsellor)

    assert download(client, notes).status_code == 404
    assert download(client, private).status_code == 404


def test_the_student_downloads_a_document_on_their_record(hub, client):
    entry = uploaded(hub.practitioner, hub.student, category="assessment")
    client.force_login(hub.student_user)

    assert download(client, entry).status_code == 200


@pytest.mark.parametrize("user", ["outsider", "academic", "crisis_practitioner"])
def test_someone_without_a_basis_gets_404_for_a_document(hub, client, user):
    entry = uploaded(hub.practitioner, hub.student, category="notes")
    client.force_login(getattr(hub, user))

    assert download(client, entry).status_code == 404


def test_someone_without_a_basis_cannot_list_or_upload(hub, client):
    client.force_login(hub.outsider)

    assert client.get(reverse("record:documents", args=[hub.student.uuid])).status_code == 404
    assert upload(client, hub).status_code == 404
    assert not RecordEntry.objects.exists()
