"""In the browser: a service manager opens a report, breaks it down by a student group and
exports the PDF; a researcher compares services on the benchmarking page."""

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.evaluation.tests.test_report import add_episode, add_referral, students

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]


def test_a_service_manager_reports_by_gender_and_downloads_the_pdf(hub, page, tmp_path):
    for student in students(hub, 9, gender="woman"):
        add_referral(hub, student, hub.wellbeing, dt.date(2025, 3, 3), first=5, treated=12)
        add_episode(hub, student, hub.wellbeing, dt.date(2025, 3, 15), dt.date(2025, 6, 1),
                    attended=3, scores={"CORE-10": [20, 14, 8]})  # fmt: skip
    login(page, hub.service_manager)
    page.goto("/reports/")
    assert_accessible(page)
    page.get_by_label("From").fill("2025-01-01")
    page.get_by_label("Up to (not including)").fill("2026-01-01")
    page.get_by_label("Wellbeing (University of Northbridge)").check()
    page.get_by_label("Break every figure down by").select_option("gender")
    page.get_by_role("button", name="Show the report").click()

    activity = page.locator('table[data-table="activity"]')
    expect(activity).to_contain_text("Woman")
    expect(activity.locator("tbody tr").first).to_contain_text("10")
    drawn = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=waiting]'))"
        ".data.datasets.map(d => d.label)"
    )
    assert drawn[:2] == ["All students", "Woman"]
    expect(page.locator('canvas[data-chart="scores"]')).to_be_visible()
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    saved = Path(tmp_path) / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".pdf"
    assert saved.read_bytes().startswith(b"%PDF")


def test_a_researcher_compares_services_on_funnel_plots(hub, page):
    for student in students(hub, 9):
        add_referral(hub, student, hub.talking, dt.date(2025, 3, 3), first=5, treated=12)
        add_episode(hub, student, hub.talking, dt.date(2025, 3, 15), dt.date(2025, 6, 1),
                    attended=3, scores={"PHQ-9": [18, 12, 6], "GAD-7": [14, 9, 4]})  # fmt: skip
    login(page, hub.researcher)
    page.goto("/reports/benchmarking/?start=2025-01-01&end=2026-01-01")
    expect(page.locator('table[data-table="headlines"]')).to_contain_text("Talking Therapies")
    plotted = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-funnel=\"recovery-service\"]'))"
        ".data.datasets[0].data.map(p => [p.label, p.x, p.y])"
    )
    assert plotted == [["Talking Therapies", 10, 100]]
    table = page.locator('table[data-table="funnel-recovery-service"]')
    expect(table).to_contain_text("Within the 95% limits")
    # The table beside the chart shows the size and rate the chart draws.
    row = table.get_by_role("row", name="Talking Therapies")
    expect(row.get_by_role("cell").nth(0)).to_have_text("10")
    expect(row.get_by_role("cell").nth(1)).to_have_text("100%")
    assert_accessible(page)
