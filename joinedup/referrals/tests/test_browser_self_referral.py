"""Self-referral in the browser: a student refers themselves from the service directory on
their phone and triage accepts it; someone not registered refers themselves and triage
confirms them as a new student. Every page is checked with axe at phone and desktop size."""

import pytest
from playwright.sync_api import expect

from joinedup.conftest import accessible_at_both_sizes, login
from joinedup.referrals.models import DirectoryEntry, Referral

pytestmark = pytest.mark.browser


@pytest.fixture
def wellbeing(hub):
    DirectoryEntry.objects.create(
        service=hub.wellbeing, purpose="Short-term support with wellbeing.",
        who_for="Any student.", accepts_referrals_from=["self", "service"],
    )  # fmt: skip
    hub.wellbeing.waiting_standard_days = 10
    hub.wellbeing.save()
    return hub.wellbeing


def test_a_student_refers_themselves_from_the_directory_and_triage_accepts(
    hub, wellbeing, phone_page, other_page
):
    hub.student.email = "alex@student.nb.ac.uk"
    hub.student.save()
    login(phone_page, hub.student_user, totp=False)
    phone_page.goto(f"/services/{wellbeing.uuid}/")
    phone_page.get_by_role("link", name="Refer yourself").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Refer yourself")
    expect(phone_page.get_by_label("Email address")).to_have_value("alex@student.nb.ac.uk")
    accessible_at_both_sizes(phone_page)
    phone_page.get_by_label("What would you like help with?").fill("Exam stress; not sleeping.")
    phone_page.get_by_role("button", name="Send my request").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Your request has been sent")
    expect(phone_page.get_by_text("within 10 days")).to_be_visible()
    accessible_at_both_sizes(phone_page)

    login(other_page, hub.practitioner)
    other_page.goto("/referrals/waiting/")
    other_page.get_by_role("link", name=hub.student.display_name).click()
    expect(other_page.get_by_text("Exam stress; not sleeping.")).to_be_visible()
    other_page.get_by_role("button", name="Accept").click()
    expect(other_page.get_by_role("status")).to_have_text("Done.")
    assert Referral.objects.get(to_service=wellbeing).state == "accepted"


def test_someone_not_registered_refers_themselves_and_triage_confirms_a_new_student(
    hub, wellbeing, phone_page, other_page
):
    phone_page.goto(f"/services/{wellbeing.uuid}/refer-yourself/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Refer yourself")
    accessible_at_both_sizes(phone_page)
    # Nothing to reach them by: told beside the field, nothing sent.
    phone_page.get_by_label("First name").fill("Morgan")
    phone_page.get_by_label("Last name").fill("Reyes")
    phone_page.get_by_label("Date of birth").fill("11/02/2003")
    phone_page.get_by_label("What would you like help with?").fill("I cannot sleep.")
    phone_page.get_by_role("button", name="Send my request").click()
    expect(phone_page.locator("#id_email_error")).to_contain_text(
        "Give an email address or a phone number"
    )
    accessible_at_both_sizes(phone_page)
    assert not Referral.objects.exists()
    phone_page.get_by_label("Phone number").fill("07700 900123")
    phone_page.get_by_role("button", name="Send my request").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Your request has been sent")
    accessible_at_both_sizes(phone_page)

    login(other_page, hub.practitioner)
    other_page.goto("/referrals/waiting/")
    row = other_page.locator("tr", has_text="Morgan Reyes")
    expect(row.get_by_text("Not yet confirmed")).to_be_visible()
    row.get_by_role("link", name="Morgan Reyes").click()
    other_page.get_by_role("link", name="Confirm or reject this self-referral").click()
    expect(other_page.get_by_role("heading", level=1)).to_have_text("Self-referral to confirm")
    expect(other_page.locator("[data-duplicates]")).to_contain_text("No registered record")
    accessible_at_both_sizes(other_page)
    other_page.get_by_role("button", name="Confirm").click()
    expect(other_page.locator("#id_confirm_student_number_error")).to_contain_text(
        "Give the student's number"
    )
    accessible_at_both_sizes(other_page)
    other_page.get_by_label("Student number").fill("NB7000001")
    other_page.get_by_role("button", name="Confirm").click()
    expect(other_page.get_by_role("status")).to_contain_text("Confirmed")
    accessible_at_both_sizes(other_page)
    other_page.get_by_role("button", name="Accept").click()
    expect(other_page.get_by_role("status")).to_have_text("Done.")
    referral = Referral.objects.get(to_service=wellbeing)
    assert referral.state == "accepted"
    assert not referral.student.is_pending
    assert referral.student.student_number == "NB7000001"
