"""Access ends when its reason ends, at the moment it ends: each reason for a service's
relationship with a student closes with its own event, and the policy stops at once."""

import datetime as dt

import time_machine
from django.utils import timezone

from conftest import make_student
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import decide, readable_students
from joinedup.referrals import services as referrals
from joinedup.referrals.tests.factories import refer
from joinedup.risk import concerns


def test_a_concern_gives_access_until_its_outcome_and_not_a_moment_longer(hub):
    student = make_student(hub.university, "NB3000001", department=hub.history)
    raised_at = timezone.now() - dt.timedelta(days=10)
    with time_machine.travel(raised_at, tick=False):
        concern, _code = concerns.raise_concern(
            reporter=hub.academic, student=student, observed="Missed every seminar.",
            urgency="soon", student_knows="yes", student_agreed=True,
        )  # fmt: skip
    closed_at = raised_at + dt.timedelta(days=3)
    with time_machine.travel(closed_at - dt.timedelta(seconds=1), tick=False):
        assert decide(hub.practitioner, student, "identity").basis == "relationship"
    with time_machine.travel(closed_at, tick=False):
        concerns.record_concern_outcome(
            actor=hub.practitioner, concern=concern, outcome="no_action"
        )
        assert not decide(hub.practitioner, student, "identity").allowed

    ended = CareRelationship.objects.get(student=student, service=hub.wellbeing)
    assert (ended.opened_at, ended.closed_at, ended.ended_because) == (
        raised_at,
        closed_at,
        "concern_closed",
    )
    with time_machine.travel(closed_at + dt.timedelta(days=30)):
        assert not readable_students(hub.practitioner, "identity").filter(pk=student.pk).exists()


def test_a_second_open_reason_keeps_access_when_the_first_ends(hub):
    """Wellbeing holds the hub student by an episode; a concern about them, closed, does
    not end the episode's access."""
    concern, _code = concerns.raise_concern(
        reporter=hub.academic, student=hub.student, observed="Seemed low.",
        urgency="routine", student_knows="no", student_agreed=False,
    )  # fmt: skip
    concerns.record_concern_outcome(actor=hub.practitioner, concern=concern, outcome="no_action")

    assert decide(hub.practitioner, hub.student, "identity").basis == "relationship"
    reasons = dict(
        CareRelationship.objects.filter(student=hub.student, service=hub.wellbeing).values_list(
            "reason", "ended_because"
        )
    )
    assert reasons == {"episode": "", "concern": "concern_closed"}


def test_a_declined_referral_ends_the_receivers_access_at_that_moment(hub):
    with time_machine.travel(timezone.now() - dt.timedelta(days=5), tick=False):
        referral = refer(hub)
    declined_at = timezone.now() - dt.timedelta(days=2)
    with time_machine.travel(declined_at, tick=False):
        assert decide(hub.triage, hub.student, "registration").allowed
        referrals.decline_referral(
            actor=hub.triage, referral=referral, version=referral.version, reason="lower"
        )
        assert not decide(hub.triage, hub.student, "registration").allowed
    ended = CareRelationship.objects.get(student=hub.student, service=hub.talking)
    assert (ended.closed_at, ended.ended_because) == (declined_at, "declined")


def test_a_service_that_no_longer_works_with_the_student_acts_no_more(hub, client):
    import pytest
    from django.core.exceptions import ValidationError
    from django.urls import reverse

    from joinedup.consent.services import ask_to_share
    from joinedup.consent.tests.factories import give_consent
    from joinedup.referrals.services import create_referral

    referral = refer(hub)
    referrals.decline_referral(
        actor=hub.triage, referral=referral, version=referral.version, reason="lower"
    )
    assert decide(hub.triage, hub.student, "identity").basis == "authored"

    no_longer = "Your service no longer works with the student"
    with pytest.raises(ValidationError, match=no_longer):
        give_consent(hub, "risk", hub.talking, actor=hub.triage)
    with pytest.raises(ValidationError, match=no_longer):
        ask_to_share(actor=hub.triage, student=hub.student, category="risk")
    with pytest.raises(ValidationError, match=no_longer):
        create_referral(
            actor=hub.triage, student=hub.student, from_service=hub.talking,
            to_service=hub.crisis, source="service", reason="Onward.",
        )  # fmt: skip
    client.force_login(hub.triage)
    page = client.get(reverse("record:student-detail", args=[hub.student.uuid])).content.decode()
    for button in ("Record a consent", "Refer</a>", "Ask the student to share"):
        assert button not in page
    assert "You see the student's names and student number only." in page
