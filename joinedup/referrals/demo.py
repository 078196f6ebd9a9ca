"""Demo referrals: realistic movements between the hub's services, their waits and
appointments, and some students in each gap the rules look for."""

import datetime as dt
import random

from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.people.models import Student, User
from joinedup.record.models import RecordEntry
from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.models import Appointment, Episode, FollowUpTask, Referral

# (from, to, share of referrals); the NHS services receive most of the university's.
ROUTES = [
    ("north_wellbeing", "talking", 0.3),
    ("south_wellbeing", "talking", 0.2),
    ("north_counselling", "cmht", 0.1),
    ("north_wellbeing", "crisis", 0.1),
    ("south_counselling", "liaison", 0.1),
    ("north_wellbeing", "north_counselling", 0.1),
    ("south_wellbeing", "charity", 0.1),
]
SUMMARY = (
    "Attended {n} sessions of guided self-help for low mood. Scores improved; the student "
    "has a relapse-prevention plan and knows how to come back."
)


def add_demo_referrals(hub, rng: random.Random) -> None:
    """About 90 referrals over the last six months, in every state, then weekly attended
    appointments for the demo's episodes, and a first gap detection run."""
    now = timezone.now()
    staff = {
        u.email.split("@")[0]: u
        for u in User.objects.filter(email__endswith="@demo.joinedup.example")
    }
    students = list(Student.objects.filter(user__isnull=True).order_by("pk"))
    rng.shuffle(students)
    for student in students[:90]:
        university = "north" if student.university_id == hub["north"].pk else "south"
        routes = [r for r in ROUTES if r[0].startswith(university)]
        start, end, _ = rng.choices(routes, [r[2] for r in routes])[0]
        from_service, to_service = hub[start], hub[end]
        state = rng.choices(
            ["sent", "accepted", "waiting", "in_treatment", "discharged", "declined", "withdrawn"],
            [8, 6, 14, 20, 25, 12, 5],
        )[0]
        _referral(student, from_service, to_service, state, now, rng, staff)
    _appointments_for_open_episodes(now, rng, staff)
    detect_gaps()


# Why a closed referral's relationship ended, by the referral's state.
ENDINGS = {"discharged": "discharged", "declined": "declined", "withdrawn": "withdrawn"}


def _referral(student, from_service, to_service, state, now, rng, staff) -> Referral:
    sent = now - dt.timedelta(days=rng.randrange(2, 180), hours=rng.randrange(8))
    wait = dt.timedelta(days=rng.randrange(3, 70))
    referral = Referral(
        student=student,
        source="service",
        from_service=from_service,
        to_service=to_service,
        state=state,
        reason="Low mood and anxiety affecting study; wants to talk to someone.",
        created_by=staff["practitioner"],
        created_at=sent,
        sent_at=sent,
        opened_at=sent + dt.timedelta(hours=5),
        last_changed_at=sent,
    )
    if state in ("accepted", "waiting", "in_treatment", "discharged", "declined"):
        referral.decided_at = min(sent + dt.timedelta(days=rng.randrange(1, 6)), now)
    if state == "declined":
        referral.decline_reason = rng.choice(["higher", "lower", "not_eligible"])
        referral.signposted_to = "Student Peer Support"
    if state == "withdrawn":
        referral.withdrawn_at = min(sent + dt.timedelta(days=3), now)
    if state in ("in_treatment", "discharged"):
        referral.first_contact_at = referral.treatment_started_at = min(sent + wait, now)
    if state == "discharged":
        referral.discharged_at = min(referral.treatment_started_at + dt.timedelta(weeks=8), now)
        referral.ending = rng.choices(["planned", "unplanned"], [3, 1])[0]
    is_open = state in Referral.OPEN_STATES
    relationship = CareRelationship.objects.create(
        student=student,
        service=to_service,
        reason="referral",
        opened_at=sent,
        closed_at=None
        if is_open
        else (referral.discharged_at or referral.decided_at or referral.withdrawn_at),
        ended_because="" if is_open else ENDINGS[state],
    )
    if referral.decided_at and state not in ("declined", "withdrawn"):
        referral.episode = Episode.objects.create(
            student=student,
            service=to_service,
            relationship=relationship,
            started_at=referral.decided_at,
            ended_at=referral.discharged_at,
            ending=referral.ending,
        )
    referral.save()
    if state == "discharged":
        referral.shared_entries.add(
            RecordEntry.objects.create(
                student=student,
                category="discharge",
                service=to_service,
                author=staff["triage"],
                title=f"Discharge summary from {to_service.name}",
                body=SUMMARY.format(n=8),
                created_at=referral.discharged_at,
            )
        )
        if to_service.kind == "crisis":
            FollowUpTask.objects.create(
                student=student,
                service=from_service,
                referral=referral,
                reason=f"Discharged from {to_service.name}",
                created_at=referral.discharged_at,
                due_at=referral.discharged_at + dt.timedelta(hours=72),
            )
    return referral


def _appointments_for_open_episodes(now, rng, staff) -> None:
    """Weekly appointments in each episode: most attended, some missed; a few students
    stop coming, which the no-contact rule finds."""
    appointments = []
    for episode in Episode.objects.all():
        end = episode.ended_at or now
        stops = rng.random() < 0.15  # stopped attending five weeks ago
        at = episode.started_at + dt.timedelta(days=1)
        while at < end - dt.timedelta(hours=1):
            if stops and at > now - dt.timedelta(weeks=5):
                break
            status = rng.choices(["attended", "missed", "cancelled"], [85, 10, 5])[0]
            appointments.append(
                Appointment(
                    episode=episode,
                    starts_at=at,
                    kind="treatment",
                    status=status,
                    cancelled_by="student" if status == "cancelled" else "",
                    recorded_by=staff["practitioner"],
                )
            )
            at += dt.timedelta(weeks=1)
    Appointment.objects.bulk_create(appointments, batch_size=1000)
