"""Shared by the benchmarks: databases to run on, production settings, page timing."""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def databases(name: str, *, fresh: bool = False) -> dict[str, str]:
    """SQLite under var/ and, when it answers, a PostgreSQL database of this name."""
    sqlite = ROOT / "var" / f"{name}.sqlite3"
    if fresh:
        sqlite.unlink(missing_ok=True)
    found = {"sqlite": f"sqlite:///{sqlite}"}
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                             connect_timeout=3) as conn:  # fmt: skip
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        found["postgresql"] = f"postgres://postgres@127.0.0.1:5432/{name}"
    except Exception as error:  # any failure means: skip PostgreSQL
        print(f"PostgreSQL not measured: {error}")
    return found


def production(env: dict) -> dict:
    """Measure as production runs: DEBUG off (no query log, no static file rescans),
    persistent database connections."""
    return env | {
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-key-" + "x" * 40,
        "AUDIT_CHAIN_KEY": "benchmark-only-chain-key-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_CONN_MAX_AGE": "60",
    }


def top_up_students(env: dict, students: int) -> int:
    """Seed synthetic students until the database holds `students` (the benchmarks that
    share a database share them); returns how many were added."""
    import subprocess

    count = "from joinedup.people.models import Student; print(Student.objects.count())"
    have = int(
        subprocess.run([*MANAGE, "shell", "-v0", "-c", count], env=env, check=True,
                       capture_output=True, text=True).stdout.strip()
    )  # fmt: skip
    if have < students:
        subprocess.run([*MANAGE, "seed", "--students", str(students - have)], env=env, check=True)
    return max(students - have, 0)


def audited_production(env: dict) -> dict:
    """`production`, with the audit log's key, writing no checkpoints into var/."""
    return production(env) | {
        "AUDIT_CHAIN_KEY": "benchmark-only-audit-key-" + "x" * 40,
        "AUDIT_CHECKPOINT_FILE": "",
    }


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    import django

    django.setup()


def time_pages(client, requests, pages) -> None:
    """Time each page through the WSGI application itself (no test-client instrumentation)."""
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from joinedup.wsgi import application as app  # as a WSGI server loads it

    factory = RequestFactory()
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
