"""A practitioner's working day with one student, in the browser: a session note from a
template, signed, an addendum; a GP letter previewed and sent; a PDF uploaded; the contact
log shows it all in order. Another service sees that notes are held, never what they say;
bad input is refused next to its field, on a phone."""

import pytest
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.people.models import Organisation
from joinedup.record.models import RecordEntry
from joinedup.record.services import sign_note
from joinedup.record.tests.factories import PDF, draft_note, letter_template, note_template

pytestmark = pytest.mark.browser

SESSION = "Low mood easing. Agreed a sleep routine and one deadline extension request."
ADDENDUM = "Correction: the session was by video, not in person."
MESSAGE = "Alex has attended four sessions; we would welcome a medication review."
RECIPIENT = "Dr Rivers\nRiverside Surgery\n1 River Road\nNorthbridge NB1 1AA"


@pytest.fixture
def day(hub, settings, tmp_path):
    """Wellbeing's templates, and a student whose NHS number and GP are on record."""
    settings.MEDIA_ROOT = tmp_path
    student = hub.student
    student.nhs_number = "9434765919"
    student.gp_practice = Organisation.objects.create(name="Riverside Surgery",
                                                      kind="gp_practice")  # fmt: skip
    student.save()
    note_template(hub.wellbeing, "Session note", "Presenting:\nWhat we did:\nPlan:")
    letter_template(hub.wellbeing)
    return hub


def record_nav(page):
    return page.get_by_role("navigation", name="This record")


def test_a_session_note_an_addendum_a_letter_and_a_document_in_the_contact_log(
    day, page, phone_page
):
    hub = day
    login(page, hub.practitioner)
    page.goto(f"/students/{hub.student.uuid}/")
    page.get_by_role("link", name="Write a note").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a note")
    assert_accessible(page)
    page.get_by_label("Start from a template").select_option(label="Session note")
    page.get_by_role("button", name="Use this template").click()
    expect(page.get_by_label("Note", exact=True)).to_have_value("Presenting:\nWhat we did:\nPlan:")
    expect(page.get_by_label("Kind of contact")).to_have_value("session")
    page.get_by_label("Note", exact=True).fill(SESSION)
    page.get_by_role("button", name="Save as a draft").click()

    expect(page.get_by_role("status")).to_have_text(
        "Saved as a draft: only you can see it until you sign it."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Session note")
    expect(page.locator("[data-draft]")).to_have_text("Draft")
    assert_accessible(page)
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_role("status")).to_have_text("Signed. It can no longer be changed.")
    expect(page.locator("[data-body]")).to_have_text(SESSION)
    expect(page.locator("[data-signed]")).to_contain_text("Signed by Priya on")
    assert_accessible(page)

    page.get_by_label("Addendum").fill(ADDENDUM)
    page.get_by_role("button", name="Sign and add").click()
    expect(page.get_by_role("status")).to_have_text("Signed. It can no longer be changed.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Addendum")
    assert_accessible(page)
    page.get_by_role("link", name="Session note").click()
    expect(page.locator("[data-addendum]")).to_contain_text(ADDENDUM)
    expect(page.locator("[data-body]")).to_have_text(SESSION)  # the note never changes

    record_nav(page).get_by_role("link", name="Letters").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Letters")
    assert_accessible(page)
    page.get_by_role("link", name="Write a letter").click()
    assert_accessible(page)
    page.get_by_label("Letter", exact=True).select_option(label="Letter to the GP")
    page.get_by_label("To", exact=True).fill(RECIPIENT)
    page.get_by_label("Your message").fill(MESSAGE)
    page.get_by_role("button", name="Preview the letter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the letter")
    letter = page.locator("[data-letter]")
    expect(letter).to_contain_text("Dear colleagues at Riverside Surgery,")
    expect(letter).to_contain_text("NHS number 943 476 5919")
    expect(letter).to_contain_text(MESSAGE)
    assert_accessible(page)
    page.get_by_role("button", name="Send the letter").click()
    expect(page.get_by_role("status")).to_have_text("Letter sent. Its PDF is kept on the record.")
    expect(page.locator("[data-letters]")).to_contain_text("GP letter")
    expect(page.locator("[data-letters]")).to_contain_text("Riverside Surgery")
    assert_accessible(page)

    record_nav(page).get_by_role("link", name="Documents").click()
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "gp-referral.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("What it is").fill("Referral letter from the GP")
    page.get_by_label("File it under").select_option(label="Assessment")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("Document added to the record.")
    expect(page.locator("[data-documents]")).to_contain_text("Referral letter from the GP")
    assert_accessible(page)
    # Fetched with the page's session rather than clicked: a download aborts the navigation.
    href = page.get_by_role("link", name="Referral letter from the GP").get_attribute("href")
    got = page.request.get(href)
    assert got.headers["content-disposition"] == 'attachment; filename="gp-referral.pdf"'
    assert (got.headers["content-type"], got.body()) == ("application/pdf", PDF)

    record_nav(page).get_by_role("link", name="Contact log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact log")
    rows = page.locator("[data-contact]")
    expect(rows).to_have_count(3)
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.contact)") == [
        "document", "letter", "note",
    ]  # fmt: skip
    expect(rows.nth(2)).to_contain_text("Note: Session")
    expect(rows.nth(2).locator("[data-addendum]")).to_contain_text("Signed by Priya")
    expect(rows.nth(1)).to_contain_text("Letter sent")
    expect(rows.nth(0)).to_contain_text("Referral letter from the GP")
    assert_accessible(page)

    # Counselling takes the student on; even with the student's consent to notes, notes
    # never leave Wellbeing: held, not absent.
    open_care_relationship(student=hub.student, service=hub.counselling, reason="referral")
    give_consent(hub, "notes", hub.counselling)
    login(phone_page, hub.counsellor)
    phone_page.goto(f"/students/{hub.student.uuid}/contacts/")
    expect(phone_page.locator("[data-withheld=notes]")).to_contain_text(
        "Notes: held by Wellbeing — not shared with you."
    )
    expect(phone_page.get_by_role("main")).not_to_contain_text(SESSION)
    expect(phone_page.locator("[data-contact]")).to_have_count(0)
    assert_accessible(phone_page)
    record_nav(phone_page).get_by_role("link", name="Record").click()
    notes = phone_page.get_by_role("region", name="Notes")
    expect(notes).to_contain_text("Notes: held by Wellbeing — not shared with you.")
    expect(notes).to_contain_text("Nothing recorded by your service.")  # and no more than that
    expect(phone_page.get_by_role("main")).not_to_contain_text(SESSION)
    expect(phone_page.get_by_role("main")).not_to_contain_text(MESSAGE)
    assert_accessible(phone_page)


def test_bad_input_is_refused_next_to_its_field_on_a_phone(day, phone_page, settings):
    hub = day
    login(phone_page, hub.practitioner)
    page = phone_page

    page.goto(f"/students/{hub.student.uuid}/notes/new/")
    page.get_by_label("Kind of contact").select_option(label="Phone call")
    page.get_by_role("button", name="Save as a draft").click()
    empty = "Error: Write the note: it cannot be empty."
    expect(page.locator("#id_body_error")).to_have_text(empty)
    expect(page.get_by_label("Note", exact=True)).to_have_accessible_description(empty)
    assert_accessible(page)
    assert not RecordEntry.with_drafts.exists()

    # Signed in another tab while this one still shows the draft: the change is refused,
    # and what was typed is kept as the start of an addendum.
    note = draft_note(hub.practitioner, hub.student, "Seen for 50 minutes.")
    page.goto(f"/students/notes/{note.uuid}/")
    assert_accessible(page)
    sign_note(actor=hub.practitioner, note=note)
    page.get_by_label("Note", exact=True).fill("Seen for 30 minutes.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#id_body_error")).to_contain_text("is locked: nothing was changed.")
    expect(page.get_by_label("Addendum")).to_have_value("Seen for 30 minutes.")
    expect(page.locator("[data-body]")).to_have_text("Seen for 50 minutes.")
    assert_accessible(page)

    page.goto(f"/students/{hub.student.uuid}/documents/")
    page.get_by_label("File", exact=True).set_input_files(files=[{
        "name": "discharge.pdf", "mimeType": "application/pdf",
        "buffer": b"<!DOCTYPE html><html><body>Not a PDF</body></html>",
    }])  # fmt: skip
    page.get_by_label("What it is").fill("Discharge summary")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#id_file_error")).to_contain_text(
        "“discharge.pdf” is not a PDF or an image"
    )
    expect(page.get_by_label("What it is")).to_have_value("Discharge summary")
    assert_accessible(page)
    settings.DOCUMENT_MAX_BYTES = 20
    page.get_by_label("File", exact=True).set_input_files(files=[{
        "name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF,
    }])  # fmt: skip
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#id_file_error")).to_contain_text("a document can be at most 20")
    assert not RecordEntry.objects.filter(kind="document").exists()

    page.goto(f"/students/{hub.student.uuid}/letters/new/")
    page.get_by_label("Letter", exact=True).select_option(label="Letter to the GP")
    page.get_by_role("button", name="Preview the letter").click()
    expect(page.locator("#id_recipient_error")).to_contain_text("Say who the letter is to")
    assert_accessible(page)
    page.get_by_label("To", exact=True).fill(RECIPIENT)
    page.get_by_role("button", name="Preview the letter").click()
    expect(page.locator("[data-letter]")).to_contain_text("Riverside Surgery")
    expect(page.locator("[data-left-out]")).to_contain_text("Your message: not recorded")
    assert_accessible(page)

    page.goto(f"/students/{hub.student.uuid}/letters/")
    assert_accessible(page)
    page.goto(f"/students/{hub.student.uuid}/contacts/")
    expect(page.locator("[data-contact]")).to_have_count(1)
    assert_accessible(page)
