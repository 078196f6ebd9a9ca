"""Saved reports: frozen snapshots of a service report, with the parameters that made them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.urls import reverse

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.evaluation import reports
from joinedup.evaluation.models import SavedReport
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.evaluation.services import save_report
from joinedup.people.models import Role
from joinedup.referrals.models import Referral

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


@pytest.fixture(autouse=True)
def reports_alias(db):
    """Reports read through the `reports` alias, which mirrors default in tests: share
    default's connection (and so this test's open transaction) while the test runs."""
    original = connections["reports"]
    connections["reports"] = connections["default"]
    yield
    connections["reports"] = original


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
        ({"start": "not a date"}, "missing or not valid"),
        ({"end": "2024-01-01"}, "The end of the period must be after its start."),
        ({"service": []}, "Choose at least one service."),
        ({"breakdown": "shoe_size"}, "Unknown breakdown"),
    ],
)
def test_bad_parameters_are_explained_and_nothing_is_saved(client, hub, query, message):
    client.force_login(hub.service_manager)
    response = client.post(
        reverse("evaluation:saved-report-create") + "?" + _urlencode(_query(hub, **query)),
        {"title": "Anything"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SavedReport.objects.exists()


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
