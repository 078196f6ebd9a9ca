"""Help now on a phone: reached from the header of three different pages (a student's, a
practitioner's and the public directory), and at once from a search in words of crisis.
Each page is checked with axe at phone and desktop sizes."""

import re

import pytest
from playwright.sync_api import expect

from joinedup.conftest import accessible_at_both_sizes, login
from joinedup.referrals.tests.test_directory_views import write_directory

pytestmark = pytest.mark.browser

TAPPABLE = {
    "Call 999": "tel:999",
    "Call NHS 111, option 2": "tel:111",
    "Call Samaritans": "tel:116123",
    "Text SHOUT to 85258": "sms:85258?&body=SHOUT",
    "Call Crisis Team on 0800 555 0111": "tel:08005550111",
}


def expect_numbers_to_tap(page) -> None:
    panel = page.locator("[data-help-now]")
    for name, href in TAPPABLE.items():
        expect(panel.get_by_role("link", name=name, exact=True)).to_have_attribute("href", href)


def get_help_from_the_header(page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Get help now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get help now")
    expect_numbers_to_tap(page)
    accessible_at_both_sizes(page)


@pytest.fixture
def entries(hub):
    return write_directory(hub)


def test_a_student_gets_help_now_from_their_own_pages(hub, entries, phone_page):
    login(phone_page, hub.student_user, totp=False)
    phone_page.goto("/me/")
    get_help_from_the_header(phone_page)
    # Their university's out-of-hours words, with the number in them to tap.
    closed = phone_page.locator("[data-out-of-hours]")
    expect(closed).to_contain_text("Counselling")
    expect(closed.get_by_role("link", name="0161 496 0999")).to_have_attribute(
        "href", "tel:01614960999"
    )


def test_a_practitioner_finds_the_same_help_from_a_staff_page(hub, entries, phone_page):
    login(phone_page, hub.practitioner)
    phone_page.goto("/students/my-day/")
    get_help_from_the_header(phone_page)


def test_someone_not_signed_in_chooses_their_university(hub, entries, phone_page):
    phone_page.goto("/services/")
    get_help_from_the_header(phone_page)
    expect(phone_page.locator("[data-out-of-hours]")).to_have_count(0)
    phone_page.get_by_label("Your university").select_option(label="University of Northbridge")
    phone_page.get_by_role("button", name="Show my university's contacts").click()
    expect(phone_page).to_have_url(re.compile(r"university="))
    expect(phone_page.locator("[data-out-of-hours]")).to_contain_text("Nightline")
    accessible_at_both_sizes(phone_page)
    phone_page.get_by_role("link", name="Accessibility statement").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Accessibility statement for JoinedUp"
    )
    accessible_at_both_sizes(phone_page)


def test_a_search_in_words_of_crisis_shows_help_before_any_service(hub, entries, phone_page):
    phone_page.goto("/services/")
    phone_page.get_by_label("Search services").fill("I feel suicidal")
    phone_page.get_by_role("button", name="Search").click()
    expect(phone_page.locator("[data-help-now]")).to_be_in_viewport()
    expect_numbers_to_tap(phone_page)
    accessible_at_both_sizes(phone_page)
