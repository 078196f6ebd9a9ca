"""A Crisis Team practitioner reads a record, records a consent, and then sees what it shares."""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.services import open_care_relationship
from joinedup.record.models import RecordEntry

pytestmark = pytest.mark.browser

RISK_TEXT = "Low risk at assessment; protective factors are family and course friends."
NOT_SHARED = "Risk from other services is not shared with Crisis Team: no consent."


@pytest.fixture
def crisis_case(hub):
    """The Crisis Team is involved with the student; Wellbeing has written a risk summary."""
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    return RecordEntry.objects.create(
        student=hub.student, category="risk", service=hub.wellbeing, author=hub.practitioner,
        title="Risk summary", body=RISK_TEXT,
    )  # fmt: skip


def open_record_from_caseload(page, student) -> None:
    page.goto("/students/")
    assert_accessible(page)
    page.get_by_label("Search by name or student number").fill(student.student_number)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"\?q={student.student_number}$"))
    expect(page.get_by_role("table")).to_contain_text("1 student")
    assert_accessible(page)
    page.get_by_role("link", name=student.display_name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(student.display_name)
    assert_accessible(page)


def risk_section(page):
    return page.get_by_role("region", name="Risk")


def test_consent_recorded_in_the_browser_shares_risk_with_the_crisis_team(hub, crisis_case, page):
    login(page, hub.crisis_practitioner)
    open_record_from_caseload(page, hub.student)

    expect(risk_section(page)).to_contain_text(NOT_SHARED)
    expect(risk_section(page)).not_to_contain_text(RISK_TEXT)

    page.get_by_role("link", name="Record a consent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a consent")
    assert_accessible(page)
    page.get_by_label("What the student agrees to share").select_option(label="Risk")
    page.get_by_label("Who with").select_option(label="Crisis Team (Northbridge NHS Trust)")
    page.get_by_label("For what purpose").select_option(label="Direct care")
    page.get_by_label("How the student gave it").select_option(label="In person")
    page.get_by_role("button", name="Record consent").click()

    expect(page).to_have_url(re.compile(rf"/students/{hub.student.uuid}/$"))
    expect(page.get_by_role("status")).to_contain_text("Consent recorded.")
    expect(risk_section(page)).to_contain_text(RISK_TEXT)
    expect(risk_section(page)).not_to_contain_text(NOT_SHARED)
    expect(page.get_by_role("region", name="Engagement")).to_contain_text(
        "Risk → Crisis Team (Northbridge NHS Trust) — direct care, in person"
    )
    assert_accessible(page)


def test_consent_ending_before_it_starts_is_refused_next_to_the_field(hub, crisis_case, page):
    login(page, hub.crisis_practitioner)
    page.goto(f"/students/{hub.student.uuid}/consents/new/")
    assert_accessible(page)
    page.get_by_label("What the student agrees to share").select_option(label="Risk")
    page.get_by_label("Who with").select_option(label="Crisis Team (Northbridge NHS Trust)")
    page.get_by_label("How the student gave it").select_option(label="On a paper form")
    page.get_by_label("From").fill("2030-03-02T10:00")
    page.get_by_label("Until").fill("2030-03-01T10:00")
    page.get_by_role("button", name="Record consent").click()

    message = "The end must be after the start."
    until = page.locator(".nhsuk-form-group", has=page.locator("#id_valid_until"))
    expect(until).to_have_class(re.compile(r"\bnhsuk-form-group--error\b"))
    expect(until.locator("#id_valid_until_error")).to_have_text(f"Error: {message}")
    expect(page.get_by_label("Until")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Until")).to_have_accessible_description(re.compile(message))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link", name=message)).to_have_attribute("href", "#id_valid_until")
    # What was typed is still there to correct.
    expect(page.get_by_label("From")).to_have_value("2030-03-02T10:00")
    expect(page.get_by_label("Until")).to_have_value("2030-03-01T10:00")
    expect(page.get_by_label("Who with")).to_have_value(f"service:{hub.crisis.pk}")
    assert_accessible(page)
    assert not hub.student.consent_grants.exists()


def test_outsider_following_a_record_link_gets_a_plain_not_found_page(hub, crisis_case, page):
    login(page, hub.outsider)

    response = page.goto(f"/students/{hub.student.uuid}/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("main")).not_to_contain_text(hub.student.legal_family_name)
    expect(page.get_by_role("link", name="Go to the JoinedUp home page")).to_be_visible()
    assert_accessible(page)


def test_a_withheld_section_a_request_to_share_the_students_yes_and_it_appears(
    hub, crisis_case, page, phone_page
):
    """Journey (e): the Crisis Team sees that Wellbeing holds risk it may not read, asks the
    student to share it; the student says yes on their phone; the asker's email link opens
    the record, where the risk now shows."""
    login(page, hub.crisis_practitioner)
    open_record_from_caseload(page, hub.student)
    expect(risk_section(page)).to_contain_text("Risk: held by Wellbeing — not shared with you.")
    expect(risk_section(page)).not_to_contain_text(RISK_TEXT)
    expect(risk_section(page)).not_to_contain_text("Nothing recorded.")
    risk_section(page).get_by_role("button", name="Ask the student to share risk").click()
    expect(page.get_by_role("status")).to_contain_text("The student has been asked")
    assert_accessible(page)

    login(phone_page, hub.student_user, totp=False)
    phone_page.goto("/me/")
    request_card = phone_page.locator("[data-sharing-request]")
    expect(request_card).to_contain_text(
        "Crisis Team asks you to share notes about keeping you safe"
    )
    assert_accessible(phone_page)
    request_card.get_by_role("button", name="Yes, share it with Crisis Team").click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "Crisis Team can now see notes about keeping you safe"
    )
    expect(phone_page.locator("[data-sharing-request]")).to_have_count(0)
    assert_accessible(phone_page)

    told = next(m for m in mail.outbox if m.to == [hub.crisis_practitioner.email])
    assert "agreed to share" in told.body
    link = re.search(r"https?://\S+", told.body).group(0)
    page.goto(urlparse(link).path)
    expect(risk_section(page)).to_contain_text(RISK_TEXT)
    expect(risk_section(page)).not_to_contain_text("not shared with you")
    assert_accessible(page)
