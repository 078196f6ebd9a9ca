"""Server time and query count of the caseload and the student record page at hub scale.

Seeds 150,000 students (once per database; reused on later runs), then times each page
in-process through Django's test client, on SQLite and, when it answers, on PostgreSQL.

    .venv/bin/python benchmarks/record_page.py [--students 150000] [--requests 200]

Target (issue #2): p95 at most 100 ms; a query count that does not grow with students.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/joinedup_bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.requests)
        return
    databases = {"sqlite": f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"}
    if _postgres_answers():
        databases["postgresql"] = PG_URL
    for name, url in databases.items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        run = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*run, "migrate", "-v0"], env=env, check=True)
        have = int(
            subprocess.run(
                [*run, "shell", "-v0", "-c", "from joinedup.people.models import Student;"
                 "print(Student.objects.count())"],
                env=env, check=True, capture_output=True, text=True,
            ).stdout.strip()
        )  # fmt: skip
        if have < args.students:
            started = time.perf_counter()
            subprocess.run([*run, "seed", "--students", str(args.students - have)], env=env,
                           check=True)  # fmt: skip
            print(f"[{name}] seeded {args.students - have} students in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        print(f"[{name}]")
        # Measure as production runs: DEBUG off (no query log, no static file rescans),
        # persistent database connections.
        production = env | {
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-key-" + "x" * 40,
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_CONN_MAX_AGE": "60",
        }
        subprocess.run([*run, "collectstatic", "--noinput", "-v0"], env=production, check=True)
        subprocess.run([sys.executable, __file__, "--measure", "--requests", str(args.requests)],
                       env=production, check=True)  # fmt: skip


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=3) as conn:  # fmt: skip
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = 'joinedup_bench'"
            ).fetchone()
            if not exists:
                conn.execute("CREATE DATABASE joinedup_bench")
        return True
    except Exception as error:  # any failure means: skip PostgreSQL
        print(f"PostgreSQL not measured: {error}")
        return False


def measure(requests: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    import django

    django.setup()
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
        _time_pages(client, requests, {
            "caseload": "/students/",
            "caseload search": "/students/?q=Patel",
            "caseload page 20": "/students/?page=20",
            "record page": f"/students/{student.uuid}/",
        })  # fmt: skip


def _time_pages(client, requests, pages) -> None:
    """Time each page through the WSGI handler itself (no test-client instrumentation)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    app, factory = WSGIHandler(), RequestFactory()
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())

    def get(url: str) -> str:
        path, _, query = url.partition("?")
        environ = factory._base_environ(PATH_INFO=path, QUERY_STRING=query, HTTP_COOKIE=cookie)
        statuses: list[str] = []
        b"".join(app(environ, lambda status, headers, *args: statuses.append(status)))
        return statuses[0]

    for label, url in pages.items():
        get(url)  # warm up
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            status = get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert status.startswith("200"), (url, status)
        with CaptureQueriesContext(connection) as queries:
            get(url)
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"  {label:<18} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {len(queries)} queries")


if __name__ == "__main__":
    main()
