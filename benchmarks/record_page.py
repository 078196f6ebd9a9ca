"""Server time and query count of the caseload and the student record page at hub scale.

Seeds 150,000 students (once per database; reused on later runs), then times each page
in-process through Django's test client, on SQLite and, when it answers, on PostgreSQL.

    .venv/bin/python benchmarks/record_page.py [--students 150000] [--requests 200]

Target (issue #2): p95 at most 100 ms; a query count that does not grow with students.
"""

import argparse
import os
import subprocess
import sys
import time

from timing import MANAGE, databases, production, setup_django, time_pages, top_up_students


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.requests)
        return
    for name, url in databases("bench").items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        run = MANAGE
        subprocess.run([*run, "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        if added := top_up_students(env, args.students):
            print(f"[{name}] seeded {added} students in {time.perf_counter() - started:.1f} s")
        print(f"[{name}]")
        production_env = production(env)
        subprocess.run([*run, "collectstatic", "--noinput", "-v0"], env=production_env, check=True)
        subprocess.run([sys.executable, __file__, "--measure", "--requests", str(args.requests)],
                       env=production_env, check=True)  # fmt: skip


def measure(requests: int) -> None:
    setup_django()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from joinedup.consent.policy import readable_students
    from joinedup.people.models import Student, User

    setup_test_environment()
    students = Student.objects.count()
    # A realistic caseload (Wellbeing, about 1,100 students) and the largest seeded one
    # (Counselling, about 16,000 open relationships): the second is a stress case.
    for email in ("practitioner@demo.joinedup.example", "counsellor@demo.joinedup.example"):
        user = User.objects.get(email=email)
        client = Client()
        client.force_login(user)
        caseload = readable_students(user, "identity", bases=("relationship",))
        student = caseload.order_by("pk").last()
        print(f"  {students} students; {email.split('@')[0]}: {caseload.count()} on the caseload")
        time_pages(client, requests, {
            "caseload": "/students/",
            "caseload search": "/students/?q=Patel",
            "caseload page 20": "/students/?page=20",
            "record page": f"/students/{student.uuid}/",
        })  # fmt: skip


if __name__ == "__main__":
    main()
