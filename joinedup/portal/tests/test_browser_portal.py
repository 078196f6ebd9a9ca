"""The student's portal on a phone: who has looked at their record, and withdrawing a consent."""

import re

import icalendar
import pytest
from playwright.sync_api import expect

from joinedup.conftest import (
    PHONE,
    _page_in_new_context,
    accessible_at_both_sizes,
    assert_accessible,
    expect_fits_the_screen,
    login,
)
from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import record_consent
from joinedup.referrals.tests.factories import book, day_after_tomorrow_at, walked_in

pytestmark = pytest.mark.browser


@pytest.fixture
def risk_shared_with_crisis_team(hub) -> ConsentGrant:
    return record_consent(
        actor=hub.practitioner,
        student=hub.student,
        category="risk",
        purpose="direct_care",
        how_given="in_person",
        recipient_service=hub.crisis,
    )


STOPPED = "You stopped sharing notes about keeping you safe with Crisis Team"


def test_student_sees_who_looked_and_withdraws_a_consent(
    hub, risk_shared_with_crisis_team, page, phone_page
):
    # A Wellbeing practitioner reads the record first, in their own browser.
    login(page, hub.practitioner)
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(hub.student.display_name)
    assert_accessible(page)

    login(phone_page, hub.student_user, totp=False)
    expect(phone_page).to_have_url(re.compile(r"/me/$"))
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        f"Hello, {hub.student.display_name}"
    )

    looked = phone_page.get_by_role("table", name="Who has looked at your record")
    reads = looked.get_by_role("row").filter(has_text="Wellbeing, University of Northbridge")
    expect(reads.first).to_contain_text("(practitioner)")
    expect(reads).to_have_count(1)  # one visit, one row
    expect(reads).to_contain_text("Care relationship")
    expect(reads).to_contain_text("Notes about keeping you safe")

    consents = phone_page.get_by_role("table", name="Your consents")
    grant = consents.get_by_role("row").filter(has_text="Crisis Team")
    expect(grant).to_contain_text("Risk")
    expect(grant).to_contain_text("Sharing now")
    expect_fits_the_screen(phone_page)  # the tables fold into cards on a phone
    grant.get_by_role("button", name=re.compile(r"^Withdraw")).click()

    expect(phone_page).to_have_url(re.compile(r"/me/$"))
    expect(phone_page.get_by_role("status")).to_contain_text(STOPPED)
    expect(grant).to_contain_text(re.compile(r"Withdrawn \d{1,2} \w{3} \d{4}"))
    expect(grant.get_by_role("button")).to_have_count(0)
    assert_accessible(phone_page)
    risk_shared_with_crisis_team.refresh_from_db()
    assert risk_shared_with_crisis_team.withdrawn_by == hub.student_user


def test_student_changes_the_name_and_pronouns_services_use_on_a_phone(hub, phone_page):
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role("link", name="Change the name and pronouns we use").click()
    assert_accessible(phone_page)
    phone_page.get_by_label("The name you want us to use").fill("Lex")
    phone_page.get_by_label("Your pronouns (optional)").fill("they/them")
    phone_page.get_by_role("button", name="Save").click()
    expect(phone_page.get_by_role("status")).to_contain_text("Every service now sees this name.")
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("Hello, Lex")
    assert_accessible(phone_page)
    hub.student.refresh_from_db()
    assert (hub.student.preferred_name, hub.student.pronouns) == ("Lex", "they/them")


def test_student_shares_previews_and_stops_sharing_on_a_phone(hub, page, phone_page):
    from joinedup.consent.services import open_care_relationship
    from joinedup.record.models import RecordEntry

    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    RecordEntry.objects.create(
        student=hub.student,
        category="risk",
        service=hub.wellbeing,
        author=hub.practitioner,
        title="Wellbeing risk summary",
        body="Low risk; protective friends.",
    )
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role(
        "link", name="Choose what I share, and see what each service sees"
    ).click()
    assert_accessible(phone_page)
    phone_page.get_by_role("button", name="Share Risk — Crisis Team").click()
    expect(phone_page.get_by_role("status")).to_contain_text(
        "Crisis Team can now see notes about keeping you safe."
    )
    phone_page.get_by_role("link", name="See exactly what Crisis Team sees").click()
    expect(phone_page.locator("[data-preview]")).to_contain_text("Crisis Team would see now")
    expect(phone_page.locator('[data-category="risk"]')).to_contain_text("Wellbeing risk summary")
    assert_accessible(phone_page)

    # The Crisis Team sees it too, then loses it the moment the student stops sharing.
    login(page, hub.crisis_practitioner)
    page.goto(f"/students/{hub.student.uuid}/")
    expect(page.locator('[data-category="risk"]')).to_contain_text("Wellbeing risk summary")
    phone_page.get_by_role("link", name="Back to what I share").click()
    phone_page.get_by_role("button", name="Stop sharing Risk — Crisis Team").click()
    expect(phone_page.get_by_role("status")).to_contain_text(STOPPED)
    assert_accessible(phone_page)
    page.reload()
    expect(page.locator('[data-category="risk"]')).not_to_contain_text("Wellbeing risk summary")


def test_student_downloads_their_data_on_a_phone(hub, phone_page, tmp_path):
    import io
    import json

    from pypdf import PdfReader

    login(phone_page, hub.student_user, totp=False)
    assert_accessible(phone_page)
    with phone_page.expect_download() as download:
        phone_page.get_by_role("link", name="as data (JSON)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "my-joinedup-record.json"
    assert json.loads(path.read_text())["identity"]["student_number"] == "NB1000001"
    with phone_page.expect_download() as download:
        phone_page.get_by_role("link", name="to read (PDF)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "my-joinedup-record.pdf"
    pdf = PdfReader(io.BytesIO(path.read_bytes()))
    assert "Everything JoinedUp holds about you" in pdf.pages[0].extract_text()


def test_a_student_adds_an_appointment_to_their_calendar_on_a_phone(hub, phone_page):
    episode = walked_in(hub, hub.student, practitioner=hub.practitioner)
    appointment = book(hub, episode, day_after_tomorrow_at(11), minutes=50)
    login(phone_page, hub.student_user, totp=False)
    phone_page.goto("/me/appointments/")
    accessible_at_both_sizes(phone_page)
    with phone_page.expect_download() as downloading:
        phone_page.get_by_role("link", name=re.compile("^Add to my calendar")).click()
    saved = downloading.value.path().read_bytes()
    (event,) = icalendar.Calendar.from_ical(saved).walk("VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at
    assert str(event["location"]) == appointment.place


def test_student_keeps_their_safety_plan_and_makes_their_data_choices_on_a_phone(
    hub, phone_page, tmp_path
):
    import io

    from pypdf import PdfReader

    from joinedup.risk.services import save_safety_plan

    save_safety_plan(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
        warning_signs="Not sleeping", crisis_numbers="Samaritans 116 123",
    )  # fmt: skip
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role("link", name="My safety plan").click()
    expect(phone_page.get_by_role("button", name="Print my plan")).to_be_visible()
    accessible_at_both_sizes(phone_page)
    expect_fits_the_screen(phone_page)
    with phone_page.expect_download() as download:
        phone_page.get_by_role("link", name="Download my plan (PDF)").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "my-safety-plan.pdf"
    assert "Not sleeping" in PdfReader(io.BytesIO(path.read_bytes())).pages[0].extract_text()

    phone_page.goto("/me/")
    phone_page.get_by_role("link", name=re.compile("^Choices about my data")).click()
    expect(phone_page.locator("[data-opt-out-now]")).to_contain_text(
        "your NHS care may be used, without your name"
    )
    accessible_at_both_sizes(phone_page)
    phone_page.get_by_label("No, leave my NHS care out of research and planning").check()
    phone_page.get_by_role("button", name="Save my choice").click()
    expect(phone_page.get_by_role("status")).to_have_text(
        "Saved: your NHS care is left out of research and planning."
    )
    expect(
        phone_page.get_by_label("No, leave my NHS care out of research and planning")
    ).to_be_checked()
    hub.student.refresh_from_db()
    assert hub.student.national_data_opt_out is True

    phone_page.get_by_role("link", name="Privacy notice", exact=True).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    expect(phone_page.locator("[data-officers]")).to_contain_text("dpo@nb.ac.uk")
    accessible_at_both_sizes(phone_page)
    expect_fits_the_screen(phone_page)


def test_on_a_phone_the_menu_folds_into_more_and_every_link_is_reached(hub, phone_page):
    login(phone_page, hub.practitioner)
    more = phone_page.get_by_role("button", name="Browse More")
    expect(more).to_be_visible()
    expect(more).to_have_attribute("aria-expanded", "false")
    expect(phone_page.get_by_role("link", name="Feedback")).to_be_hidden()
    more.click()
    expect(more).to_have_attribute("aria-expanded", "true")
    expect(phone_page.get_by_role("link", name="Feedback")).to_be_visible()
    assert_accessible(phone_page)
    expect_fits_the_screen(phone_page)
    phone_page.get_by_role("link", name="Feedback").click()
    expect(phone_page).to_have_url(re.compile(r"/feedback/$"))


def test_a_hundred_character_name_does_not_widen_a_phones_pages(hub, phone_page, other_page):
    long_name = "Maximiliana" * 9 + "X"  # 100 characters, no space to break at
    login(phone_page, hub.student_user, totp=False)
    phone_page.get_by_role("link", name="Change the name and pronouns we use").click()
    phone_page.get_by_label("The name you want us to use").fill(long_name)
    phone_page.get_by_role("button", name="Save").click()
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text(long_name)
    expect_fits_the_screen(phone_page)
    other_page.set_viewport_size(PHONE)
    login(other_page, hub.practitioner)
    other_page.goto(f"/students/{hub.student.uuid}/")
    expect(other_page.get_by_role("heading", level=1)).to_contain_text(long_name)
    expect_fits_the_screen(other_page)


NARROWEST = {"width": 320, "height": 640}


@pytest.fixture
def narrowest_page(browser, live_server, _fresh_browser_cache):
    yield from _page_in_new_context(
        browser, live_server, viewport=NARROWEST, is_mobile=True, has_touch=True
    )


def test_no_student_page_scrolls_sideways_on_the_narrowest_phone(hub, narrowest_page):
    """Every page a student uses fits a 320-pixel screen, with content in each."""
    from joinedup.messaging.services import send_from_service
    from joinedup.risk.services import save_safety_plan

    save_safety_plan(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
        warning_signs="Not sleeping", crisis_numbers="Samaritans 116 123",
    )  # fmt: skip
    send_from_service(actor=hub.practitioner, student=hub.student, body="See you on Friday.")
    book(hub, walked_in(hub, student=hub.student), day_after_tomorrow_at(10))
    page = narrowest_page
    login(page, hub.student_user, totp=False)
    for path in ("/me/", "/me/consents/", "/me/messages/", f"/me/messages/{hub.wellbeing.uuid}/",
                 "/me/appointments/", "/me/scores/", "/me/safety-plan/", "/me/return-to-study/",
                 "/me/choices/", "/me/reminders/", "/me/trusted-contact/", "/me/name/",
                 "/help/", "/services/", "/privacy/", "/accessibility/"):  # fmt: skip
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect_fits_the_screen(page)
