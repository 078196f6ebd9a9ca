"""Referral services: sending, deciding, discharging, appointments, follow-ups and conflicts."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import decide
from joinedup.consent.services import open_care_relationship, withdraw_consent
from joinedup.consent.tests.factories import give_consent
from joinedup.record.models import RecordEntry
from joinedup.referrals import services
from joinedup.referrals.models import DirectoryEntry, FollowUpTask, Referral
from joinedup.referrals.tests.factories import refer


def relationship_open(student, service) -> bool:
    return CareRelationship.objects.open().filter(student=student, service=service).exists()


def assessment(hub):
    return RecordEntry.objects.create(
        student=hub.student,
        category="assessment",
        service=hub.wellbeing,
        author=hub.practitioner,
        title="Shared assessment",
        body="The story, told once.",
    )


def test_sending_opens_a_relationship_for_the_receiver_and_emails_them(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = refer(hub)
    assert referral.state == "sent"
    assert referral.sent_at is not None
    assert relationship_open(hub.student, hub.talking)
    assert decide(hub.triage, hub.student, "identity").allowed
    assert [m.to for m in mailoutbox] == [[hub.triage.email]]
    assert "Talking Therapies" in mailoutbox[0].subject
    assert hub.student.preferred_name not in mailoutbox[0].body
    assert "Low mood" not in mailoutbox[0].body


def test_a_draft_opens_nothing_until_sent(hub):
    referral = refer(hub, send=False)
    assert referral.state == "draft"
    assert not relationship_open(hub.student, hub.talking)
    services.send_referral(actor=hub.practitioner, referral=referral, version=referral.version)
    assert relationship_open(hub.student, hub.talking)


def test_a_service_that_does_not_take_the_kind_of_referral_refuses_it(hub):
    DirectoryEntry.objects.create(
        service=hub.talking,
        purpose="Therapy",
        who_for="Adults",
        accepts_referrals_from=["self", "gp"],
    )
    with pytest.raises(ValidationError) as refused:
        refer(hub)
    assert refused.value.message_dict == {
        "to_service": ["Talking Therapies does not take referrals from other services."]
    }
    assert not Referral.objects.exists()


def test_a_referral_needs_a_reason_and_another_service(hub):
    with pytest.raises(ValidationError, match="Say why"):
        refer(hub, reason=" ")
    with pytest.raises(ValidationError, match="cannot refer to itself"):
        refer(hub, to=hub.wellbeing)
    assert not Referral.objects.exists()


def test_the_assessment_travels_only_with_consent(hub):
    assessment(hub)
    with pytest.raises(ValidationError, match="has not agreed to share their assessment"):
        refer(hub, carry_assessment=True)
    assert not Referral.objects.exists()
    give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    assert [e.title for e in referral.shared_entries.all()] == ["Shared assessment"]


def test_accepting_starts_an_episode_and_tells_the_referrer(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    referral = refer(hub)
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.accept_referral(
            actor=hub.triage, referral=referral, version=referral.version
        )
    assert referral.state == "accepted"
    assert referral.episode.service == hub.talking
    assert referral.episode.is_open
    assert mailoutbox[-1].to == [hub.practitioner.email]
    assert "accepted" in mailoutbox[-1].subject


def test_declining_needs_a_reason_and_closes_the_receivers_access(hub):
    referral = refer(hub)
    with pytest.raises(ValidationError, match="Choose the reason"):
        services.decline_referral(actor=hub.triage, referral=referral, version=2, reason="")
    referral = services.decline_referral(
        actor=hub.triage,
        referral=referral,
        version=referral.version,
        reason="higher",
        signposted_to="Community Mental Health Team",
    )
    assert (referral.state, referral.signposted_to) == ("declined", "Community Mental Health Team")
    assert not relationship_open(hub.student, hub.talking)


def test_a_stale_version_is_refused_naming_who_changed_it(hub):
    referral = refer(hub)
    seen = referral.version
    services.decline_referral(actor=hub.triage, referral=referral, version=seen, reason="lower")
    with pytest.raises(services.ConflictError) as conflict:
        services.accept_referral(actor=hub.triage, referral=referral, version=seen)
    assert "Tom changed this referral at" in str(conflict.value)
    assert "it was declined now. Nothing you did was saved." in str(conflict.value)
    assert Referral.objects.get().state == "declined"


def test_an_illegal_step_is_refused_saying_why(hub):
    referral = refer(hub)
    with pytest.raises(
        ValidationError, match="has been sent and not yet decided, so it cannot be discharged"
    ):
        services.discharge_referral(
            actor=hub.triage,
            referral=referral,
            version=referral.version,
            ending="planned",
            summary="x",
            at=timezone.now(),
        )


def accepted(hub):
    referral = refer(hub)
    return services.accept_referral(actor=hub.triage, referral=referral, version=referral.version)


def test_discharge_before_the_first_contact_is_refused(hub):
    referral = accepted(hub)
    with pytest.raises(ValidationError, match="record the first contact before discharging"):
        services.discharge_referral(
            actor=hub.triage,
            referral=referral,
            version=referral.version,
            ending="planned",
            summary="Seen and well.",
        )
    contacted = services.record_first_contact(
        actor=hub.triage, referral=referral, version=referral.version
    )
    with pytest.raises(ValidationError, match="cannot be before the first contact"):
        services.discharge_referral(
            actor=hub.triage,
            referral=contacted,
            version=contacted.version,
            ending="planned",
            summary="Seen and well.",
            at=contacted.first_contact_at - dt.timedelta(days=1),
        )
    assert Referral.objects.get().state == "accepted"
    assert not RecordEntry.objects.filter(category="discharge").exists()


def treated(hub):
    referral = accepted(hub)
    return services.start_treatment(actor=hub.triage, referral=referral, version=referral.version)


def test_the_discharge_summary_goes_back_to_the_referrer_when_consent_allows(hub):
    referral = treated(hub)
    assert referral.first_contact_at == referral.treatment_started_at
    referral = services.discharge_referral(
        actor=hub.triage,
        referral=referral,
        version=referral.version,
        ending="planned",
        summary="Eight sessions; PHQ-9 from 16 to 6. Discharged to Wellbeing.",
    )
    assert referral.state == "discharged"
    assert not referral.episode.is_open
    assert not relationship_open(hub.student, hub.talking)
    # Wellbeing holds a care relationship, which alone shows only its own entries.
    assert not decide(hub.practitioner, hub.student, "discharge").whole
    give_consent(hub, "discharge", hub.wellbeing)
    assert decide(hub.practitioner, hub.student, "discharge").whole


def discharge(hub, referral, summary="Eight sessions; PHQ-9 from 16 to 6."):
    return services.discharge_referral(
        actor=hub.triage,
        referral=referral,
        version=referral.version,
        ending="planned",
        summary=summary,
    )


def test_with_consent_the_referrer_is_told_the_summary_is_there_and_nobody_is_asked(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    from joinedup.consent.models import SharingRequest

    give_consent(hub, "discharge", hub.wellbeing)
    referral = treated(hub)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        discharge(hub, referral)

    [mail] = [m for m in mailoutbox if hub.practitioner.email in m.to]
    assert mail.subject == "Your referral to Talking Therapies was discharged"
    assert decide(hub.practitioner, hub.student, "discharge").whole
    assert not SharingRequest.objects.exists()


def test_without_consent_the_referrer_learns_of_the_discharge_and_the_student_is_asked(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    from joinedup.consent.models import SharingRequest

    referral = treated(hub)
    assert not services.summary_reaches_referrer(referral)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        discharge(hub, referral, summary="Private words of the summary.")

    [mail] = [m for m in mailoutbox if hub.practitioner.email in m.to]
    assert mail.subject == "Your referral to Talking Therapies: the student was discharged"
    discharged_on = timezone.localtime(Referral.objects.get().discharged_at).strftime("%d %b %Y")
    assert f"Talking Therapies discharged the student on {discharged_on}." in mail.body
    assert "The student has been asked whether to share it with Wellbeing" in mail.body
    assert "Private words" not in mail.body
    asked = SharingRequest.objects.get()
    assert (asked.student, asked.service, asked.category, asked.asked_by) == (
        hub.student,
        hub.wellbeing,
        "discharge",
        hub.practitioner,
    )
    assert hub.student.notifications.filter(text__contains="Wellbeing asks you to share").exists()


def test_when_consent_cannot_carry_the_summary_the_referrer_is_told_why(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    from joinedup.consent.models import SharingRequest

    hub.agreement.categories = ["identity", "engagement"]  # no discharge summaries
    hub.agreement.save()
    open_care_relationship(student=hub.student, service=hub.talking, reason="episode")
    referral = refer(hub, to=hub.counselling, frm=hub.talking, actor=hub.triage)
    referral = services.accept_referral(
        actor=hub.counsellor, referral=referral, version=referral.version
    )
    referral = services.start_treatment(
        actor=hub.counsellor, referral=referral, version=referral.version
    )
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.discharge_referral(
            actor=hub.counsellor,
            referral=referral,
            version=referral.version,
            ending="planned",
            summary="Done.",
        )

    [mail] = [m for m in mailoutbox if hub.triage.email in m.to]
    assert "Even with the student's consent Talking Therapies could not see this" in mail.body
    assert not SharingRequest.objects.exists()


def test_ending_an_episode_cancels_its_future_appointments_and_tells_the_student(hub):
    from joinedup.referrals.models import Appointment

    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(days=1)):
        referral = treated(hub)
    past, later, much_later = (
        services.book_appointment(
            actor=hub.triage, episode=referral.episode, starts_at=now + delta, kind="treatment"
        )
        for delta in (dt.timedelta(hours=-1), dt.timedelta(days=7), dt.timedelta(days=14))
    )

    discharge(hub, referral)

    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {past.pk: "booked", later.pk: "cancelled", much_later.pk: "cancelled"}
    assert Appointment.objects.get(pk=later.pk).cancelled_by == "service"
    [told] = hub.student.notifications.filter(text__contains="so your appointments")
    assert told.text.startswith(
        "Talking Therapies has finished working with you, so your appointments on"
    )
    assert AuditEvent.objects.filter(action="referrals.appointment.cancelled").exists()


def test_a_crisis_discharge_creates_a_follow_up_due_within_the_agreements_hours(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    hub.agreement.follow_up_hours = 48
    hub.agreement.save(update_fields=["follow_up_hours"])
    referral = refer(hub, to=hub.crisis)
    referral = services.accept_referral(
        actor=hub.crisis_practitioner, referral=referral, version=referral.version
    )
    referral = services.start_treatment(
        actor=hub.crisis_practitioner, referral=referral, version=referral.version
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.discharge_referral(
            actor=hub.crisis_practitioner,
            referral=referral,
            version=referral.version,
            ending="planned",
            summary="Home with family; safety plan agreed.",
        )
    task = FollowUpTask.objects.get()
    assert task.service == hub.wellbeing
    assert task.due_at - task.created_at == dt.timedelta(hours=48)
    assert hub.practitioner.email in {a for m in mailoutbox for a in m.to}


def test_a_crisis_contact_writes_risk_and_asks_the_university_to_follow_up(hub):
    services.record_crisis_contact(
        actor=hub.crisis_practitioner,
        student=hub.student,
        service=hub.crisis,
        note="Seen at A&E; safe to go home.",
    )
    task = FollowUpTask.objects.get()
    assert (task.service, task.reason) == (hub.wellbeing, "Crisis contact with Crisis Team")
    assert task.due_at - task.created_at == dt.timedelta(hours=72)
    assert RecordEntry.objects.get(category="risk").service == hub.crisis
    with pytest.raises(ValidationError, match="Say what happened"):
        services.record_crisis_contact(
            actor=hub.crisis_practitioner, student=hub.student, service=hub.crisis, note=""
        )


def test_an_overdue_follow_up_is_escalated_to_the_service_manager_once(
    hub, mailoutbox, django_capture_on_commit_callbacks
):
    services.record_crisis_contact(
        actor=hub.crisis_practitioner,
        student=hub.student,
        service=hub.crisis,
        note="Seen out of hours.",
    )
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73)):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.escalate_overdue_follow_ups() == 1
        assert services.escalate_overdue_follow_ups() == 0
    assert mailoutbox[-1].to == [hub.service_manager.email]
    assert "Overdue" in mailoutbox[-1].subject


def test_completing_a_follow_up_needs_what_was_done(hub):
    services.record_crisis_contact(
        actor=hub.crisis_practitioner,
        student=hub.student,
        service=hub.crisis,
        note="Seen out of hours.",
    )
    task = FollowUpTask.objects.get()
    with pytest.raises(ValidationError, match="Say what was done"):
        services.complete_follow_up(actor=hub.practitioner, task=task, outcome=" ")
    services.complete_follow_up(actor=hub.practitioner, task=task, outcome="Called; seen today.")
    with pytest.raises(ValidationError, match="already been completed"):
        services.complete_follow_up(actor=hub.practitioner, task=task, outcome="Again")


def test_appointments_must_be_inside_the_episode(hub):
    referral = accepted(hub)
    episode = referral.episode
    with pytest.raises(ValidationError, match="must be inside the episode"):
        services.book_appointment(
            actor=hub.triage,
            episode=episode,
            kind="assessment",
            starts_at=episode.started_at - dt.timedelta(days=1),
        )
    appointment = services.book_appointment(
        actor=hub.triage, episode=episode, kind="assessment", starts_at=timezone.now()
    )
    assert appointment.status == "booked"


def test_attending_the_first_appointment_stops_the_first_contact_clock(hub):
    referral = accepted(hub)
    when = referral.episode.started_at
    appointment = services.book_appointment(
        actor=hub.triage, episode=referral.episode, kind="assessment", starts_at=when
    )
    services.record_appointment(actor=hub.triage, appointment=appointment, status="attended")
    assert Referral.objects.get().first_contact_at == when


def test_a_cancellation_says_by_whom(hub):
    referral = accepted(hub)
    appointment = services.book_appointment(
        actor=hub.triage, episode=referral.episode, kind="treatment", starts_at=timezone.now()
    )
    with pytest.raises(ValidationError, match="Say who cancelled"):
        services.record_appointment(actor=hub.triage, appointment=appointment, status="cancelled")
    with pytest.raises(ValidationError, match="Say why the appointment is cancelled"):
        services.record_appointment(
            actor=hub.triage, appointment=appointment, status="cancelled", cancelled_by="student"
        )
    services.record_appointment(
        actor=hub.triage, appointment=appointment, status="cancelled", cancelled_by="student",
        reason="Exam clash.",
    )  # fmt: skip
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "student")
    assert appointment.cancel_reason == "Exam clash."


def test_the_receiver_adds_to_the_assessment_and_the_record_shows_who_wrote_what(hub):
    assessment(hub)
    give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    services.add_to_assessment(actor=hub.triage, referral=referral, text="Sleep is worse now.")
    assert sorted((e.service.name, e.title) for e in referral.shared_entries.all()) == [
        ("Talking Therapies", "Added by Talking Therapies"),
        ("Wellbeing", "Shared assessment"),
    ]


def test_withdrawn_consent_hides_the_carried_assessment_at_once(hub):
    from joinedup.referrals.selectors import get_referral_for_user

    assessment(hub)
    grant = give_consent(hub, "assessment", hub.talking)
    referral = refer(hub, carry_assessment=True)
    assert len(get_referral_for_user(hub.triage, referral.uuid).carried) == 1
    withdraw_consent(actor=hub.student_user, grant=grant)
    assert get_referral_for_user(hub.triage, referral.uuid).carried == []


def test_every_step_is_audited(hub):
    referral = treated(hub)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "referrals.referral.created",
        "referrals.referral.sent",
        "referrals.referral.accepted",
        "referrals.referral.in_treatment",
        "referrals.episode.opened",
    } <= actions
    assert referral.version == 4


def test_the_follow_up_escalation_command(hub, capsys):
    from django.core.management import call_command

    services.record_crisis_contact(
        actor=hub.crisis_practitioner,
        student=hub.student,
        service=hub.crisis,
        note="Seen out of hours.",
    )
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73)):
        call_command("escalate_follow_ups")
    assert "Escalated 1 overdue follow-ups." in capsys.readouterr().out
    assert FollowUpTask.objects.get().escalated_at is not None
