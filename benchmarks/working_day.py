"""Server time and query count of a practitioner's working day at hub scale: "my day", the
week diary (the service's and one clinician's), "find a student" and a contact log.

Seeds 150,000 students (once per database, shared with `record_page.py`), makes every
service with clinical staff up to twelve practitioners, then a year of diary for every
practitioner: a caseload of students with an allocated
episode each, six appointments a working day (past ones attended, did not attend or
cancelled) and a signed note for each past contact. Times each page through Django's WSGI
handler, on SQLite and, when it answers, on PostgreSQL; then doubles the diary and checks
that no page's query count grew.

    .venv/bin/python benchmarks/working_day.py [--students 150000] [--requests 100]

Target (issue #17): p95 at most 150 ms; a query count that does not grow with the rows.
"""

import argparse
import datetime as dt
import os
import random
import subprocess
import sys

from timing import MANAGE, audited_production, databases, setup_django, time_pages, top_up_students

PER_SERVICE = 12  # practitioners in each service that has any (synthetic ones added)
CASELOAD = 60  # students allocated to each practitioner
PER_DAY = 6  # appointments each working day
PLACE = "Benchmark room"  # marks the seeded diary, so that a second run reuses it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--step", choices=["diary", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--years", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "diary":
        seed_diary(args.years)
        return
    if args.step == "measure":
        measure(args.requests)
        return
    for name, url in databases("bench").items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
        top_up_students(env, args.students)
        production_env = audited_production(env)
        subprocess.run([*MANAGE, "collectstatic", "--noinput", "-v0"], env=production_env,
                       check=True)  # fmt: skip
        for years in (1, 2):
            subprocess.run([sys.executable, __file__, "--step", "diary", "--years", str(years)],
                           env=env, check=True)  # fmt: skip
            print(f"[{name}] {years} year(s) of diary")
            subprocess.run([sys.executable, __file__, "--step", "measure", "--requests",
                            str(args.requests)], env=production_env, check=True)  # fmt: skip


def _outside_benchmarks() -> None:
    # This folder's fhir.py would hide the fhir.resources package the app imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    setup_django()


def practitioners():
    from joinedup.people.models import CLINICAL_ROLES, Membership

    seats = Membership.objects.filter(role__in=CLINICAL_ROLES, service__isnull=False)
    return seats.select_related("user", "service").order_by("pk")


def hire(per_service: int) -> None:
    """Make each service with clinical staff up to `per_service` practitioners."""
    from collections import Counter

    from joinedup.people.models import Membership, User

    staffed = Counter(seat.service for seat in practitioners())
    for service, have in staffed.items():
        for n in range(have, per_service):
            user = User.objects.create_user(
                f"bench-{service.pk}-{n}@bench.joinedup.example", first_name="Bench",
                last_name=f"Practitioner {n}",
            )  # fmt: skip
            Membership.objects.create(
                user=user, organisation=service.organisation, service=service,
                role="practitioner",
            )  # fmt: skip


def seed_diary(years: int) -> None:
    """`years` of diary for every practitioner, ending a year from today (a second year is
    added before the first, so that the pages' figures can be compared as rows grow)."""
    _outside_benchmarks()
    from django.db import transaction
    from django.utils import timezone

    from joinedup.referrals.models import Appointment

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    first = (now - dt.timedelta(days=182 + 365 * (years - 1))).date()
    hire(PER_SERVICE)
    seeded = set(
        Appointment.objects.filter(
            place=PLACE, starts_at__date__gte=first, starts_at__date__lt=first + dt.timedelta(7)
        ).values_list("clinician", flat=True)
    )  # fmt: skip
    seats = [seat for seat in practitioners() if seat.user_id not in seeded]
    for n, seat in enumerate(seats):
        with transaction.atomic():
            _seed_one(seat, n, years, first, now)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after such a load
    print(f"  seeded {len(seats)} practitioners' diaries from {first} for a year")


def _seed_one(seat, n: int, years: int, first: dt.date, now: dt.datetime) -> None:
    """One practitioner's caseload and a year of their diary from `first`."""
    from django.utils import timezone

    from joinedup.consent.models import CareRelationship
    from joinedup.people.models import Student
    from joinedup.record.models import RecordEntry
    from joinedup.referrals.models import Appointment, Episode

    rng = random.Random(years * 100_000 + seat.pk)  # noqa: S311 - repeatable, not secrets
    user, service = seat.user, seat.service
    students = Student.objects.filter(university=service.organisation).order_by("pk")
    if not students.exists():  # an NHS service: students of any university
        students = Student.objects.order_by("pk")
    caseload = list(students[CASELOAD * seat.pk : CASELOAD * (seat.pk + 1)])
    episodes = []
    for student in caseload:
        relationship, _ = CareRelationship.objects.get_or_create(
            student=student, service=service, reason="episode", closed_at=None
        )
        episode = Episode.objects.filter(relationship=relationship, ended_at=None).first()
        episodes.append(episode or Episode.objects.create(
            student=student, service=service, relationship=relationship,
            started_at=now - dt.timedelta(days=365 * years), practitioner=user,
            allocated_at=now - dt.timedelta(days=365 * years),
        ))  # fmt: skip
    appointments, notes = [], []
    for offset in range(365):
        day = first + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for slot in range(PER_DAY):
            starts = timezone.make_aware(dt.datetime.combine(day, dt.time(9 + slot + (slot >= 3))))
            episode = rng.choice(episodes)
            roll = rng.random()
            status = (
                "booked" if starts >= now
                else "attended" if roll < 0.8
                else "missed" if roll < 0.92 else "cancelled"
            )  # fmt: skip
            appointments.append(Appointment(
                episode=episode, clinician=user, starts_at=starts, kind="treatment",
                place=PLACE, status=status, recorded_by=user,
                cancelled_by="service" if status == "cancelled" else "",
                cancelled_at=starts if status == "cancelled" else None,
            ))  # fmt: skip
            if status in ("attended", "missed"):
                notes.append(RecordEntry(
                    student=episode.student, category="notes", kind="note", service=service,
                    author=user, title="Session", body="Synthetic session note for benchmarks.",
                    contact_kind="session" if status == "attended" else "dna_follow_up",
                    contact_at=starts, created_at=starts, updated_at=starts, signed_at=starts,
                    signed_by=user,
                ))  # fmt: skip
    Appointment.objects.bulk_create(appointments, batch_size=2000)
    RecordEntry.objects.bulk_create(notes, batch_size=2000)


def measure(requests: int) -> None:
    _outside_benchmarks()
    from django.db.models import Count
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from conftest import SignedInClient  # a sign-in with the second factor, as staff need
    from joinedup.consent.policy import readable_students
    from joinedup.people.models import Student, User
    from joinedup.record.models import RecordEntry
    from joinedup.referrals.models import Appointment

    setup_test_environment()
    print(f"  {Student.objects.count()} students, {Appointment.objects.count()} appointments")
    # A realistic caseload (Wellbeing) and the largest seeded one (Counselling, a stress case).
    for email in ("practitioner@demo.joinedup.example", "counsellor@demo.joinedup.example"):
        user = User.objects.get(email=email)
        client = SignedInClient()
        client.force_login(user)
        busiest = (
            RecordEntry.objects.filter(author=user, category="notes")
            .values("student").annotate(n=Count("pk")).order_by("-n").first()
        )  # fmt: skip
        student = Student.objects.get(pk=busiest["student"])
        caseload = readable_students(user, "identity", bases=("relationship",)).count()
        print(
            f"  {email.split('@')[0]}: {caseload} on the caseload, "
            f"{Appointment.objects.filter(clinician=user).count()} in their diary, "
            f"{busiest['n']} notes on the busiest record"
        )
        time_pages(client, requests, {
            "my day": reverse("record:my-day"),
            "week diary": "/diary/?span=week",
            "my week": f"/diary/clinicians/{user.uuid}/?span=week",
            "find by name": f"/students/find/?q={student.legal_family_name}",
            "find by number": f"/students/find/?q={student.student_number[-5:]}",
            "contact log": f"/students/{student.uuid}/contacts/",
        })  # fmt: skip


if __name__ == "__main__":
    main()
