"""Case review panels: the visibility window, attendance, decisions and tracked actions."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.tests.factories import give_consent
from joinedup.risk import panels, rules
from joinedup.risk.models import PanelAction

MEETS = dt.datetime(2026, 3, 2, 14, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "closed", "member", "visible"),
    [
        (MEETS - dt.timedelta(days=3), None, True, True),  # on the agenda before the meeting
        (MEETS + dt.timedelta(hours=23), None, True, True),
        (MEETS + dt.timedelta(hours=25), None, True, False),  # a day after the meeting
        (MEETS + dt.timedelta(hours=2), MEETS + dt.timedelta(hours=1), True, False),  # closed
        (MEETS, None, False, False),
    ],  # not a member
)
def test_a_case_is_visible_to_members_only_inside_the_window(now, closed, member, visible):
    added = MEETS - dt.timedelta(days=5)
    assert (
        rules.case_visible(now, is_member=member, added_at=added, meets_at=MEETS, closed_at=closed)
        is visible
    )


@pytest.fixture
def panel(hub):
    panel = panels.schedule_panel(
        actor=hub.practitioner,
        title="Northbridge complex cases",
        meets_at=timezone.now() + dt.timedelta(days=2),
    )
    panels.invite(actor=hub.practitioner, panel=panel, email=hub.crisis_practitioner.email)
    panels.add_case(
        actor=hub.practitioner,
        panel=panel,
        student_number="NB1000001",
        summary="SUMMARY: exams, low mood, recent A&E attendance.",
    )
    return panel


def test_an_action_needs_an_owner_and_a_due_date(hub, panel):
    with pytest.raises(ValidationError) as refused:
        panels.add_action(
            actor=hub.practitioner, panel=panel, description="Call the GP", owner=None, due_on=None
        )
    assert set(refused.value.message_dict) == {"owner", "due_on"}
    assert not PanelAction.objects.exists()


def test_only_the_owner_completes_an_action(hub, panel):
    action = panels.add_action(
        actor=hub.practitioner,
        panel=panel,
        description="Call the GP",
        owner=hub.crisis_practitioner,
        due_on=timezone.localdate(),
    )
    with pytest.raises(ValidationError, match="Only the action's owner"):
        panels.complete_action(actor=hub.practitioner, action=action)
    panels.complete_action(actor=hub.crisis_practitioner, action=action)
    assert PanelAction.objects.get().completed_at is not None


def test_a_case_needs_a_student_and_a_summary(hub, panel):
    with pytest.raises(ValidationError, match="Say which student"):
        panels.add_case(actor=hub.practitioner, panel=panel, student_number=" ", summary="x")
    with pytest.raises(ValidationError, match="Write why the case"):
        panels.add_case(actor=hub.practitioner, panel=panel, student_number="NB1000001", summary="")
    with pytest.raises(ValidationError, match="already on the agenda"):
        panels.add_case(
            actor=hub.practitioner, panel=panel, student_number="nb1000001", summary="x"
        )


NOT_FOUND = (
    "No student you may see has that number. Check the number, or ask a service that works "
    "with the student to present the case."
)


@pytest.mark.parametrize("number", ["NB1000001", "NB0000000"], ids=["refused", "missing"])
def test_a_case_is_only_for_a_student_the_member_may_read(hub, number):
    """The crisis team has no relationship with the student and no consent."""
    panel = panels.schedule_panel(
        actor=hub.crisis_practitioner, title="Crisis cases", meets_at=timezone.now()
    )
    with pytest.raises(ValidationError) as refused:
        panels.add_case(
            actor=hub.crisis_practitioner, panel=panel, student_number=number, summary="x"
        )
    assert refused.value.messages == [NOT_FOUND]
    assert not panel.cases.exists()
    attempt = AuditEvent.objects.get(action="risk.panel.case_lookup")
    assert (attempt.actor, attempt.allowed, attempt.category) == (
        hub.crisis_practitioner,
        False,
        "identity",
    )
    assert attempt.student == (hub.student if number == "NB1000001" else None)


def test_a_missing_student_and_a_refused_one_give_the_same_page(hub, client):
    panel = panels.schedule_panel(
        actor=hub.crisis_practitioner, title="Crisis cases", meets_at=timezone.now()
    )
    client.force_login(hub.crisis_practitioner)
    step = reverse("risk:panel-step", args=[panel.uuid, "case"])
    answers = [
        client.post(step, {"student_number": number, "summary": "Seen in A&E twice."}, follow=True)
        for number in ("NB1000001", "NB0000000")
    ]
    refused, missing = ((r.status_code, r.redirect_chain, _page(r)) for r in answers)
    assert refused == missing
    assert NOT_FOUND in refused[2]
    assert hub.student.display_name not in refused[2]
    assert not panel.cases.exists()
    refusals = AuditEvent.objects.filter(action="risk.panel.case_lookup", allowed=False)
    assert refusals.count() == 2


def test_a_member_who_may_read_the_student_puts_them_on_the_agenda(hub):
    from conftest import make_student

    make_student(hub.other_university, "NB1000001")  # the same number elsewhere
    panel = panels.schedule_panel(
        actor=hub.practitioner, title="Wellbeing cases", meets_at=timezone.now()
    )
    case = panels.add_case(
        actor=hub.practitioner, panel=panel, student_number=" nb1000001 ", summary="Exams."
    )
    assert case.student == hub.student
    assert AuditEvent.objects.filter(
        action="risk.panel.case_added", student=hub.student, actor=hub.practitioner
    ).exists()


def _page(response) -> str:
    """The page without what changes from one request to the next."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_a_member_from_another_service_sees_the_summary_only_with_consent(hub, panel, client):
    client.force_login(hub.crisis_practitioner)
    url = reverse("risk:panel-detail", args=[panel.uuid])
    html = client.get(url).content.decode()
    assert "SUMMARY" not in html
    assert "not shared with your service: no consent" in html
    give_consent(hub, "assessment", hub.crisis)
    give_consent(hub, "identity", hub.crisis)
    html = client.get(url).content.decode()
    assert "SUMMARY: exams" in html
    assert AuditEvent.objects.filter(
        action="risk.panel.case_read", actor=hub.crisis_practitioner
    ).exists()


def test_after_the_window_the_case_is_hidden(hub, panel):
    later = panel.meets_at + dt.timedelta(hours=25)
    [view] = panels.cases_for(hub.practitioner, panel, now=later)
    assert (view.visible, view.identity, view.assessment) == (False, None, None)
    [view] = panels.cases_for(hub.practitioner, panel)
    assert view.visible
    assert view.summary_shown


def test_people_not_on_the_panel_cannot_open_it(hub, panel, client):
    client.force_login(hub.outsider)
    assert client.get(reverse("risk:panel-detail", args=[panel.uuid])).status_code == 404


def test_attendance_decisions_and_actions_from_the_page(hub, panel, client):
    client.force_login(hub.practitioner)
    step = lambda name: reverse("risk:panel-step", args=[panel.uuid, name])  # noqa: E731
    member = panel.members.get(user=hub.crisis_practitioner)
    client.post(step("attendance"), {"attended": [member.pk]})
    member.refresh_from_db()
    assert member.attended is True
    case = panel.cases.get()
    client.post(step("decision"), {"case": case.uuid, "decision": "Joint plan; review in 4 weeks."})
    case.refresh_from_db()
    assert case.decision == "Joint plan; review in 4 weeks."
    response = client.post(step("action"), {"description": "Call the GP"})
    assert response.status_code == 400
    assert "Every action needs an owner." in response.content.decode()
    client.post(
        step("action"),
        {
            "description": "Call the GP",
            "owner": hub.practitioner.pk,
            "due_on": "2020-01-01",
        },
    )
    html = client.get(reverse("risk:panels")).content.decode()
    assert "Call the GP" in html
    assert "Overdue" in html
