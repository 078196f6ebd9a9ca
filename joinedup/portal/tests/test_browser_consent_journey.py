"""Journey (b): a consent to a whole NHS trust and one to a single service, each seen by its
recipients, each withdrawn by the student on their phone and gone at the recipients' next
request; stopping everything asks first, on a page of its own."""

import re

import pytest
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import open_care_relationship
from joinedup.record.models import RecordEntry

pytestmark = pytest.mark.browser

ASSESSMENT_TEXT = "Panic before seminars since moving to Northbridge; wants help to sleep again."
RISK_TEXT = "No plans to act on dark thoughts; her sister and the climbing club keep her going."
TRUST_WIDE = "every service of Northbridge NHS Trust"


@pytest.fixture
def shared_care(hub):
    """The Crisis Team and Talking Therapies both work with the student; Wellbeing has
    written their assessment and a risk summary."""
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    open_care_relationship(student=hub.student, service=hub.talking, reason="referral")
    for category, title, body in [
        ("assessment", "Shared assessment", ASSESSMENT_TEXT),
        ("risk", "Risk summary", RISK_TEXT),
    ]:
        RecordEntry.objects.create(
            student=hub.student, category=category, service=hub.wellbeing,
            author=hub.practitioner, title=title, body=body,
        )  # fmt: skip


def section(page, name):
    return page.get_by_role("region", name=name, exact=True)


def card(phone_page, service):
    return phone_page.get_by_role("region", name=re.compile(rf"^{service} "))


def open_record(page, student) -> None:
    """From the caseload, by student number, to the record."""
    page.get_by_role("link", name="Caseload").click()
    page.get_by_label("Search by name or student number").fill(student.student_number)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("1 student")
    assert_accessible(page)
    page.get_by_role("link", name=student.display_name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(student.display_name)
    assert_accessible(page)


def reload_record(page) -> None:
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


def expect_withheld(page, name, text) -> None:
    """The section says Wellbeing holds it and does not share it: never that it is empty."""
    expect(section(page, name)).to_contain_text(f"{name}: held by Wellbeing — not shared with you.")
    expect(section(page, name)).not_to_contain_text(text)
    expect(section(page, name)).not_to_contain_text("Nothing recorded.")


def test_student_grants_trust_wide_and_service_consent_and_withdraws_each(
    hub, shared_care, page, other_page, phone_page
):
    # In person, the Crisis Team records the student's consent to share their assessment
    # with every service of the trust.
    login(page, hub.crisis_practitioner)
    open_record(page, hub.student)
    expect_withheld(page, "Assessment", ASSESSMENT_TEXT)
    page.get_by_role("link", name="Record a consent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a consent")
    assert_accessible(page)
    page.get_by_label("What the student agrees to share").select_option(label="Assessment")
    page.get_by_label("Who with").select_option(label="Northbridge NHS Trust")
    page.get_by_label("For what purpose").select_option(label="Direct care")
    page.get_by_label("How the student gave it").select_option(label="In person")
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent recorded.")
    expect(section(page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)
    expect_withheld(page, "Risk", RISK_TEXT)
    assert_accessible(page)

    # The student sees it on their phone, as reaching each of the trust's services.
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role(
        "link", name="Choose what I share, and see what each service sees"
    ).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("What I share, and with whom")
    everything = phone_page.get_by_role("list", name="Everything you share now")
    expect(everything).to_contain_text(f"Assessment with {TRUST_WIDE}")
    expect(everything).to_contain_text("Since")
    for service in ("Crisis Team", "Talking Therapies"):
        expect(card(phone_page, service).locator('[data-toggle="assessment"]')).to_contain_text(
            f"Assessment: shared, because you share it with {TRUST_WIDE}"
        )
        expect(card(phone_page, service).locator('[data-toggle="risk"]')).to_contain_text(
            "Risk: not shared"
        )
    assert_accessible(phone_page)

    # Exactly what the Crisis Team sees: the assessment, and not the risk summary.
    card(phone_page, "Crisis Team").get_by_role(
        "link", name="See exactly what Crisis Team sees"
    ).click()
    expect(phone_page.locator("[data-preview]")).to_contain_text(
        "This is exactly what Crisis Team would see now"
    )
    expect(section(phone_page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)
    expect(section(phone_page, "Risk")).not_to_contain_text(RISK_TEXT)
    assert_accessible(phone_page)
    phone_page.get_by_role("link", name="Back to what I share").click()

    # The student shares their risk summary with the Crisis Team alone.
    card(phone_page, "Crisis Team").get_by_role("button", name="Share Risk — Crisis Team").click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "Crisis Team can now see notes about keeping you safe."
    )
    expect(card(phone_page, "Crisis Team").locator('[data-toggle="risk"]')).to_contain_text(
        "Risk: shared"
    )
    expect(card(phone_page, "Talking Therapies").locator('[data-toggle="risk"]')).to_contain_text(
        "Risk: not shared"
    )
    assert_accessible(phone_page)

    reload_record(page)
    expect(section(page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)
    expect(section(page, "Risk")).to_contain_text(RISK_TEXT)

    login(other_page, hub.triage)
    open_record(other_page, hub.student)
    expect(section(other_page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)
    expect_withheld(other_page, "Risk", RISK_TEXT)

    # Stopping risk for the Crisis Team applies at their next request.
    card(phone_page, "Crisis Team").get_by_role(
        "button", name="Stop sharing Risk — Crisis Team"
    ).click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "You stopped sharing notes about keeping you safe with Crisis Team (Northbridge NHS Trust)."
    )
    assert_accessible(phone_page)
    reload_record(page)
    expect_withheld(page, "Risk", RISK_TEXT)
    expect(section(page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)

    # Stopping the trust-wide consent, from the Crisis Team's card, stops it for both.
    card(phone_page, "Crisis Team").get_by_role(
        "button", name=re.compile(rf"^Stop sharing with {TRUST_WIDE}")
    ).click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        f"You stopped sharing your story and what you want from support with {TRUST_WIDE}."
    )
    for service in ("Crisis Team", "Talking Therapies"):
        expect(card(phone_page, service).locator('[data-toggle="assessment"]')).to_contain_text(
            "Assessment: not shared"
        )
    expect(phone_page.locator("[data-active-consents]")).to_have_count(0)
    expect(phone_page.get_by_role("main")).to_contain_text("You do not share anything.")
    assert_accessible(phone_page)
    for staff_page in (page, other_page):
        reload_record(staff_page)
        expect_withheld(staff_page, "Assessment", ASSESSMENT_TEXT)
        expect_withheld(staff_page, "Risk", RISK_TEXT)

    # "Stop sharing everything" asks on a page of its own, and stops nothing until then.
    card(phone_page, "Crisis Team").get_by_role(
        "button", name="Share Assessment — Crisis Team"
    ).click()
    expect(phone_page.get_by_role("status")).to_contain_text("Crisis Team can now see")
    phone_page.get_by_role("link", name="Stop sharing everything").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Stop sharing everything?")
    expect(phone_page.get_by_role("main")).to_contain_text(
        "Assessment with Crisis Team (Northbridge NHS Trust)"
    )
    assert_accessible(phone_page)
    still = ConsentGrant.objects.get(
        student=hub.student, category="assessment", recipient_service=hub.crisis
    )
    assert still.is_active
    reload_record(page)
    expect(section(page, "Assessment")).to_contain_text(ASSESSMENT_TEXT)

    phone_page.get_by_role("button", name="Yes, stop sharing everything").click()
    expect(phone_page.get_by_role("status")).to_contain_text("You stopped sharing 1 thing.")
    expect(phone_page.get_by_role("main")).to_contain_text("You do not share anything.")
    assert_accessible(phone_page)
    reload_record(page)
    expect_withheld(page, "Assessment", ASSESSMENT_TEXT)
