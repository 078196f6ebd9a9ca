"""In the browser, across roles: what a service manager, an organisation admin and a
researcher are told at the edges of reports and extracts: flows too small to draw, a
download refused and corrected, a service they may not choose, a page their role does not
open, and a k below the hub's minimum."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from joinedup.conftest import accessible_at_both_sizes, assert_accessible, login
from joinedup.evaluation.tests.test_extract import cohort  # noqa: F401
from joinedup.evaluation.tests.test_report import add_referral, students

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]

# The data fixtures come before `page`: a live server started before the test database is
# set up leaves a connection open.


def test_a_service_manager_is_told_what_is_hidden_refused_and_how_to_go_on(hub, page):
    for student in students(hub, 9):
        add_referral(hub, student, hub.talking, dt.date(2025, 6, 1), source="service",
                     from_service=hub.wellbeing)  # fmt: skip
    for student in students(hub, 3, start=50):  # too few to draw
        add_referral(hub, student, hub.crisis, dt.date(2025, 6, 2), source="service",
                     from_service=hub.wellbeing)  # fmt: skip
    login(page, hub.service_manager)
    period = "start=2025-01-01&end=2026-01-01"

    # A PDF asked for with a bad date says why; corrected, the form shows the report.
    page.goto(f"/reports/report.pdf?start=not-a-date&end=2026-01-01&service={hub.wellbeing.pk}")
    expect(page.get_by_text("Enter a valid date.").first).to_be_visible()
    page.get_by_label("From").fill("2025-01-01")
    page.get_by_role("button", name="Show the report").click()
    page.wait_for_url("**/reports/?*")
    flows = page.locator('table[data-table="flows"]')
    expect(flows).to_contain_text("Wellbeing → Talking Therapies")
    expect(flows).to_contain_text("Wellbeing → Crisis Team")
    # The diagram draws the one flow it may, and says the other is not drawn.
    expect(page.locator('canvas[data-chart="flows"]')).to_be_visible()
    expect(page.locator("[data-flows-hidden]")).to_have_text(
        "1 flow of fewer than 8 students is not drawn (shown as * in the table below)."
    )
    accessible_at_both_sizes(page)

    # A service of another organisation, put in the address, is refused in words.
    page.goto(f"/reports/?{period}&service={hub.other_wellbeing.pk}")
    expect(
        page.get_by_text("You may report only on the services listed here").first
    ).to_be_visible()
    assert_accessible(page)


def test_an_organisation_admin_refused_reports_is_sent_to_people_where_roles_are_given(hub, page):
    login(page, hub.org_admin)
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="You cannot see this page")).to_be_visible()
    expect(
        page.get_by_text("As an organisation admin you can give a member of staff")
    ).to_be_visible()
    accessible_at_both_sizes(page)
    page.get_by_role("link", name="Go to People").click()
    page.wait_for_url("**/governance/people/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "You cannot see this page" not in page.content()
    assert_accessible(page)


def test_a_researcher_below_the_minimum_k_is_asked_for_each_thing_at_its_own_box(
    hub,
    cohort,  # noqa: F811
    page,
):
    login(page, hub.researcher)
    page.goto("/reports/extracts/")
    expect(page.locator("#id_k_helptext")).to_contain_text(
        "service and referral month must describe"
    )  # k's hint names every quasi-identifier, as the page's introduction does
    page.get_by_label("Episodes starting from").fill("2025-01-01")
    page.get_by_label("Up to (not including)").fill("2026-01-01")
    page.get_by_label("Wellbeing (University of Northbridge)").check()
    page.get_by_label("Talking Therapies (Northbridge NHS Trust)").check()
    page.get_by_label("Smallest group of students (k)").fill("3")
    page.get_by_role("button", name="Run extract").click()
    expect(page.get_by_text("k below 5 needs the data sharing agreement that allows it: "
                            "choose it, or raise k to 5.").first).to_be_visible()  # fmt: skip
    expect(page.get_by_text("k below 5 needs who approved it and where that is recorded.")
           .first).to_be_visible()  # fmt: skip
    accessible_at_both_sizes(page)

    # The agreement chosen: only who approved it is still asked for.
    page.get_by_label("the data sharing agreement that allows it").select_option(
        label=hub.agreement.title
    )
    page.get_by_role("button", name="Run extract").click()
    expect(page.get_by_text("k below 5 needs who approved it and where that is recorded.")
           .first).to_be_visible()  # fmt: skip
    expect(page.get_by_text("needs the data sharing agreement that allows it")).to_have_count(0)
    page.get_by_label("Who approved the smaller k").fill("Caldicott guardian, 3 March 2026")
    page.get_by_role("button", name="Run extract").click()
    expect(page.get_by_text("Ready to download")).to_be_visible()
    assert_accessible(page)


def test_the_release_note_names_every_step_applied_on_the_way(hub, cohort, page):  # noqa: F811
    login(page, hub.researcher)
    page.goto("/reports/extracts/")
    page.get_by_label("Episodes starting from").fill("2025-01-01")
    page.get_by_label("Up to (not including)").fill("2026-01-01")
    page.get_by_label("Wellbeing (University of Northbridge)").check()
    page.get_by_label("Talking Therapies (Northbridge NHS Trust)").check()
    page.get_by_role("button", name="Run extract").click()
    expect(page.get_by_text("Ready to download")).to_be_visible()
    passed_through = ("Generalised (service shown only as its kind): applied on the way to a "
                      "later step; no student stopped here.")  # fmt: skip
    expect(page.get_by_text(passed_through)).to_be_visible()
    expect(page.get_by_text("Generalised (ethnicity group not shown): 6 students")).to_be_visible()
    assert_accessible(page)
