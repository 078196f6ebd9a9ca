"""Server time and query count of a practitioner's working day at hub scale: "my day", the
week diary (the service's and one clinician's), "find a student" and a contact log.

Seeds 150,000 students (once per database, shared with `record_page.py`), then a year of
diary for every practitioner of the demo hub: a caseload of students with an allocated
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


def seed_diary(years: int) -> None:
    """`years` of diary for every practitioner, ending a year from today (a second year is
    added before the first, so that the pages' figures can be compared as rows grow)."""
    _outside_benchmarks()
    from django.db import transaction
    from django.utils import timezone

    from joinedup.consent.models import CareRelationship
    from joinedup.people.models import Student
    from joinedup.record.models import RecordEntry
    from joinedup.referrals.models import Appointment, Episode

    rng = random.Random(years)  # noqa: S311 - repeatable synthetic data, not secrets
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    first = (now - dt.timedelta(days=182 + 365 * (years - 1))).date()
    last = first + dt.timedelta(days=365)
    seats = list(practitioners())
    if Appointment.objects.filter(
        place=PLACE, starts_at__date__lt=first + dt.timedelta(1)
    ).exists():
        return
    for seat in seats:
        user, service = seat.user, seat.service
        with transaction.atomic():
            students = list(
                Student.objects.filter(university=service.organisation).order_by("pk")[
                    CASELOAD * seat.pk : CASELOAD * (seat.pk + 1)
                ]
            ) or list(Student.objects.order_by("pk")[CASELOAD * seat.pk : CASELOAD * (seat.pk + 1)])
            episodes = []
            for student in students:
                relationship = CareRelationship.objects.filter(
                    student=student, service=service, reason="episode", closed_at__isnull=True
                ).first() or CareRelationship.objects.create(
                    student=student, service=service, reason="episode"
                )
                episode = Episode.objects.filter(relationship=relationship, ended_at=None).first()
                episodes.append(episode or Episode.objects.create(
                    student=student, service=service, relationship=relationship,
                    started_at=now - dt.timedelta(days=365 * years), practitioner=user,
                    allocated_at=now - dt.timedelta(days=365 * years),
                ))  # fmt: skip
            appointments, notes = [], []
            day = first
            while day < last:
                if day.weekday() < 5:
                    for slot in range(PER_DAY):
                        starts = timezone.make_aware(
                            dt.datetime.combine(day, dt.time(9 + slot + (slot >= 3)))
                        )
                        episode = rng.choice(episodes)
                        past = starts < now
                        roll = rng.random()
                        status = (
                            "booked" if not past
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
                                student=episode.student, category="notes", kind="note",
                                service=service, author=user, title="Session",
                                body="Synthetic session note for benchmarks.",
                                contact_kind="session" if status == "attended" else "dna_follow_up",
                                contact_at=starts, created_at=starts, updated_at=starts,
                                signed_at=starts, signed_by=user,
                            ))  # fmt: skip
                day += dt.timedelta(days=1)
            Appointment.objects.bulk_create(appointments, batch_size=2000)
            RecordEntry.objects.bulk_create(notes, batch_size=2000)
    print(f"  seeded {len(seats)} practitioners' diaries from {first} to {last}")


def measure(requests: int) -> None:
    _outside_benchmarks()
    from django.db.models import Count
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from conftest import SignedInClient  # a sign-in with the second factor, as staff need
    from joinedup.people.models import Student
    from joinedup.record.models import RecordEntry
    from joinedup.referrals.models import Appointment

    setup_test_environment()
    seat = practitioners().filter(user__email="counsellor@demo.joinedup.example").first()
    seat = seat or practitioners().first()
    user = seat.user
    client = SignedInClient()
    client.force_login(user)
    busiest = (
        RecordEntry.objects.filter(author=user, category="notes")
        .values("student").annotate(n=Count("pk")).order_by("-n").first()
    )  # fmt: skip
    student = Student.objects.get(pk=busiest["student"])
    print(
        f"  {Student.objects.count()} students, {Appointment.objects.count()} appointments; "
        f"{user.email.split('@')[0]}: "
        f"{Appointment.objects.filter(clinician=user).count()} in their diary, "
        f"{busiest['n']} notes on the busiest record"
    )
    pages = {
        "my day": reverse("record:my-day"),
        "week diary": "/diary/?span=week",
        "my week": f"/diary/clinicians/{user.uuid}/?span=week",
        "find by name": f"/students/find/?q={student.legal_family_name}",
        "find by number": f"/students/find/?q={student.student_number[-5:]}",
        "contact log": f"/students/{student.uuid}/contacts/",
    }
    time_pages(client, requests, pages)


if __name__ == "__main__":
    main()
