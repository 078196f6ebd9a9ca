"""Evaluation projects: planned, conducted, reported and shared, stage by stage."""

import datetime as dt

import pytest
from django.urls import reverse

from conftest import make_staff
from joinedup.evaluation.models import EvaluationProject, SavedReport
from joinedup.people.models import Role

PLAN = {
    "title": "Does group CBT help first-year students?",
    "question": "Do first-year students who join group CBT recover as often as those seen alone?",
    "design": "before_after",
    "involved": "Wellbeing team, Talking Therapies partner",
    "student_involvement": "The student advisory group chose the question and reads the draft.",
    "starts_on": "2025-09-01",
    "ends_on": "2026-06-30",
}


def _start(client, **changes):
    return client.post(reverse("evaluation:project-create"), PLAN | changes)


@pytest.fixture
def project(client, hub):
    client.force_login(hub.service_manager)
    _start(client)
    return EvaluationProject.objects.get()


def _snapshot(hub, user, service, title):
    """A snapshot as saved (its figures do not matter here)."""
    return SavedReport.objects.create(
        organisation=hub.university, title=title, figures={}, saved_by=user,
        parameters={"start": "2025-01-01", "end": "2026-01-01", "service_ids": [service.pk],
                    "breakdown": "", "services": [service.name]},
    )  # fmt: skip


def _edit(client, project, stage, data):
    return client.post(reverse("evaluation:project-edit", args=[project.uuid, stage]), data)


def test_a_service_manager_plans_an_evaluation(client, hub):
    client.force_login(hub.service_manager)
    assert client.get(reverse("evaluation:project-create")).status_code == 200
    response = _start(client)
    project = EvaluationProject.objects.get()
    assert response.url == reverse("evaluation:project-detail", args=[project.uuid])
    assert project.organisation == hub.university
    assert project.created_by == project.updated_by == hub.service_manager
    assert project.starts_on == dt.date(2025, 9, 1)
    assert project.student_involvement.startswith("The student advisory group")


def test_each_stage_is_recorded_and_shown(client, hub, project):
    snapshot = _snapshot(hub, hub.service_manager, hub.wellbeing, "Wellbeing 2025")
    client.force_login(hub.researcher)
    _edit(client, project, "conduct", {"data_used": "PHQ-9 and GAD-7 at every session",
                                       "saved_reports": [snapshot.pk]})  # fmt: skip
    _edit(client, project, "report", {
        "findings": "Recovery was similar in both groups.",
        "what_works": "Groups reach more students sooner.",
        "what_could_improve": "Fewer students finished the group.",
        "recommendations": "Offer both, and follow up after missed sessions.",
    })  # fmt: skip
    _edit(client, project, "share", {"shared_with": "Student advisory group; SMaRteN network",
                                     "shared_on": "2026-07-15"})  # fmt: skip
    project.refresh_from_db()
    assert list(project.saved_reports.all()) == [snapshot]
    assert project.shared_on == dt.date(2026, 7, 15)
    assert project.created_by == hub.service_manager
    assert project.updated_by == hub.researcher
    page = client.get(reverse("evaluation:project-detail", args=[project.uuid])).content.decode()
    for text in ("PHQ-9 and GAD-7 at every session", "Wellbeing 2025",
                 "Recovery was similar in both groups.", "Groups reach more students sooner.",
                 "Fewer students finished the group.", "Offer both, and follow up",
                 "SMaRteN network", "15 Jul 2026"):  # fmt: skip
        assert text in page
    listing = client.get(reverse("evaluation:project-list")).content.decode()
    assert PLAN["title"] in listing


def test_changing_the_plan_keeps_the_other_stages(client, project):
    _edit(client, project, "report", {"findings": "Early findings"})
    _edit(client, project, "plan", PLAN | {"title": "Group CBT for first-years"})
    project.refresh_from_db()
    assert project.title == "Group CBT for first-years"
    assert project.findings == "Early findings"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"question": ""}, "Enter evaluation question."),
        ({"ends_on": "2025-08-01"}, "The end of the timescale must not be before its start."),
        ({"starts_on": "1st September"}, "Enter a real date, like 2025-09-01."),
        ({"design": "astrology"}, "Select a valid choice."),
    ],
)
def test_a_bad_plan_is_explained_and_nothing_is_saved(client, hub, changes, message):
    client.force_login(hub.service_manager)
    response = _start(client, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EvaluationProject.objects.exists()


def test_a_bad_share_date_changes_nothing(client, project):
    response = _edit(client, project, "share", {"shared_with": "Board", "shared_on": "soon"})
    assert "Enter a real date" in response.content.decode()
    project.refresh_from_db()
    assert project.shared_with == ""


def test_another_organisations_saved_report_cannot_be_linked(client, hub, project):
    theirs = SavedReport.objects.create(
        organisation=hub.other_university, title="Theirs", parameters={}, figures={},
        saved_by=hub.outsider,
    )  # fmt: skip
    response = _edit(client, project, "conduct", {"data_used": "x", "saved_reports": [theirs.pk]})
    assert "Select a valid choice" in response.content.decode()
    assert not project.saved_reports.exists()


def test_an_unknown_stage_is_not_found(client, project):
    url = reverse("evaluation:project-edit", args=[project.uuid, "publish"])
    assert client.get(url).status_code == 404


def test_another_organisation_cannot_see_or_change_a_project(client, hub, project):
    elsewhere = make_staff(
        "mo@sg.ac.uk", Role.SERVICE_MANAGER, hub.other_university, service=hub.other_wellbeing
    )
    client.force_login(elsewhere)
    assert client.get(reverse("evaluation:project-detail", args=[project.uuid])).status_code == 404
    assert _edit(client, project, "report", {"findings": "Hijacked"}).status_code == 404
    assert PLAN["title"] not in client.get(reverse("evaluation:project-list")).content.decode()
    project.refresh_from_db()
    assert project.findings == ""


@pytest.mark.parametrize("role", ["practitioner", "academic", "org_admin", "student_user"])
def test_other_roles_cannot_reach_projects(client, hub, role):
    client.force_login(getattr(hub, role))
    assert client.get(reverse("evaluation:project-list")).status_code == 403
    assert _start(client).status_code == 403
    assert not EvaluationProject.objects.exists()


def test_a_service_manager_keeps_links_to_snapshots_they_may_not_open(client, hub, project):
    """A researcher links a snapshot of a service the service manager does not report on:
    the manager neither sees it on the project nor drops it by saving the conduct stage."""
    ours = _snapshot(hub, hub.service_manager, hub.wellbeing, "Wellbeing 2025")
    theirs = _snapshot(hub, hub.researcher, hub.talking, "Talking Therapies 2025")
    client.force_login(hub.researcher)
    _edit(client, project, "conduct", {"data_used": "x", "saved_reports": [ours.pk, theirs.pk]})
    assert set(project.saved_reports.all()) == {ours, theirs}

    client.force_login(hub.service_manager)
    page = client.get(reverse("evaluation:project-detail", args=[project.uuid])).content.decode()
    assert "Wellbeing 2025" in page
    assert "Talking Therapies 2025" not in page
    assert "Linked but not shown: 1 snapshot of services you do not report on." in page
    form = client.get(reverse("evaluation:project-edit", args=[project.uuid, "conduct"]))
    assert "Talking Therapies 2025" not in form.content.decode()
    response = _edit(client, project, "conduct", {"data_used": "y", "saved_reports": []})
    assert response.status_code == 302
    assert list(project.saved_reports.all()) == [theirs]
    project.refresh_from_db()
    assert project.data_used == "y"
