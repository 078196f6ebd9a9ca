"""Risk assessments, flags, acknowledgement and escalation."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.risk import services
from joinedup.risk.models import Escalation, Flag
from joinedup.risk.selectors import current_levels


def assess(hub, **changes):
    values = {
        "actor": hub.practitioner,
        "student": hub.student,
        "service": hub.wellbeing,
        "domain_levels": {"self": 2, "academic": 3},
        "factors": "Low mood; exams.",
        "plan": "Weekly sessions; safety plan.",
        "review_on": timezone.localdate(),
    } | changes
    return services.record_assessment(**values)


def test_an_assessments_level_is_its_highest_domain(hub):
    assessment = assess(hub)
    assert assessment.level.name == "High"
    assert assessment.domain_levels == {"self": 2, "academic": 3}
    assert AuditEvent.objects.filter(action="risk.assessment.recorded", category="risk").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"domain_levels": {}}, "domain_levels", "Rate at least one domain."),
        ({"domain_levels": {"self": 9}}, "domain_levels", "Choose a level"),
        ({"domain_levels": {"mood": 2}}, "domain_levels", "Unknown domains: mood."),
        ({"factors": " "}, "factors", "Describe the risk factors."),
        ({"plan": ""}, "plan", "Write the plan."),
        ({"review_on": dt.date(2020, 1, 1)}, "review_on", "today or later"),
    ],
)
def test_a_bad_assessment_says_why_and_saves_nothing(hub, changes, field, message):
    with pytest.raises(ValidationError) as refused:
        assess(hub, **changes)
    assert message in " ".join(refused.value.message_dict[field])
    assert current_levels(hub.practitioner, [hub.student.pk]) == {}


def test_the_current_level_uses_the_services_own_word(hub):
    from joinedup.risk.models import RiskLevel, ServiceScale

    ServiceScale.objects.create(
        service=hub.wellbeing, label="Amber", level=RiskLevel.objects.get(rank=3)
    )
    assess(hub)
    assert current_levels(hub.practitioner, [hub.student.pk]) == {
        hub.student.pk: "High — Wellbeing: Amber"
    }


def test_another_services_assessment_needs_consent(hub):
    from joinedup.consent.tests.factories import give_consent

    assess(hub)
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    # Withheld, never absent: the level says who holds it, not what it is.
    assert current_levels(hub.crisis_practitioner, [hub.student.pk]) == {
        hub.student.pk: "Assessed by Wellbeing — not shared with you"
    }
    give_consent(hub, "risk", hub.crisis)
    assert current_levels(hub.crisis_practitioner, [hub.student.pk]) == {hub.student.pk: "High"}


def test_a_newer_assessment_not_shared_is_named_beside_the_older_level_shown(hub):
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    with time_machine.travel(timezone.now() - dt.timedelta(days=30)):
        assess(hub, domain_levels={"self": 1})  # Wellbeing: Low, a month ago
    assess(hub, actor=hub.crisis_practitioner, service=hub.crisis)  # Crisis Team: High, today

    assert current_levels(hub.practitioner, [hub.student.pk]) == {
        hub.student.pk: "Low · assessed since by Crisis Team — not shared with you"
    }
    assert current_levels(hub.crisis_practitioner, [hub.student.pk]) == {hub.student.pk: "High"}


def test_a_flag_needs_a_level_and_a_reason(hub):
    with pytest.raises(ValidationError, match="Choose the flag's level"):
        services.raise_flag(
            student=hub.student,
            service=hub.wellbeing,
            level=None,
            source="practitioner",
            reason="Worried.",
        )
    with pytest.raises(ValidationError, match="Say why"):
        services.raise_flag(
            student=hub.student,
            service=hub.wellbeing,
            source="practitioner",
            level=services.level_of_rank(2),
            reason=" ",
        )
    assert not Flag.objects.exists()


def flag(hub, rank=3):
    return services.raise_flag(
        student=hub.student,
        service=hub.wellbeing,
        actor=hub.practitioner,
        level=services.level_of_rank(rank),
        source="practitioner",
        reason="Said they had a plan.",
    )


def test_only_a_service_in_the_students_care_may_acknowledge(hub):
    raised = flag(hub)
    with pytest.raises(ValidationError, match="Only a service with a care relationship"):
        services.acknowledge_flag(actor=hub.crisis_practitioner, flag=raised)
    services.acknowledge_flag(actor=hub.practitioner, flag=raised)
    raised.refresh_from_db()
    assert raised.acknowledged_by == hub.practitioner
    with pytest.raises(ValidationError, match="already been acknowledged"):
        services.acknowledge_flag(actor=hub.practitioner, flag=raised)


def test_an_unacknowledged_flag_escalates_to_duty_then_manager_once_each(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    open_care_relationship(student=hub.student, service=hub.talking, reason="referral")
    raised = flag(hub)
    with time_machine.travel(raised.raised_at + dt.timedelta(hours=23)):
        assert services.escalate_flags() == []
    with time_machine.travel(raised.raised_at + dt.timedelta(hours=25)):
        with django_capture_on_commit_callbacks(execute=True):
            [duty] = services.escalate_flags()
        assert services.escalate_flags() == []
    # Talking Therapies has a duty (triage) worker; Wellbeing has none, so its practitioner.
    assert duty.sent_to == [hub.triage.email]
    assert mailoutbox[-1].to == [hub.triage.email]
    assert "Escalation" in mailoutbox[-1].subject
    with time_machine.travel(raised.raised_at + dt.timedelta(hours=49)):
        [manager] = services.escalate_flags()
    assert manager.sent_to == [hub.service_manager.email]
    assert list(Escalation.objects.values_list("stage", flat=True)) == [1, 2]
    assert AuditEvent.objects.filter(action="risk.flag.escalated").count() == 2


def test_an_acknowledged_flag_never_escalates(hub):
    raised = flag(hub)
    services.acknowledge_flag(actor=hub.practitioner, flag=raised)
    with time_machine.travel(raised.raised_at + dt.timedelta(days=5)):
        assert services.escalate_flags() == []


def test_a_crisis_contact_raises_a_high_flag(hub):
    from joinedup.referrals.services import record_crisis_contact

    record_crisis_contact(
        actor=hub.crisis_practitioner, student=hub.student, service=hub.crisis, note="Seen at A&E."
    )
    raised = Flag.objects.get()
    assert (raised.source, raised.level.name, raised.service) == (
        "crisis_contact",
        "High",
        hub.crisis,
    )


def test_the_escalation_command_moves_overdue_flags(hub, capsys):
    from django.core.management import call_command

    raised = flag(hub)
    with time_machine.travel(raised.raised_at + dt.timedelta(hours=25)):
        call_command("escalate_flags")
    assert "Escalated 1 flags." in capsys.readouterr().out
    assert Escalation.objects.get().stage == 1


def test_the_risk_page_says_who_holds_what_it_withholds_never_no_flags(hub, client):
    from django.urls import reverse

    from joinedup.risk.levels import ensure_default_levels
    from joinedup.risk.models import RiskLevel

    ensure_default_levels()
    assess(hub)
    services.raise_flag(
        student=hub.student, service=hub.wellbeing, level=RiskLevel.objects.get(name="High"),
        source="clinician", reason="[wellbeing-reason] Said they had a plan.",
        actor=hub.practitioner,
    )  # fmt: skip
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    client.force_login(hub.crisis_practitioner)

    page = client.get(reverse("risk:student-risk", args=[hub.student.uuid])).content.decode()

    assert "Current level: <strong>Assessed by Wellbeing — not shared with you" in page
    assert "Risk: held by Wellbeing — not shared with you." in page
    assert "the reason is not shared with you" in page
    assert "[wellbeing-reason]" not in page
    assert "Low mood; exams." not in page
    assert "No flags." not in page
