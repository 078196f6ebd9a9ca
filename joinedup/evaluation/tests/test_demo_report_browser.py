"""In the browser, on the real demo hub: its service manager runs a year's report of their
wellbeing service broken down by gender, downloads it as CSV and PDF, and compares services
on the benchmarking page, on a desktop and on a phone."""

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from joinedup.conftest import (
    DESKTOP,
    PHONE,
    accessible_at_both_sizes,
    assert_accessible,
    expect_fits_the_screen,
    login,
)
from joinedup.people.models import User
from joinedup.record.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, build_demo_hub

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]

SERVICE_MANAGER = "service-manager@demo.joinedup.example"
SERVICE = "Northbridge Wellbeing Service (University of Northbridge)"
NUMBER = re.compile(r"^\d+$")

# For each chart drawn on the page: per dataset, how many points Chart.js drew and how many
# of them have a value (a suppressed figure is null; a sankey flow is {from, to, flow}).
CHART_POINTS = """canvas => {
    const chart = Chart.getChart(canvas);
    if (!chart) return null;
    const value = v => (v !== null && typeof v === "object" ? (v.flow ?? v.y) : v);
    return chart.data.datasets.map((dataset, i) => ({
        label: dataset.label ?? null,
        drawn: chart.getDatasetMeta(i).data.length,
        values: dataset.data.filter(v => value(v) !== null && value(v) !== undefined).length,
    }));
}"""


@pytest.fixture
def demo_hub(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub()


def fits_on_a_phone(page) -> None:
    """The page's wide tables scroll in their own boxes: the page itself fits a phone."""
    page.set_viewport_size(PHONE)
    expect_fits_the_screen(page)
    page.set_viewport_size(DESKTOP)


def cell(table, row: str, column: str) -> str:
    """The text of a report table's cell, by its row's label and its column's heading."""
    headings = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    line = table.locator("tbody tr").filter(
        has=table.page.locator("th", has_text=re.compile(rf"^\s*{re.escape(row)}\s*$"))
    )
    expect(line).to_have_count(1)
    return line.locator("th, td").nth(headings.index(column)).inner_text().strip()


def downloaded(page, link: str, tmp_path) -> Path:
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name=link).click()
    download = download_info.value
    saved = Path(tmp_path) / download.suggested_filename
    download.save_as(saved)
    return saved


def test_the_demo_service_manager_reports_a_year_by_gender_and_benchmarks(demo_hub, page, tmp_path):
    login(page, User.objects.get(email=SERVICE_MANAGER), password=DEMO_PASSWORD,
          secret=DEMO_TOTP_SECRET)  # fmt: skip

    today = timezone.localdate()
    start = today - dt.timedelta(days=365)
    page.goto("/reports/")
    assert_accessible(page)
    page.get_by_label("From").fill(start.isoformat())
    page.get_by_label("Up to (not including)").fill(today.isoformat())
    page.get_by_label(SERVICE).check()
    page.get_by_label("Break every figure down by").select_option("gender")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", name="Report", exact=True)).to_be_visible()

    # Every chart is drawn, each with at least one point that has a value.
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(6)
    for name in ("flows", "waiting", "scores", 'prepost"][data-code="PHQ-9',
                 'prepost"][data-code="GAD-7', 'prepost"][data-code="CORE-OM'):  # fmt: skip
        canvas = page.locator(f'canvas[data-chart="{name}"]')
        page.wait_for_function(
            "canvas => window.Chart && Chart.getChart(canvas)", arg=canvas.element_handle()
        )
        datasets = canvas.evaluate(CHART_POINTS)
        assert any(d["drawn"] and d["values"] for d in datasets), (name, datasets)

    # A band hidden by disclosure control is marked on the chart, as in the table beside it.
    bands = page.locator('table[data-table="wait-bands"]')
    marked = page.locator('canvas[data-chart="waiting"]').evaluate(
        "canvas => Chart.getChart(canvas).data.datasets.map(d => [d.label, d.suppressed])"
    )
    labels = page.locator('canvas[data-chart="waiting"]').evaluate(
        "canvas => Chart.getChart(canvas).data.labels"
    )
    hidden = 0
    for group, suppressed in marked:
        for band, is_marked in zip(labels, suppressed, strict=True):
            assert is_marked == (cell(bands, band, group) == "*"), (group, band)
            hidden += is_marked
    assert hidden, "the demo's breakdown by gender hides some bands"

    activity = page.locator('table[data-table="activity"]')
    referrals = {g: cell(activity, "Referrals", g) for g in ("All students", "Woman", "Man")}
    assert all(NUMBER.match(v) for v in referrals.values()), referrals
    phq9 = page.locator('table[data-table="measure-PHQ-9"]')
    paired = {g: cell(phq9, "With paired first and last scores", g) for g in ("Woman", "Man")}
    assert all(NUMBER.match(v) for v in paired.values()), paired
    accessible_at_both_sizes(page)
    fits_on_a_phone(page)

    # The CSV says what it covers, then a row per figure and group; the PDF is a PDF.
    rows = list(
        csv.reader(
            io.StringIO(downloaded(page, "Download as CSV", tmp_path).read_text("utf-8-sig"))
        )
    )
    assert rows[0] == ["JoinedUp service report"]
    assert rows[1] == ["Period", f"{start.isoformat()} up to (not including) {today.isoformat()}"]
    assert rows[2] == ["Services", SERVICE]
    assert rows[3] == ["Broken down by", "Gender"]
    assert rows[4][0] == "Disclosure control"
    assert any(len(r) > 3 and r[2] == "Referrals" and r[3] == "Woman" for r in rows), rows[:12]
    assert downloaded(page, "Download as PDF", tmp_path).read_bytes().startswith(b"%PDF")

    page.get_by_role("link", name="Compare services and institutions").click()
    # The link carries the report's period: the comparison opens on the same year.
    page.wait_for_url(f"**/reports/benchmarking/?start={start.isoformat()}&end={today.isoformat()}")
    expect(page.locator('table[data-table="headlines"]')).to_be_visible()
    assert_accessible(page)
    funnels = page.locator("canvas[data-funnel]")
    expect(funnels.first).to_be_attached()
    for key in funnels.evaluate_all("canvases => canvases.map(c => c.dataset.funnel)"):
        canvas = page.locator(f'canvas[data-funnel="{key}"]')
        page.wait_for_function(
            "canvas => window.Chart && Chart.getChart(canvas)", arg=canvas.element_handle()
        )
        points = canvas.evaluate("canvas => Chart.getChart(canvas).data.datasets[0].data")
        assert points, key
        units = page.locator(f'table[data-table="funnel-{key}"] tbody tr')
        assert units.count() >= 3, (key, units.all_inner_texts())
    accessible_at_both_sizes(page)
    fits_on_a_phone(page)
