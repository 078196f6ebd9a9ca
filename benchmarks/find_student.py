"""Server time and query count of "Find a student" and of the duplicate check at registration,
at hub scale.

Seeds 150,000 students (once per database, shared with `record_page.py`), then times each
search through Django's WSGI handler, on SQLite and, when it answers, on PostgreSQL.

    .venv/bin/python benchmarks/find_student.py [--students 150000] [--requests 100]

Target: p95 at most 100 ms; a query count that does not grow with students.
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

from timing import MANAGE, audited_production, databases, setup_django, time_pages, top_up_students


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.requests)
        return
    for name, url in databases("bench").items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
        top_up_students(env, args.students)
        print(f"[{name}]")
        production_env = audited_production(env)
        subprocess.run([*MANAGE, "collectstatic", "--noinput", "-v0"], env=production_env,
                       check=True)  # fmt: skip
        subprocess.run([sys.executable, __file__, "--measure", "--requests", str(args.requests)],
                       env=production_env, check=True)  # fmt: skip


def measure(requests: int) -> None:
    # This folder's fhir.py would hide the fhir.resources package the app imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    setup_django()
    from django.test.utils import setup_test_environment

    from conftest import SignedInClient  # a sign-in with the second factor, as staff need
    from joinedup.people.intake import StudentDetails, find_duplicates
    from joinedup.people.models import Student, User

    setup_test_environment()
    students = Student.objects.count()
    # A realistic caseload (Wellbeing) and the largest seeded one (Counselling, a stress case).
    for email in ("practitioner@demo.joinedup.example", "counsellor@demo.joinedup.example"):
        user = User.objects.get(email=email)
        client = SignedInClient()
        client.force_login(user)
        print(f"  {students} students; {email.split('@')[0]}")
        time_pages(client, requests, {
            "by family name": "/students/find/?q=Patel",
            "by two names": "/students/find/?q=patel+sam",
            "by number part": "/students/find/?q=S0001",
            "by digits": "/students/find/?q=0001234",
            "by birth date": "/students/find/?q=1%2F1%2F1995",
            "nothing found": "/students/find/?q=Zebedee",
        })  # fmt: skip
        university = user.memberships.first().organisation
        details = StudentDetails(
            student_number="S00001234", legal_given_name="Sam", legal_family_name="Patel",
            date_of_birth=dt.date(1995, 1, 1), nhs_number="9434765919",
        )  # fmt: skip
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            find_duplicates(user, details, university)
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {'duplicate check':<18} p50 {statistics.median(times):6.1f} ms   "
              f"p95 {statistics.quantiles(times, n=20)[18]:6.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
