"""In the browser: a service manager saves a report snapshot, then records an evaluation
through its four stages (plan, conduct, report, share), linking the snapshot."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from joinedup.conftest import assert_accessible, login
from joinedup.evaluation.models import EvaluationProject, SavedReport
from joinedup.evaluation.tests.test_report import add_referral, students

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "reports"]),
]


def test_a_service_manager_saves_a_snapshot_and_records_an_evaluation(hub, page, tmp_path):
    for student in students(hub, 10):
        add_referral(hub, student, hub.wellbeing, dt.date(2025, 3, 3), first=5)
    login(page, hub.service_manager)

    # Save the report's figures as a snapshot, from the report page's link.
    page.goto(f"/reports/?start=2025-01-01&end=2026-01-01&service={hub.wellbeing.pk}")
    page.get_by_role("link", name="Save these figures as a report snapshot").click()
    assert_accessible(page)
    page.get_by_role("button", name="Save snapshot").click()
    expect(page.get_by_text("Give the snapshot a name.").first).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name this snapshot").fill("Wellbeing referrals 2025")
    page.get_by_role("button", name="Save snapshot").click()
    expect(page.get_by_role("heading", name="Wellbeing referrals 2025")).to_be_visible()
    expect(page.locator('table[data-table="activity"] tbody tr').first).to_contain_text("10")
    # The live report's charts, drawn from the frozen figures, and its downloads.
    drawn = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=waiting]'))"
        ".data.datasets.map(d => d.label)"
    )
    assert drawn == ["All students"]
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    csv_path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(csv_path)
    assert csv_path.name == "saved-report-wellbeing-2025-01-01-to-2025-12-31.csv"
    assert "Referrals received" in csv_path.read_text()
    page.get_by_role("link", name="Saved report snapshots").click()
    expect(page.get_by_role("link", name="Wellbeing referrals 2025")).to_be_visible()
    assert_accessible(page)
    assert SavedReport.objects.count() == 1

    # Plan.
    page.get_by_role("link", name="Evaluation projects").click()
    assert_accessible(page)
    page.get_by_role("link", name="Plan a new evaluation").click()
    page.get_by_role("button", name="Start the evaluation").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Title").fill("Does group CBT help first-years?")
    page.get_by_label("Evaluation question").fill("Do group members recover as often?")
    page.get_by_label("Design").select_option("before_after")
    page.get_by_label("Who is involved").fill("Wellbeing team")
    page.get_by_label("How students are involved").fill("The advisory group chose the question")
    page.get_by_label("Starts on").fill("2025-09-01")
    page.get_by_label("Ends on").fill("2026-06-30")
    page.get_by_role("button", name="Start the evaluation").click()
    expect(page.get_by_role("heading", name="Does group CBT help first-years?")).to_be_visible()
    assert_accessible(page)

    # Conduct, linking the snapshot.
    page.get_by_role("link", name="Record how the evaluation is conducted").click()
    page.get_by_label("Which data").fill("PHQ-9 and GAD-7 at every session")
    page.get_by_label("Wellbeing referrals 2025").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Wellbeing referrals 2025")).to_be_visible()

    # Report.
    page.get_by_role("link", name="Record the findings").click()
    page.get_by_label("Findings").fill("Recovery was similar in both groups.")
    page.get_by_label("What works").fill("Groups reach students sooner.")
    page.get_by_label("What could improve").fill("Fewer finished the group.")
    page.get_by_label("Recommendations").fill("Offer both.")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Recovery was similar in both groups.")).to_be_visible()

    # Share.
    page.get_by_role("link", name="Record how it was shared").click()
    page.get_by_label("Shared with").fill("Student advisory group")
    page.get_by_label("Shared on").fill("2026-07-15")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("15 Jul 2026")).to_be_visible()
    assert_accessible(page)

    project = EvaluationProject.objects.get()
    assert project.findings == "Recovery was similar in both groups."
    assert [r.title for r in project.saved_reports.all()] == ["Wellbeing referrals 2025"]
