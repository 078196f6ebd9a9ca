"""The service directory in a browser: a student finds help, an academic signposts, an admin
keeps the opening hours right. Every page is checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.referrals.tests.test_directory_views import write_directory

pytestmark = pytest.mark.browser


@pytest.fixture
def entries(hub):
    return write_directory(hub)


def results(page):
    return page.get_by_role("list", name=re.compile(r"services? of"))


def test_a_student_searches_for_eating_and_opens_the_service(hub, entries, page):
    login(page, hub.student_user, totp=False)
    page.goto("/services/")
    assert_accessible(page)

    page.get_by_label("Search services").fill("eating")
    page.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"\?q=eating"))
    expect(page.get_by_text("1 service of 6")).to_be_visible()
    expect(results(page)).to_contain_text("Counselling")
    expect(results(page)).not_to_contain_text("Crisis Team")
    assert_accessible(page)

    page.get_by_role("link", name="Counselling").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Counselling")
    expect(page.get_by_text("Students can refer themselves.")).to_be_visible()
    expect(page.get_by_role("heading", name="Out of hours or in a crisis")).to_be_visible()
    expect(page.get_by_text("Call Northbridge Nightline on 0161 496 0999")).to_be_visible()
    expect(page.get_by_text("Not enough recent referrals to say.")).to_be_visible()
    assert_accessible(page)


def test_an_academic_filters_for_self_referral_to_signpost_a_student(hub, entries, page):
    login(page, hub.academic)
    page.goto("/services/")
    assert_accessible(page)

    page.get_by_label("Accept self-referral").check()
    page.get_by_text("Filter by topic and by who runs the service").click()
    page.get_by_label("University", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"self_referral=on.*kind=university"))
    expect(page.get_by_label("Accept self-referral")).to_be_checked()
    expect(page.get_by_text("3 services of 6")).to_be_visible()
    expect(results(page)).not_to_contain_text("Crisis Team")
    expect(results(page)).to_contain_text("Accepts self-referral")
    assert_accessible(page)

    page.get_by_role("link", name="Wellbeing", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wellbeing")
    expect(page.get_by_text("0161 496 0100")).to_be_visible()
    expect(page.get_by_role("link", name="Edit this directory entry")).to_have_count(0)
    assert_accessible(page)


def test_an_org_admin_corrects_a_mistake_in_the_opening_hours(hub, entries, page):
    login(page, hub.org_admin)
    page.goto(f"/services/{hub.wellbeing.uuid}/")
    assert_accessible(page)
    page.get_by_role("link", name="Edit this directory entry").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit directory entry")
    expect(page.get_by_label("Monday")).to_have_value("09:00–17:00")
    assert_accessible(page)

    page.get_by_label("Tuesday").fill("9am-5pm")
    page.get_by_label("Saturday").fill("10:00–13:00")
    page.get_by_role("button", name="Save directory entry").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(
        "Tuesday: “9am” is not a time: write hours and minutes, like 09:00."
    )
    expect(page.locator("#id_hours_1_error")).to_contain_text("“9am” is not a time")
    expect(page.get_by_label("Saturday")).to_have_value("10:00–13:00")
    assert_accessible(page)

    page.get_by_label("Tuesday").fill("09:00–12:30, 13:30–17:00")
    page.get_by_role("button", name="Save directory entry").click()

    expect(page).to_have_url(re.compile(rf"/services/{hub.wellbeing.uuid}/$"))
    expect(page.get_by_role("status")).to_contain_text("Directory entry saved.")
    hours = page.get_by_role("table", name="Opening hours (UK time)")
    expect(hours.get_by_role("row", name="Tuesday")).to_contain_text("09:00–12:30, 13:30–17:00")
    expect(hours.get_by_role("row", name="Saturday")).to_contain_text("10:00–13:00")
    expect(hours.get_by_role("row", name="Sunday")).to_contain_text("Closed")
    assert_accessible(page)
