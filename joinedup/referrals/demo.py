"""Demo referrals: realistic movements between the hub's services, their waits and
appointments, and some students in each gap the rules look for."""

import datetime as dt
import random

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.people.models import Membership, Student, User
from joinedup.record.models import RecordEntry
from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.models import (
    Appointment,
    AppointmentRequest,
    Episode,
    FollowUpTask,
    Referral,
)

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
    """About 90 referrals over the last six months, in every state, then weekly appointments
    for the demo's episodes (clinicians' diaries through this week), and a first gap
    detection run."""
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
    _appointments_for_open_episodes(now, rng, staff, hub)
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


# The diary's week: Monday to Friday, sessions on the hour, a lunch break at noon.
WEEKLY_SLOTS = [(day, hour) for day in range(5) for hour in (9, 10, 11, 13, 14, 15, 16)]
# Wellbeing's advisers besides Priya: clinicians in the diary, not demo logins.
ADVISERS = [("Dev", "Patel"), ("Grace", "Adeyemi")]
PLACES = ["Student Services Centre, room G.12", "Wellbeing hub, level 2, room 4"]
LENGTHS = {"assessment": 60, "treatment": 50, "review": 30}
REQUESTS = [
    ("rebook", "I have a lab session that was moved to this time.", "Any afternoon"),
    ("cancel", "I'm going home for a family funeral this week.", ""),
]


def _teams(hub, staff) -> dict[int, list[User]]:
    """Each service's clinicians in the demo: Wellbeing at Northbridge has three."""
    wellbeing = hub["north_wellbeing"]
    advisers = []
    for first, last in ADVISERS:
        user = User.objects.create_user(
            f"{first.lower()}.{last.lower()}@wellbeing.northbridge.example",
            None,
            first_name=first,
            last_name=last,
        )
        Membership.objects.create(
            user=user, organisation=hub["north"], service=wellbeing, role="practitioner"
        )
        advisers.append(user)
    teams: dict[int, list[User]] = {wellbeing.pk: [staff["practitioner"], *advisers]}
    for handle, key in [("counsellor", "north_counselling"), ("nhs-clinician", "crisis"),
                        ("triage", "talking"), ("liaison", "liaison")]:  # fmt: skip
        teams[hub[key].pk] = [staff[handle]]
    return teams


def _appointments_for_open_episodes(now, rng, staff, hub) -> None:
    """Weekly appointments in each episode with a clinician of its service (Wellbeing's
    episodes allocated among its three), each episode at its own free hour of the
    clinician's week: most attended, some missed; a few students stop coming, which the
    no-contact rule finds. Open episodes of a service with clinicians run on to the end
    of next week, booked, so that the diaries hold this week whichever day it is."""
    teams = _teams(hub, staff)
    week_ends = _monday(now) + dt.timedelta(days=14)
    taken: dict[int, set] = {}
    appointments = []
    story = Student.objects.filter(student_number="N2499999").values_list("pk", flat=True).first()
    for episode in Episode.objects.order_by("pk"):
        clinician, slot = _clinician_and_slot(episode, teams, taken, story, rng)
        if slot is not None and episode.ended_at is None:
            episode.practitioner, episode.allocated_at = clinician, episode.started_at
        end = episode.ended_at or (week_ends if slot else now)
        stops = rng.random() < 0.15  # stopped attending five weeks ago
        place = rng.choice(PLACES)
        video = rng.random() < 0.3
        for n, at in enumerate(_weekly(episode.started_at, slot, end)):
            if stops and at > now - dt.timedelta(weeks=5):
                break
            kind = "assessment" if n == 0 else rng.choices(["treatment", "review"], [5, 1])[0]
            status = (
                "booked"
                if at > now
                else rng.choices(["attended", "missed", "cancelled"], [85, 10, 5])[0]
            )
            appointments.append(
                Appointment(
                    episode=episode, clinician=clinician, starts_at=at,
                    length=dt.timedelta(minutes=LENGTHS[kind] if slot else 50), kind=kind,
                    place="" if video else place,
                    video_link=f"https://meet.northbridge.example/{clinician.first_name.lower()}"
                    if video and clinician else "",
                    status=status, cancelled_by="student" if status == "cancelled" else "",
                    cancel_reason="Unwell." if status == "cancelled" else "",
                    recorded_by=clinician or staff["practitioner"],
                )
            )  # fmt: skip
        if episode.practitioner_id:
            episode.save(update_fields=["practitioner", "allocated_at"])
    Appointment.objects.bulk_create(appointments, batch_size=1000)
    # As recording an attendance does (`appointments.record_appointment`): the first attended
    # appointment is the referral's first contact, where none was recorded before.
    first_attended = Subquery(
        Appointment.objects.filter(episode=OuterRef("episode"), status="attended")
        .order_by("starts_at").values("starts_at")[:1]
    )  # fmt: skip
    Referral.objects.filter(first_contact_at__isnull=True, episode__isnull=False).update(
        first_contact_at=first_attended
    )
    _requests(hub, now, rng)
    _vary_endings(rng)


def _clinician_and_slot(episode, teams, taken, story, rng):
    """The episode's clinician (the story student sees Priya) and its free weekly hour in
    their diary; (None, None) when the service has no clinician or theirs is full."""
    team = teams.get(episode.service_id, [])
    if not team:
        return None, None
    clinician = team[0] if episode.student_id == story else team[episode.pk % len(team)]
    free = [s for s in WEEKLY_SLOTS if s not in taken.setdefault(clinician.pk, set())]
    if not free:
        return None, None
    slot = rng.choice(free)
    taken[clinician.pk].add(slot)
    return clinician, slot


def _monday(now) -> dt.datetime:
    """00:00 on Monday of this week, UK time."""
    today = timezone.localdate(now)
    monday = today - dt.timedelta(days=today.weekday())
    return timezone.make_aware(dt.datetime.combine(monday, dt.time.min))


def _weekly(started_at, slot, end):
    """The weekly moments of an episode from its start to `end`: at its slot (weekday and
    hour, UK time) with a clinician, else a day after it started, at that time of day."""
    if slot is None:
        at = started_at + dt.timedelta(days=1)
        while at < end - dt.timedelta(hours=1):
            yield at
            at += dt.timedelta(weeks=1)
        return
    day, hour = slot
    start = timezone.localdate(started_at) + dt.timedelta(days=1)
    first = start + dt.timedelta(days=(day - start.weekday()) % 7)
    while True:
        at = timezone.make_aware(dt.datetime.combine(first, dt.time(hour)))
        if at >= end:
            return
        yield at
        first += dt.timedelta(weeks=1)


def _requests(hub, now, rng) -> None:
    """Two Wellbeing students ask to change an appointment this week; the story student's
    next one is with Priya."""
    booked = Appointment.objects.filter(
        episode__service=hub["north_wellbeing"], status="booked", starts_at__gt=now
    ).order_by("starts_at")
    story = booked.filter(episode__student__student_number="N2499999").first()
    for appointment, (wants, reason, times) in zip(
        booked.exclude(pk=getattr(story, "pk", None))[:2], REQUESTS, strict=False
    ):
        AppointmentRequest.objects.create(
            appointment=appointment, wants=wants, reason=reason, better_times=times,
            asked_at=now - dt.timedelta(hours=rng.randrange(2, 30)),
        )  # fmt: skip


def _vary_endings(rng) -> None:
    """Not every ending is planned: some students stop coming, some move on to another
    service (each counts as its rule says in the service reports)."""
    for episode in Episode.objects.filter(
        ended_at__isnull=False, ending="planned", referral__isnull=True
    ).order_by("pk"):
        ending = rng.choices(["planned", "disengaged", "transferred"], [6, 3, 1])[0]
        if ending != "planned":
            Episode.objects.filter(pk=episode.pk).update(ending=ending)
