"""The report page, its CSV and PDF downloads, and the benchmarking page."""

import csv
import datetime as dt
import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.evaluation import reports
from joinedup.evaluation.models import SavedReport
from joinedup.evaluation.tests.test_report import add_episode, add_referral, students

URL = reverse("evaluation:report")


@pytest.fixture
def wellbeing_caseload(hub, reports_alias):
    for student in students(hub, 9, gender="woman"):
        add_referral(hub, student, hub.wellbeing, dt.date(2025, 3, 3), first=5)
        add_episode(hub, student, hub.wellbeing, dt.date(2025, 3, 10), dt.date(2025, 6, 1),
                    attended=3, scores={"CORE-10": [20, 14, 8]})  # fmt: skip


def query(hub, *services, breakdown=""):
    return {"start": "2025-01-01", "end": "2026-01-01", "breakdown": breakdown,
            "service": [s.pk for s in services or [hub.wellbeing]]}  # fmt: skip


def test_a_service_manager_sees_the_form_and_only_their_organisations_services(client, hub):
    client.force_login(hub.service_manager)
    response = client.get(URL)
    assert response.status_code == 200
    choices = {str(label) for _, label in response.context["form"].fields["service"].choices}
    assert "Wellbeing (University of Northbridge)" in choices
    assert not any("Talking Therapies" in label for label in choices)


def test_a_service_manager_runs_a_report_and_the_run_is_audited(client, hub, wellbeing_caseload):
    client.force_login(hub.service_manager)
    response = client.get(URL, query(hub, breakdown="gender"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-table="activity"' in page
    assert "Woman" in page
    # nobody is named
    assert "Alexandra" not in page
    assert "Student" not in page.replace("Students", "").replace("students", "")
    event = AuditEvent.objects.filter(action="evaluation.report.viewed").get()
    assert event.actor == hub.service_manager
    assert event.student is None
    assert "Wellbeing" in event.reason
    assert "by gender" in event.reason


def test_a_service_manager_cannot_report_on_another_organisations_service(client, hub):
    client.force_login(hub.service_manager)
    response = client.get(URL, query(hub, hub.talking))
    assert response.status_code == 400
    assert "You may report only on the services listed here" in response.content.decode()
    assert not AuditEvent.objects.filter(action="evaluation.report.viewed").exists()


def test_a_researcher_may_report_on_any_service(client, hub, reports_alias):
    client.force_login(hub.researcher)
    assert client.get(URL, query(hub, hub.talking, hub.wellbeing)).status_code == 200


def test_bad_parameters_get_a_message_in_words(client, hub):
    client.force_login(hub.service_manager)
    response = client.get(URL, query(hub) | {"end": "2024-01-01"})
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    response = client.get(URL, query(hub) | {"service": []})
    assert "Choose at least one service." in response.content.decode()


@pytest.mark.parametrize("who", ["practitioner", "academic", "org_admin", "outsider",
                                 "student_user"])  # fmt: skip
@pytest.mark.parametrize("name", ["report", "report-csv", "report-pdf", "benchmarking"])
def test_nobody_else_may_run_reports(client, hub, who, name):
    client.force_login(getattr(hub, who))
    assert client.get(reverse(f"evaluation:{name}"), query(hub)).status_code == 403


def test_a_refused_organisation_admin_is_told_what_they_can_do_and_others_whom_to_ask(client, hub):
    client.force_login(hub.org_admin)
    admin = client.get(URL, query(hub)).content.decode()
    assert "As an organisation admin you can give a member of staff" in admin
    assert reverse("governance:people") in admin
    client.force_login(hub.practitioner)
    practitioner = client.get(URL, query(hub)).content.decode()
    assert "ask your organisation's administrator" in practitioner
    assert "As an organisation admin" not in practitioner


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302


def test_the_csv_download_has_every_figure_and_is_audited(client, hub, wellbeing_caseload):
    client.force_login(hub.service_manager)
    response = client.get(reverse("evaluation:report-csv"), query(hub, breakdown="gender"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="service-report-wellbeing-by-gender-2025-01-01-to-2025-12-31.csv"'
    )
    assert response.content.startswith("\ufeff".encode()), "Excel reads it as UTF-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Broken down by", "Gender"] in rows
    assert reports.CSV_COLUMNS in rows
    assert ["Activity", "Referrals received", "Students referred", "Woman", "10", "10", ""] in rows
    assert AuditEvent.objects.filter(action="evaluation.report.exported_csv").count() == 1


def test_the_pdf_download_is_a_pdf_and_is_audited(client, hub, wellbeing_caseload):
    client.force_login(hub.service_manager)
    response = client.get(reverse("evaluation:report-pdf"), query(hub))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="evaluation.report.exported_pdf").count() == 1


def test_the_benchmarking_page_shows_units_and_funnels(client, hub, wellbeing_caseload):
    client.force_login(hub.researcher)
    response = client.get(reverse("evaluation:benchmarking"),
                          {"start": "2025-01-01", "end": "2026-01-01"})  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-table="headlines"' in page
    assert "Southgate Wellbeing" in page
    assert "funnel-data" in page
    assert "Not in this plot, with no episodes that these rates are worked out from" in page
    assert AuditEvent.objects.filter(action="evaluation.benchmark.viewed").count() == 1


@pytest.mark.django_db(transaction=True, databases=["default", "reports"])
def test_reports_read_through_the_reports_alias(client, hub):
    """No shared connection here: the page reads through the alias itself (a mirror)."""
    for student in students(hub, 8):
        add_referral(hub, student, hub.wellbeing, dt.date(2025, 3, 3), first=5)
    client.force_login(hub.service_manager)
    response = client.get(URL, query(hub))
    table = next(t for t in response.context["report"]["tables"] if t["key"] == "activity")
    assert table["rows"][0]["values"] == ["10"]


@pytest.mark.parametrize("name", ["report-csv", "report-pdf"])
def test_a_download_with_bad_parameters_says_why_and_is_not_audited(client, hub, name):
    client.force_login(hub.service_manager)
    response = client.get(reverse(f"evaluation:{name}"), query(hub) | {"start": "not a date"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    # Corrected and sent again, the form shows the report rather than downloading it.
    assert f'<form method="get" action="{reverse("evaluation:report")}"' in (
        response.content.decode()
    )
    assert not AuditEvent.objects.filter(action__startswith="evaluation.report").exists()


@pytest.mark.parametrize(
    "name", ["report", "report-csv", "report-pdf", "benchmarking", "saved-report-create"]
)
def test_every_entry_point_refuses_more_than_ten_years_and_audits_nothing(client, hub, name):
    """The report page, its downloads, benchmarking and saving a snapshot read the period
    through one form, so each refuses the same period with the same message."""
    client.force_login(hub.researcher)
    url = reverse(f"evaluation:{name}")
    params = query(hub) | {"start": "2000-01-01"}
    if name == "saved-report-create":
        response = client.post(url + "?" + urlencode(params, doseq=True), {"title": "All of it"})
    else:
        response = client.get(url, params)
    assert response.status_code == 400
    assert "A report can cover at most ten years." in response.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="evaluation.").exists()
    assert not SavedReport.objects.exists()


@pytest.mark.parametrize(
    "name", ["report", "report-csv", "report-pdf", "benchmarking", "saved-report-create"]
)
def test_every_entry_point_refuses_a_period_that_has_not_begun(client, hub, name, reports_alias):
    client.force_login(hub.researcher)
    url = reverse(f"evaluation:{name}")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    params = query(hub) | {"start": tomorrow.isoformat(),
                           "end": (tomorrow + dt.timedelta(days=30)).isoformat()}  # fmt: skip
    if name == "saved-report-create":
        response = client.post(url + "?" + urlencode(params, doseq=True), {"title": "Next month"})
    else:
        response = client.get(url, params)
    assert response.status_code == 400
    assert "This period has not begun: choose a start on or before today." in (
        response.content.decode()
    )
    assert not AuditEvent.objects.filter(action__startswith="evaluation.").exists()
    today = {"start": timezone.localdate().isoformat(), "end": tomorrow.isoformat()}
    assert client.get(reverse("evaluation:report"), query(hub) | today).status_code == 200


def test_benchmarking_explains_a_bad_period(client, hub):
    client.force_login(hub.researcher)
    url = reverse("evaluation:benchmarking")
    response = client.get(url, {"start": "2026-01-01", "end": "2025-01-01"})
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert not AuditEvent.objects.filter(action="evaluation.benchmark.viewed").exists()


def test_a_download_is_named_by_what_it_covers():
    from joinedup.evaluation.report_views import report_filename

    built = {"parameters": {"start": "2025-01-01", "end": "2026-01-01", "breakdown": ""},
             "services": [{"name": "Wellbeing"}, {"name": "Counselling"}, {"name": "Crisis"}],
             "breakdown_label": ""}  # fmt: skip
    assert report_filename(built) == "service-report-3-services-2025-01-01-to-2025-12-31"
    built["parameters"]["breakdown"], built["breakdown_label"] = "age_band", "Age band"
    assert report_filename(built, "saved-report") == (
        "saved-report-3-services-by-age-band-2025-01-01-to-2025-12-31"
    )
