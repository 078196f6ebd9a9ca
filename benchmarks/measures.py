"""Questionnaire scoring throughput, history import against PostgreSQL's COPY, and the
trajectory page of a student with 40 sessions.

    .venv/bin/python benchmarks/measures.py [--answers 1000000] [--requests 200]

Targets (issue #3): import of one million item answers from CSV within 5 times the time of
PostgreSQL's own COPY of the same rows; the trajectory page's p95 printed on both databases.
"""

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import time

from timing import MANAGE, ROOT, databases, production, setup_django, time_pages

SESSIONS = 40
STUDENTS = 20_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--step", choices=["import", "page"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "import":
        measure_import(args.answers)
        return
    if args.step == "page":
        measure_page(args.requests)
        return
    measure_scoring()
    for name, url in databases("bench_measures", fresh=True).items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
        subprocess.run([*MANAGE, "seed", "--students", str(STUDENTS), "-v0"], env=env, check=True)
        print(f"[{name}]")
        production_env = production(env)
        if name == "postgresql":
            subprocess.run([sys.executable, __file__, "--step", "import", "--answers",
                            str(args.answers)], env=production_env, check=True)  # fmt: skip
        subprocess.run([*MANAGE, "collectstatic", "--noinput", "-v0"], env=production_env,
                       check=True)  # fmt: skip
        subprocess.run([sys.executable, __file__, "--step", "page", "--requests",
                        str(args.requests)], env=production_env, check=True)  # fmt: skip


def measure_scoring(count: int = 200_000) -> None:
    sys.path.insert(0, str(ROOT))
    from joinedup.measures import instruments, scoring

    rng = random.Random(1)  # noqa: S311 - benchmark data
    batch = []
    for n in range(count):
        instrument = instruments.all_instruments()[n % len(instruments.CODES)]
        low, high = instrument.answer_min, instrument.answer_max
        answers = [rng.randint(low, high) for _ in instrument.items]
        if n % 10 == 0:
            answers[0] = None
        batch.append((instrument.code, answers))
    started = time.perf_counter()
    for code, answers in batch:
        scoring.score(code, answers)
    elapsed = time.perf_counter() - started
    print(f"scoring: {count / elapsed:,.0f} administrations per second "
          f"(all six measures, 10% with a missing item)")  # fmt: skip


def measure_import(answers: int) -> None:
    setup_django()
    from django.db import connection

    from joinedup.measures.importing import import_history
    from joinedup.people.models import Service, Student, User

    service = Service.objects.select_related("organisation").get(
        name="Northbridge Wellbeing Service"
    )
    actor = User.objects.get(email="practitioner@demo.joinedup.example")
    numbers = list(
        Student.objects.filter(university=service.organisation)
        .order_by("pk")
        .values_list("student_number", flat=True)
    )
    path = ROOT / "var" / "bench_history.csv"
    rows, written = _write_history(path, numbers, answers)
    with path.open(newline="") as lines:
        started = time.perf_counter()
        report = import_history(actor=actor, service=service, lines=lines)
        imported = time.perf_counter() - started
    assert report.ok, report.errors[:5]
    print(f"  import: {rows:,} questionnaires, {written:,} item answers in {imported:.1f} s "
          f"({written / imported:,.0f} answers per second)")  # fmt: skip
    with path.open(newline="") as lines:
        started = time.perf_counter()
        again = import_history(actor=actor, service=service, lines=lines)
        print(f"  import again: {again.imported} new, {again.already_present:,} already present, "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    plain = _copy_into_plain_table(connection, written)
    same = _copy_into_answers_table(connection)
    print(
        f"  PostgreSQL COPY of the same {written:,} answers into the answers table "
        f"(its indexes and foreign key): {same:.1f} s; import / COPY: {imported / same:.1f}"
    )
    print(
        f"  PostgreSQL COPY of {written:,} rows into a table with no index or foreign key: "
        f"{plain:.1f} s; import / COPY: {imported / plain:.1f}"
    )


def _write_history(path, numbers, answers):
    """PHQ-9 and GAD-7 rows, alternately, until `answers` item answers are written."""
    rng = random.Random(2)  # noqa: S311 - benchmark data
    start = dt.date(2022, 1, 1)
    rows = written = 0
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student_number", "date", "measure", "session",
                         *[f"item_{n}" for n in range(1, 10)]])  # fmt: skip
        while written < answers:
            code, items = ("PHQ-9", 9) if rows % 2 == 0 else ("GAD-7", 7)
            student = numbers[(rows // 2) % len(numbers)]
            session = rows // (2 * len(numbers)) + 1
            day = start + dt.timedelta(days=7 * session + rows % 5)
            values = [rng.randint(0, 3) for _ in range(items)]
            writer.writerow([student, day.isoformat(), code, session, *values,
                             *[""] * (9 - items)])  # fmt: skip
            rows += 1
            written += items
    return rows, written


def _copy_into_plain_table(connection, written: int) -> float:
    """COPY of as many (administration, item, value) rows into a bare table: the floor of
    moving the bytes in, with nothing checked or indexed."""
    rng = random.Random(3)  # noqa: S311 - benchmark data
    lines = "".join(f"{n // 8 + 1},{n % 9 + 1},{rng.randint(0, 3)}\n" for n in range(written))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute("CREATE TABLE bench_copy_floor (administration_id bigint NOT NULL, "
                       "item smallint NOT NULL, value smallint NOT NULL)")  # fmt: skip
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy_floor FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(lines)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_floor")
    return elapsed


def _copy_into_answers_table(connection) -> float:
    """PostgreSQL's own COPY of exactly the rows the import wrote, into the answers table
    (so with its indexes and its foreign key checked), committed."""
    from django.db import transaction

    imported = ("SELECT a.administration_id, a.item, a.value FROM measures_answer a JOIN "
                "measures_administration m ON m.id = a.administration_id "
                "WHERE m.method = 'imported'")  # fmt: skip
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY ({imported}) TO STDOUT") as copy:
            rows = b"".join(bytes(data) for data in copy)
        cursor.execute(f"DELETE FROM measures_answer WHERE (administration_id, item) IN "  # noqa: S608
                       f"(SELECT administration_id, item FROM ({imported}) AS i)")  # fmt: skip
        cursor.execute("VACUUM measures_answer")
        started = time.perf_counter()
        with transaction.atomic(), cursor.copy("COPY measures_answer (administration_id, item, "
                                               "value) FROM STDIN") as copy:  # fmt: skip
            copy.write(rows)
        return time.perf_counter() - started


def measure_page(requests: int) -> None:
    setup_django()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from joinedup.measures.demo import answers_for
    from joinedup.measures.instruments import get
    from joinedup.measures.services import record_administration
    from joinedup.people.models import Service, Student, User
    from joinedup.referrals.services import open_episode

    setup_test_environment()
    user = User.objects.get(email="practitioner@demo.joinedup.example")
    service = Service.objects.get(name="Northbridge Wellbeing Service")
    student = Student.objects.filter(university=service.organisation).order_by("-pk").first()
    episode = open_episode(actor=user, student=student, service=service)
    rng = random.Random(4)  # noqa: S311 - benchmark data
    for session in range(1, SESSIONS + 1):
        for code in ("PHQ-9", "GAD-7"):
            target = max(0, 18 - session // 3 + rng.randint(-2, 2))
            record_administration(
                actor=user, student=student, service=service, code=code, episode=episode,
                answers=answers_for(get(code), target, rng), method="in_session",
                session_number=session,
            )  # fmt: skip
    client = Client()
    client.force_login(user)
    print(f"  trajectory page: {SESSIONS} sessions of PHQ-9 and GAD-7")
    time_pages(client, requests, {"trajectory page": f"/students/{student.uuid}/measures/"})


if __name__ == "__main__":
    main()
