"""Factories for the people tests: a student with one row of every kind that names a student,
built through the services where there is one."""

import datetime as dt

from django.utils import timezone

from joinedup.consent.models import BreakGlass
from joinedup.consent.services import ask_to_share, open_care_relationship, record_consent
from joinedup.feedback.models import AdvisoryGroup, Draft, DraftComment, Feedback
from joinedup.measures.services import record_administration
from joinedup.messaging.models import Message
from joinedup.people.services import notify_student
from joinedup.record.tests.factories import write_entry
from joinedup.referrals import services as referrals
from joinedup.referrals.models import Appointment, FollowUpTask, GapItem
from joinedup.reminders.models import Reminder, ReminderPreference
from joinedup.risk import panels
from joinedup.risk import services as risk
from joinedup.risk.models import Concern

PHQ9_LOW = [0, 1, 0, 1, 0, 0, 1, 0, 0]


def plant_everything(hub, student, *, service=None, author=None, tag: str = "") -> dict:
    """One row of each kind naming `student`, written by `service` (Wellbeing): what a merge
    must move. Returns them by the merge's relation key."""
    service, author = service or hub.wellbeing, author or hub.practitioner
    now, today = timezone.now(), timezone.localdate()
    rows: dict = {}
    referral = referrals.create_referral(
        actor=author, student=student, to_service=service, source="self", reason=f"Low {tag}"
    )
    referral = referrals.accept_referral(actor=author, referral=referral, version=referral.version)
    rows["referrals.Referral.student"] = referral
    rows["referrals.Episode.student"] = referral.episode
    rows["consent.CareRelationship.student"] = referral.episode.relationship
    rows["record.RecordEntry.student"] = write_entry(
        student, "assessment", service, author, title=f"Assessment {tag}"
    )
    rows["measures.Administration.student"] = record_administration(
        actor=author, student=student, service=service, code="PHQ-9", answers=PHQ9_LOW,
        method="in_session", episode=referral.episode, session_number=1,
    )  # fmt: skip
    rows["risk.RiskAssessment.student"] = risk.record_assessment(
        actor=author, student=student, service=service, domain_levels={"self": 1},
        factors=f"Factors {tag}", plan="Plan", review_on=today + dt.timedelta(days=14),
    )  # fmt: skip
    rows["risk.Flag.student"] = risk.raise_flag(
        student=student, service=service, level=risk.level_of_rank(2), source="practitioner",
        reason=f"Flag {tag}", actor=author,
    )  # fmt: skip
    rows["risk.SafetyPlan.student"] = risk.save_safety_plan(
        actor=author, student=student, service=service, warning_signs=f"Signs {tag}"
    )
    rows["risk.ReturnToStudyPlan.student"] = risk.save_return_plan(
        actor=author, student=student, nhs_service=hub.crisis, university_service=hub.wellbeing,
        support_agreed="Support", who_does_what="Who", adjustments="", fit_to_study="agreed",
        review_on=today + dt.timedelta(days=14), nhs_view="", university_view="",
    )  # fmt: skip
    rows["risk.Concern.student"] = Concern.objects.create(
        student=student, student_number_given=student.student_number, service=service,
        urgency="soon", student_knows="yes", student_agreed=True, raised_at=now,
        due_at=now + dt.timedelta(days=1), reporter=hub.academic, observed=f"Concern {tag}",
    )  # fmt: skip
    panel = panels.schedule_panel(
        actor=author, title=f"Panel {tag}", meets_at=now + dt.timedelta(days=2)
    )
    rows["risk.PanelCase.student"] = panels.add_case(
        actor=author, panel=panel, student_number=student.student_number, summary="Summary"
    )
    rows["consent.ConsentGrant.student"] = record_consent(
        actor=author, student=student, category="outcomes", purpose="direct_care",
        how_given="in_person", recipient_service=hub.crisis,
    )  # fmt: skip
    rows["consent.SharingRequest.student"] = ask_to_share(
        actor=author, student=student, category="risk"
    )
    rows["consent.BreakGlass.student"] = BreakGlass.objects.create(
        user=hub.crisis_practitioner, organisation=hub.trust, student=student,
        reason="Risk to life: overdose",
        opened_at=now - dt.timedelta(days=30), expires_at=now - dt.timedelta(days=29),
    )  # fmt: skip
    rows["referrals.FollowUpTask.student"] = FollowUpTask.objects.create(
        student=student, service=service, referral=referral, reason=f"Follow up {tag}",
        due_at=now + dt.timedelta(days=3),
    )  # fmt: skip
    rows["referrals.GapItem.student"] = GapItem.objects.create(
        rule="waiting_with_risk", key=f"merge:{referral.pk}", student=student, service=service,
        referral=referral, detail=f"Gap {tag}",
    )  # fmt: skip
    rows["feedback.Feedback.student"] = Feedback.objects.create(
        service=service, student=student, episode=referral.episode,
        given_in=today.replace(day=1), overall=4, comment=f"Feedback {tag}",
    )  # fmt: skip
    group, _created = AdvisoryGroup.objects.get_or_create(
        organisation=hub.university, service=service, name="Student panel",
        defaults={"purpose": "Shapes the service."},
    )  # fmt: skip
    group.members.add(student)
    rows["feedback.AdvisoryGroup_members.student"] = group
    draft = Draft.objects.create(
        group=group, title=f"Draft {tag}", body="A proposal.",
        comments_close_on=today + dt.timedelta(days=10),
    )  # fmt: skip
    rows["feedback.DraftComment.student"] = DraftComment.objects.create(
        draft=draft, student=student, text=f"Comment {tag}"
    )
    appointment = Appointment.objects.create(
        episode=referral.episode, clinician=author, starts_at=now + dt.timedelta(days=2),
        kind="treatment", recorded_by=author,
    )  # fmt: skip
    rows["reminders.Reminder.student"] = Reminder.objects.create(
        student=student, appointment=appointment, for_starts_at=appointment.starts_at,
        channel="email", status="sent",
    )  # fmt: skip
    rows["messaging.Message.student"] = Message.objects.create(
        student=student, service=service, from_student=False, author=author, body=f"Hello {tag}"
    )
    rows["reminders.ReminderPreference.student"] = ReminderPreference.objects.create(
        student=student, channel="email"
    )
    notify_student(student, f"Hello {tag}")
    rows["people.Notification.student"] = student.notifications.get(text=f"Hello {tag}")
    return rows


def in_care(student, service) -> None:
    open_care_relationship(student=student, service=service, reason="episode")
