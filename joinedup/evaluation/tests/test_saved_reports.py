"""Saved reports: frozen snapshots of a service report, with the parameters that made them."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.evaluation import reports
from joinedup.evaluation.models import SavedReport
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.evaluation.services import save_report
from joinedup.people.models import Role
from joinedup.referrals.models import Referral

pytestmark = pytest.mark.usefixtures("reports_alias")

START, END = dt.date(2025, 1, 1), dt.date(2026, 1, 1)


def _refer(hub, count, first=0):
    for n in range(count):
        student = make_student(hub.university, f"NB3{first + n:06d}")
        Referral.objects.create(
            student=student, source="self", to_service=hub.wellbeing, state="sent",
            reason="Low mood", created_by=hub.practitioner,
            sent_at=dt.datetime(2025, 3, 1 + n, 12, tzinfo=dt.UTC),
        )  # fmt: skip


def _referrals_shown(figures) -> str:
    activity = next(t for t in figures["tables"] if t["key"] == "activity")
    return next(r for r in activity["rows"] if r["label"] == "Referrals")["values"][0]


def _query(hub, **extra):
    return {
        "start": START.isoformat(),
        "end": END.isoformat(),
        "service": [hub.wellbeing.pk],
    } | extra


@pytest.fixture
def referred(hub):
    _refer(hub, 10)


def test_saving_freezes_the_figures_and_the_parameters(client, hub, referred):
    client.force_login(hub.service_manager)
    url = reverse("evaluation:saved-report-create")
    query = f"?start=2025-01-01&end=2026-01-01&service={hub.wellbeing.pk}"
    assert client.get(url + query).status_code == 200
    response = client.post(url + query, {"title": "Wellbeing 2025"})
    report = SavedReport.objects.get()
    assert response.url == reverse("evaluation:saved-report-detail", args=[report.uuid])
    assert report.title == "Wellbeing 2025"
    assert report.saved_by == hub.service_manager
    assert report.organisation == hub.university
    assert report.parameters == {
        "start": "2025-01-01",
        "end": "2026-01-01",
        "service_ids": [hub.wellbeing.pk],
        "breakdown": "",
        "services": ["Wellbeing"],
    }
    expected = build_report(ReportParameters(START, END, (hub.wellbeing.pk,)))
    assert report.figures == expected
    assert _referrals_shown(report.figures) == "10"
    event = AuditEvent.objects.get(action="evaluation.report.saved")
    assert event.actor == hub.service_manager


def test_reopening_shows_the_frozen_figures_never_recomputed(client, hub, referred, monkeypatch):
    report = save_report(
        actor=hub.service_manager,
        parameters=ReportParameters(START, END, (hub.wellbeing.pk,)),
        title="Before the new referrals",
    )
    _refer(hub, 10, first=100)
    assert _referrals_shown(build_report(ReportParameters(START, END, (hub.wellbeing.pk,)))) == "20"

    def refuse(*args, **kwargs):
        raise AssertionError("A saved report must not be recomputed.")

    monkeypatch.setattr(reports, "build_report", refuse)
    client.force_login(hub.researcher)
    response = client.get(reverse("evaluation:saved-report-detail", args=[report.uuid]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Before the new referrals" in html
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">10</td>' in html
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">20</td>' not in html
    report.refresh_from_db()
    assert _referrals_shown(report.figures) == "10"


def test_a_breakdown_is_saved_with_its_groups(hub, referred):
    report = save_report(
        actor=hub.researcher,
        parameters=ReportParameters(START, END, (hub.wellbeing.pk,), "gender"),
        title="By gender",
    )
    assert report.parameters["breakdown"] == "gender"
    assert report.figures["groups"][0] == reports.ALL_STUDENTS
    assert len(report.figures["groups"]) > 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "not a date"}, "From: Enter a valid date."),
        ({"end": "2024-01-01"}, "Up to (not including): The end must be after the start."),
        ({"service": []}, "Services: Choose at least one service."),
        ({"breakdown": "shoe_size"}, "shoe_size is not one of the available choices."),
        ({"start": "2015-01-01"}, "Up to (not including): A report can cover at most ten years."),
        ({"service": [0]}, "Services: You may report only on the services listed here"),
        ({"service": ["x"]}, "Services: Choose services from the list."),
    ],
)
def test_bad_parameters_are_explained_and_nothing_is_saved(client, hub, query, message):
    client.force_login(hub.service_manager)
    url = reverse("evaluation:saved-report-create") + "?" + _urlencode(_query(hub, **query))
    for response in (client.get(url), client.post(url, {"title": "Anything"})):
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not SavedReport.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="evaluation.").exists()


def test_a_saved_report_may_not_cover_more_than_the_report_page_allows(client, hub):
    """The longest period the report page accepts (3,660 days) is accepted here too, and a
    day more is refused by both with the same message."""
    client.force_login(hub.service_manager)
    longest = {"start": "2016-01-01", "end": "2026-01-08"}
    too_long = longest | {"end": "2026-01-09"}
    for period, status in ((longest, 200), (too_long, 400)):
        query = "?" + _urlencode(_query(hub, **period))
        report_page = client.get(reverse("evaluation:report") + query)
        save_page = client.get(reverse("evaluation:saved-report-create") + query)
        assert report_page.status_code == save_page.status_code == status
        said = "A report can cover at most ten years."
        assert (said in report_page.content.decode()) is (said in save_page.content.decode())


def _urlencode(query) -> str:
    from urllib.parse import urlencode

    return urlencode(query, doseq=True)


def test_a_snapshot_needs_a_name(client, hub):
    client.force_login(hub.service_manager)
    response = client.post(
        reverse("evaluation:saved-report-create") + "?" + _urlencode(_query(hub)), {"title": ""}
    )
    assert "Give the snapshot a name." in response.content.decode()
    assert not SavedReport.objects.exists()


def test_a_service_manager_cannot_save_another_organisations_services(hub):
    with pytest.raises(ValidationError, match="services you may report on"):
        save_report(
            actor=hub.service_manager,
            parameters=ReportParameters(START, END, (hub.talking.pk,)),
            title="Not mine",
        )
    assert not SavedReport.objects.exists()


@pytest.mark.parametrize("role", ["practitioner", "academic", "org_admin", "student_user"])
def test_other_roles_cannot_save_or_list_reports(client, hub, role):
    client.force_login(getattr(hub, role))
    assert client.get(reverse("evaluation:saved-report-list")).status_code == 403
    url = reverse("evaluation:saved-report-create") + "?" + _urlencode(_query(hub))
    assert client.post(url, {"title": "x"}).status_code == 403
    assert not SavedReport.objects.exists()


def test_another_organisation_cannot_open_a_snapshot(client, hub, referred):
    report = save_report(
        actor=hub.service_manager,
        parameters=ReportParameters(START, END, (hub.wellbeing.pk,)),
        title="Ours",
    )
    elsewhere = make_staff(
        "mo@sg.ac.uk", Role.SERVICE_MANAGER, hub.other_university, service=hub.other_wellbeing
    )
    client.force_login(elsewhere)
    url = reverse("evaluation:saved-report-detail", args=[report.uuid])
    assert client.get(url).status_code == 404
    assert "Ours" not in client.get(reverse("evaluation:saved-report-list")).content.decode()
    client.force_login(hub.researcher)
    assert client.get(url).status_code == 200


def _snapshot(hub, user, *services, title="Snapshot"):
    return save_report(
        actor=user,
        parameters=ReportParameters(START, END, tuple(s.pk for s in services)),
        title=title,
    )


def test_a_service_manager_sees_only_snapshots_of_services_they_report_on(client, hub, referred):
    """A researcher of the same organisation may save a snapshot of any service; its
    service managers see it only when they could run that report themselves."""
    theirs = _snapshot(hub, hub.researcher, hub.talking, title="Talking Therapies 2025")
    mixed = _snapshot(hub, hub.researcher, hub.wellbeing, hub.talking, title="Both 2025")
    ours = _snapshot(hub, hub.researcher, hub.wellbeing, title="Wellbeing 2025")
    client.force_login(hub.service_manager)
    listed = client.get(reverse("evaluation:saved-report-list")).content.decode()
    assert "Wellbeing 2025" in listed
    assert "Talking Therapies 2025" not in listed
    assert "Both 2025" not in listed
    for hidden in (theirs, mixed):
        for name in ("saved-report-detail", "saved-report-csv", "saved-report-pdf"):
            url = reverse(f"evaluation:{name}", args=[hidden.uuid])
            assert client.get(url).status_code == 404
    assert (
        client.get(reverse("evaluation:saved-report-detail", args=[ours.uuid])).status_code == 200
    )
    assert (
        not AuditEvent.objects.filter(reason__contains=str(theirs.uuid))
        .exclude(action="evaluation.report.saved")
        .exists()
    )
    client.force_login(hub.researcher)
    listed = client.get(reverse("evaluation:saved-report-list")).content.decode()
    assert all(
        title in listed for title in ("Wellbeing 2025", "Talking Therapies 2025", "Both 2025")
    )


def test_opening_a_snapshot_is_audited(client, hub, referred):
    report = _snapshot(hub, hub.service_manager, hub.wellbeing, title="Wellbeing 2025")
    client.force_login(hub.researcher)
    assert (
        client.get(reverse("evaluation:saved-report-detail", args=[report.uuid])).status_code == 200
    )
    event = AuditEvent.objects.get(action="evaluation.saved_report.viewed")
    assert event.actor == hub.researcher
    assert event.actor_role == "researcher"
    assert event.student is None
    assert str(report.uuid) in event.reason
    assert "Wellbeing 2025" in event.reason
    assert "2025-01-01 to 2026-01-01 (not including); services: Wellbeing" in event.reason


def test_the_snapshot_draws_the_live_reports_charts_from_its_frozen_figures(
    client, hub, referred, monkeypatch
):
    report = _snapshot(hub, hub.service_manager, hub.wellbeing, title="Before")
    _refer(hub, 10, first=100)
    monkeypatch.setattr(reports, "build_report", _refuse_to_recompute)
    client.force_login(hub.service_manager)
    response = client.get(reverse("evaluation:saved-report-detail", args=[report.uuid]))
    html = response.content.decode()
    assert 'canvas data-chart="waiting" data-source="report-charts" role="img"' in html
    assert "evaluation/charts.js" in html
    embedded = re.search(r'<script id="report-charts" type="application/json">(.*?)</script>', html)
    assert json.loads(embedded.group(1)) == report.figures["charts"]
    # beside each chart, its data table
    assert 'data-table="wait-bands"' in html


def _refuse_to_recompute(*args, **kwargs):
    raise AssertionError("A saved report must not be recomputed.")


def test_a_snapshot_downloads_as_csv_from_its_frozen_figures(client, hub, referred, monkeypatch):
    report = _snapshot(hub, hub.service_manager, hub.wellbeing, title="Before")
    _refer(hub, 10, first=100)
    monkeypatch.setattr(reports, "build_report", _refuse_to_recompute)
    client.force_login(hub.service_manager)
    response = client.get(reverse("evaluation:saved-report-csv", args=[report.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="saved-report-wellbeing-2025-01-01-to-2025-12-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == reports.csv_rows(report.figures)
    assert ["Activity", "Referrals received", "Referrals", "All students", "10", "10", ""] in rows
    event = AuditEvent.objects.get(action="evaluation.saved_report.exported_csv")
    assert event.actor == hub.service_manager
    assert str(report.uuid) in event.reason


def test_a_snapshot_downloads_as_pdf_from_its_frozen_figures(client, hub, referred, monkeypatch):
    import weasyprint

    report = _snapshot(hub, hub.service_manager, hub.wellbeing, title="Before")
    _refer(hub, 10, first=100)
    monkeypatch.setattr(reports, "build_report", _refuse_to_recompute)
    drawn = []
    real_html = weasyprint.HTML

    def recording_html(*args, string, **kwargs):
        drawn.append(string)
        return real_html(*args, string=string, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", recording_html)
    client.force_login(hub.researcher)
    response = client.get(reverse("evaluation:saved-report-pdf", args=[report.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "saved-report-wellbeing-2025-01-01-to-2025-12-31.pdf" in response["Content-Disposition"]
    (html,) = drawn
    assert "Saved report snapshot “Before”" in html
    assert "<th>Referrals</th><td>10</td>" in html
    assert "<td>20</td>" not in html
    event = AuditEvent.objects.get(action="evaluation.saved_report.exported_pdf")
    assert event.actor == hub.researcher
