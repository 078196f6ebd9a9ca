"""The demo hub's past year of finished care, for reports: students whom each university's
wellbeing and counselling services and NHS Talking Therapies saw and finished with over the
last twelve months, each referred, first seen, treated in weekly sessions with their
questionnaires, and discharged with a planned or unplanned ending.

At the default size this is about 560 students, so that a year's report of any of those
services, broken down by any equality group, and the benchmarking funnels draw their figures
above disclosure control. None of them is in care now, so nobody's day or caseload changes;
the one gap the rules find in such care (a Talking Therapies discharge with no university
contact since) is recorded as found and closed by the wellbeing service, so the gap list
holds nothing new either.
"""

import datetime as dt
import random

from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.measures.demo import ROUTINE, save_trajectories, trajectory
from joinedup.people.demo import FAMILY, GIVEN, INTERNATIONAL, equality_answers, study_and_birth
from joinedup.people.models import Membership, Student, User
from joinedup.referrals.gaps import find_gaps
from joinedup.referrals.models import Appointment, Episode, GapItem, Referral

# Finished episodes in a year, per 150 of the demo's students at each university.
EPISODES_A_YEAR = {
    "north_wellbeing": 160,
    "south_wellbeing": 120,
    "north_counselling": 90,
    "south_counselling": 70,
    "talking": 120,
}
# Where their referrals came from: Talking Therapies takes self-referrals and GPs' only, so
# that no student leaves the NHS without a university service knowing (a gap rule).
SOURCES = {
    "wellbeing": {"self": 70, "academic": 15, "gp": 15},
    "counselling": {"self": 55, "service": 30, "academic": 5, "gp": 10},
    "nhs": {"self": 70, "gp": 30},
}
ENDINGS = {"planned": 60, "unplanned": 18, "disengaged": 15, "transferred": 7}
# How each ending's questionnaires tended to go, by PATTERNS.
COURSES = {
    "planned": {"improving": 70, "flat": 20, "deteriorating": 10},
    "transferred": {"flat": 50, "deteriorating": 30, "improving": 20},
    "unplanned": {"dropping out": 60, "flat": 25, "improving": 15},
    "disengaged": {"dropping out": 80, "flat": 20},
}
# A measure a service asks for at assessment and at the last session only (not at every
# session): Northbridge Wellbeing's CORE-OM, whose reliable change index its manager sets.
AT_START_AND_END = {"north_wellbeing": "CORE-OM"}
WITHDRAWN = 0.05  # of referrals, withdrawn before they were decided
MISSED = 0.1  # of booked sessions


def add_demo_year(hub, rng: random.Random, per_university: int, nhs_numbers) -> None:
    """Students and their finished care over the last year (see the module's docstring)."""
    now = timezone.now()
    recorder = User.objects.get(email="practitioner@demo.joinedup.example")
    clinicians = _clinicians()
    pending = []
    # Its own stream, so the rest of the year stays as it was.
    assessed = random.Random(rng.getstate()[1][0])  # noqa: S311 - repeatable demo data
    students = _students(hub, rng, per_university, nhs_numbers, now)
    cohort = {student.pk for student, _key in students}
    for student, key in students:
        service = hub[key]
        sources = SOURCES.get(service.kind, SOURCES["nhs"])
        source = rng.choices(list(sources), list(sources.values()))[0]
        referral = Referral(
            student=student,
            source=source,
            from_service=hub[key.replace("counselling", "wellbeing")]
            if source == "service"
            else None,
            to_service=service,
            reason=REASON,
            created_by=recorder,
        )
        ending = rng.choices(list(ENDINGS), list(ENDINGS.values()))[0]
        course = rng.choices(list(COURSES[ending]), list(COURSES[ending].values()))[0]
        seen = _refer(referral, ending, course, rng, now, clinicians.get(service.pk) or [recorder])
        if seen and key in ROUTINE:
            rows = trajectory(referral.episode, ROUTINE[key], course, rng, recorder,
                              sessions=len(seen))  # fmt: skip
            if key in AT_START_AND_END:
                both = trajectory(referral.episode, [AT_START_AND_END[key]], course, assessed,
                                  recorder, sessions=len(seen))  # fmt: skip
                rows += both[:1] + both[1:][-1:]
            # Each session's questionnaires on the day it was attended.
            pending += [(*row[:4], seen[row[1] - 1] + dt.timedelta(hours=1), row[5])
                        for row in rows]  # fmt: skip
    save_trajectories(pending)
    _gaps_followed_up(cohort, clinicians, now)


def _gaps_followed_up(cohort: set[int], clinicians, now) -> None:
    """Each gap the rules find in the year's care (a Talking Therapies discharge with no
    university contact since) as its wellbeing service found and closed it, days after."""
    items = []
    for finding in find_gaps(now):
        if finding.student_id in cohort:
            referral = Referral.objects.get(pk=finding.referral_id)
            found = referral.discharged_at + dt.timedelta(days=7)
            items.append(GapItem(
                rule=finding.rule, key=finding.key, student_id=finding.student_id,
                service_id=finding.service_id, referral=referral, detail=finding.detail,
                found_at=found, resolved_at=found + dt.timedelta(days=2),
                resolved_by=(clinicians.get(finding.service_id) or [None])[0], action=FOLLOWED_UP,
            ))  # fmt: skip
    GapItem.objects.bulk_create(items)


def _students(hub, rng, per_university, nhs_numbers, now) -> list[tuple[Student, str]]:
    """New students, each to be seen by the service named beside them."""
    keys = [
        key
        for key, per_year in EPISODES_A_YEAR.items()
        for _ in range(max(1, round(per_year * per_university / 150)))
    ]
    students = []
    for number, key in enumerate(keys):
        university = key.split("_")[0] if "_" in key else rng.choice(["north", "south"])
        international = rng.random() < INTERNATIONAL
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        students.append(
            Student(
                university=hub[university],
                legal_given_name=given,
                legal_family_name=family,
                student_number=f"{university[0].upper()}{2300000 + number}",
                nhs_number=next(nhs_numbers) if rng.random() < 0.8 else "",
                gp_practice=hub["gps"][number % 2],
                is_international=international,
                status=rng.choices(["enrolled", "graduated", "withdrawn"], [75, 20, 5])[0],
                email=f"{given.lower()}.{family.lower()}.{number}@{university}.demo.joinedup.example",
                **equality_answers(rng, international=international),
                **study_and_birth(rng, international=international, today=now.date()),
            )
        )
    return list(zip(Student.objects.bulk_create(students, batch_size=500), keys, strict=True))


def _clinicians() -> dict[int, list[User]]:
    """Each service's practitioners, by service."""
    found: dict[int, list[User]] = {}
    for membership in Membership.objects.filter(service__isnull=False).select_related("user"):
        if membership.role in ("practitioner", "triage", "liaison"):
            found.setdefault(membership.service_id, []).append(membership.user)
    return found


def _refer(referral, ending, course, rng, now, team) -> list[dt.datetime]:
    """Saves `referral`, sent in the last year and withdrawn or seen, treated and discharged
    with `ending` by one of `team`; returns the times of the sessions attended."""
    student, service = referral.student, referral.to_service
    # Sent early enough for its care to have ended by last week.
    sent = now - dt.timedelta(days=rng.randrange(110, 400), hours=rng.randrange(8))
    referral.created_at = referral.sent_at = referral.last_changed_at = sent
    referral.opened_at = sent + dt.timedelta(hours=rng.randrange(1, 30))
    relationship = CareRelationship(student=student, service=service, reason="referral",
                                    opened_at=sent)  # fmt: skip
    if rng.random() < WITHDRAWN:
        referral.state = "withdrawn"
        referral.withdrawn_at = relationship.closed_at = sent + dt.timedelta(
            days=rng.randrange(2, 9)
        )
        relationship.ended_because = "withdrawn"
        relationship.save()
        referral.save()
        return []
    # Most are first seen within three weeks; some wait much longer.
    wait = dt.timedelta(days=round(rng.lognormvariate(2.3, 0.6)) + 1)
    first = sent + wait
    weeks = _sessions(course, rng)
    statuses = ["attended"] + [
        "missed" if rng.random() < MISSED else "attended" for _ in range(weeks - 1)
    ]
    times = [first + dt.timedelta(weeks=n) for n in range(weeks)]
    ended = times[-1] + dt.timedelta(days=rng.randrange(1, 15))
    clinician = rng.choice(team)
    relationship.closed_at, relationship.ended_because = ended, "discharged"
    relationship.save()
    referral.episode = Episode.objects.create(
        student=student, service=service, relationship=relationship, started_at=first,
        ended_at=ended, ending=ending, practitioner=clinician, allocated_at=first,
    )  # fmt: skip
    referral.state, referral.decided_at, referral.decided_by = "discharged", first, clinician
    referral.first_contact_at = first
    referral.treatment_started_at = times[1] if weeks > 1 else None
    referral.discharged_at = ended
    referral.ending = "planned" if ending in ("planned", "transferred") else "unplanned"
    referral.save()
    Appointment.objects.bulk_create(
        Appointment(
            episode=referral.episode,
            clinician=clinician,
            starts_at=at,
            kind="assessment" if n == 0 else "treatment",
            status=status,
            recorded_by=clinician,
        )
        for n, (at, status) in enumerate(zip(times, statuses, strict=True))
    )
    return [at for at, status in zip(times, statuses, strict=True) if status == "attended"]


def _sessions(course: str, rng: random.Random) -> int:
    """Weeks of sessions booked: a student who stopped coming had one to three."""
    if course == "dropping out":
        return rng.randrange(1, 4)
    return rng.randrange(4, 11)


FOLLOWED_UP = "Phoned after the discharge: settled, and knows how to come back to us."
REASON = "Low mood and worry about coursework; finding it hard to get up for lectures."
