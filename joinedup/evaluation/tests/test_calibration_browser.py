"""In the browser: a service manager finds where to set the CORE-OM's reliable change
values from the report, gets a clear message for a reliability of 1, sets them, and sees
the index in use, on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from joinedup.conftest import accessible_at_both_sizes, login
from joinedup.evaluation.tests.test_demo_report_browser import fits_on_a_phone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]


def test_a_service_manager_sets_the_core_oms_reliable_change_values(hub, page):
    login(page, hub.service_manager)
    page.goto("/reports/")
    page.get_by_role("link", name="Reliable change for the CORE-OM").click()
    expect(page.locator('table[data-table="calibrations"]')).to_contain_text("None yet")
    accessible_at_both_sizes(page)
    fits_on_a_phone(page)

    page.get_by_label("Service", exact=True).select_option(
        label="Wellbeing (University of Northbridge)"
    )
    page.get_by_label("Measure").select_option("CORE-OM")
    page.get_by_label("Standard deviation of first scores").fill("7")
    page.get_by_label("Reliability").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Give a reliability above 0 and below 1").first).to_be_visible()
    expect(page.get_by_label("Standard deviation of first scores")).to_have_value("7")
    accessible_at_both_sizes(page)
    fits_on_a_phone(page)

    page.get_by_label("Reliability").fill("0.9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Every report run from now on")).to_be_visible()
    row = page.locator('table[data-table="calibrations"]').get_by_role("row", name="Wellbeing")
    expect(row).to_contain_text("CORE-OM")
    expect(row).to_contain_text("6.1")  # 1.96 × 7 × √(2 × 0.1)
    accessible_at_both_sizes(page)
    fits_on_a_phone(page)
