"""The service report at hub scale, against DuckDB over a Parquet export of the same data.

Generates five years of a hub (150,000 students, 125,000 ended or open episodes with their
referrals and appointments, 1,250,000 questionnaire administrations, plus referrals that were
declined, withdrawn or are still waiting) straight into the tables, on a fresh database of
each engine (SQLite under var/ and, when it answers, PostgreSQL database `bench_evaluation`);
the database's triggers keep each episode's scores and appointment counts as rows arrive.
Then it times the full hub report (every service, five years) and one service-year report,
computes the same figures with DuckDB over a Parquet export of the same tables (the floor),
prints the ratio, and asserts that every figure agrees with DuckDB's exactly, counted both
ways a report counts (the rows in Python, and on PostgreSQL by the database).

    .venv/bin/python benchmarks/evaluation.py [--episodes 125000] [--students 150000]
                                              [--administrations 1250000] [--repeat 3] [--keep]

`--keep` measures the databases an earlier run seeded, without seeding them again (after
applying any new migration).

Targets: one service-year under 1 s, the full hub under 5 s, within 3x of DuckDB.
"""

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from timing import MANAGE, databases, production, setup_django

SERVICE_YEAR_TARGET_S = 1
HUB_TARGET_S = 5
FLOOR_RATIO_TARGET = 3
YEARS = 5
FIRST_DAY = dt.date(2021, 1, 1)
TODAY = dt.date(2026, 1, 1)  # the still-waiting referrals' current wait runs to here
BATCH = 20_000

UNIVERSITIES = ["University of Northbridge", "Southgate University", "Eastbrook University",
                "Westmoor University"]  # fmt: skip
# (organisation, name, kind, waiting standard in days, measures asked at every session)
NHS_SERVICES = [
    ("Northbridge NHS Trust", "Talking Therapies", "talking_therapies", 42, ("PHQ-9", "GAD-7")),
    ("Northbridge NHS Trust", "Community Mental Health", "community_mental_health", 28,
     ("PHQ-9", "GAD-7")),
    ("Northbridge NHS Trust", "Student Liaison", "student_liaison", 14, ("PHQ-9", "GAD-7")),
    ("Northbridge Mind", "Mind Counselling", "third_sector", 21, ("CORE-10",)),
]  # fmt: skip
GENDERS = ["woman", "man", "non_binary", "other", "not_said", ""]
ETHNICITIES = ["asian", "black", "mixed", "white", "other", "not_said", ""]
YES_NO = ["yes", "no", "not_said", ""]
LEVELS = ["foundation", "undergraduate", "pgt", "pgr", ""]
DECLINE_REASONS = ["not_eligible", "higher", "lower", "out_of_area", "no_contact"]
MEASURE_RANGES = {"PHQ-9": 27, "GAD-7": 21, "CORE-10": 40}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--episodes", type=int, default=125_000)
    parser.add_argument("--administrations", type=int, default=1_250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--keep",
        action="store_true",
        help="measure the data an earlier run seeded, without seeding again",
    )
    parser.add_argument("--step", choices=["seed", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    parser.add_argument("--parquet", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "seed":
        seed(args.students, args.episodes, args.administrations)
        return
    if args.step == "measure":
        measure(args.repeat, Path(args.results), Path(args.parquet))
        return
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        parquet = Path(folder) / "parquet"
        for name, url in databases("bench_evaluation", fresh=not args.keep).items():
            env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
            env.pop("REPORTS_DATABASE_URL", None)
            print(f"[{name}]", flush=True)
            production_env = production(env)
            # Kept databases are migrated too: a new migration fills its tables from the rows.
            subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
            if not args.keep:
                subprocess.run([sys.executable, __file__, "--step", "seed", "--students",
                                str(args.students), "--episodes", str(args.episodes),
                                "--administrations", str(args.administrations)],
                               env=production_env, check=True)  # fmt: skip
            path = Path(folder) / f"{name}.json"
            subprocess.run([sys.executable, __file__, "--step", "measure", "--repeat",
                            str(args.repeat), "--results", str(path), "--parquet",
                            str(parquet)], env=production_env, check=True)  # fmt: skip
            results[name] = json.loads(path.read_text())
    summarise(results)


# Seeding ---------------------------------------------------------------------------------


class Writer:
    """Writes rows straight into a table: executemany on SQLite, COPY on PostgreSQL. Values
    are given as the database stores them (datetimes as UTC text, UUIDs as hex)."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.suffix = "+00" if self.postgres else ""

    def when(self, moment: dt.datetime | None) -> str | None:
        return None if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}{self.suffix}"

    def write(self, model, rows: list[dict]) -> None:
        """Insert rows of `model`; fields a row leaves out take their default (the same for
        every row; now, for a field Django fills on save), and each row gets a fresh UUID if
        the model has one."""
        if not rows:
            return
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        given = list(rows[0])
        constants = {}
        for field in fields:
            if field.attname in given or field.name == "uuid":
                continue
            value = field.get_default()  # "" for text fields, None for nullable ones
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = dt.datetime.now(dt.UTC)  # as Django would fill it on save
            constants[field.attname] = field.get_db_prep_save(value, self.connection)
        has_uuid = any(f.name == "uuid" for f in fields)
        columns = [f.column for f in fields]
        names = [f.attname for f in fields]
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                values = [
                    tuple(
                        row[name] if name in row else
                        (uuid.uuid4().hex if name == "uuid" and has_uuid else constants[name])
                        for name in names
                    )
                    for row in chunk
                ]  # fmt: skip
                if self.postgres:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - our names
                        values,
                    )


def seed(students: int, episodes: int, administrations: int) -> None:
    setup_django()
    from django.db import connection, transaction

    from joinedup.consent.models import CareRelationship
    from joinedup.measures.models import Administration
    from joinedup.people.models import Organisation, Service, Student, User
    from joinedup.referrals.models import Appointment, Episode, Referral

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    rng = random.Random(7)  # noqa: S311 - benchmark data, the same on both engines
    started = time.perf_counter()
    writer = Writer(connection)
    staff = User.objects.create_user("bench@example.org", "x" * 20)
    services = []  # (Service, measures)
    for name in UNIVERSITIES:
        uni = Organisation.objects.create(name=name, kind="university")
        for kind, standard in (("wellbeing", 7), ("counselling", 28)):
            service = Service.objects.create(organisation=uni, name=f"{name.split()[-1]} "
                                             f"{kind.title()}", kind=kind,
                                             waiting_standard_days=standard)  # fmt: skip
            services.append((service, ("CORE-10",)))
    organisations = {}
    for org, name, kind, standard, measures in NHS_SERVICES:
        if org not in organisations:
            organisations[org] = Organisation.objects.create(
                name=org, kind="third_sector" if "Mind" in org else "nhs_trust"
            )
        service = Service.objects.create(organisation=organisations[org], name=name, kind=kind,
                                         waiting_standard_days=standard)  # fmt: skip
        services.append((service, measures))
    universities = list(Organisation.objects.filter(kind="university").values_list("pk", flat=True))

    first_student = (Student.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    student_rows = []
    for n in range(students):
        born = dt.date(1985, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 20))
        student_rows.append({
            "university_id": universities[n % len(universities)],
            "legal_given_name": "Bench", "legal_family_name": f"Student{n}",
            "date_of_birth": born.isoformat(), "student_number": f"B{n:08d}",
            "gender": rng.choice(GENDERS), "ethnicity_group": rng.choice(ETHNICITIES),
            "disability": rng.choice(YES_NO), "first_in_family": rng.choice(YES_NO),
            "care_experienced": rng.choice(YES_NO), "level_of_study": rng.choice(LEVELS),
            "is_international": rng.random() < 0.2,
            "year_of_study": rng.choice([1, 2, 3, 4, None]),
            "created_at": writer.when(dt.datetime(2021, 1, 1, tzinfo=dt.UTC)),
        })  # fmt: skip
    with transaction.atomic():
        writer.write(Student, student_rows)
    del student_rows
    print(f"  {students:,} students ({time.perf_counter() - started:.0f} s)", flush=True)

    per_episode = administrations / episodes
    span = (TODAY - FIRST_DAY).days
    relationships, episode_rows, referral_rows, appointment_rows, administration_rows = (
        [], [], [], [], [])  # fmt: skip
    first_episode = (Episode.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    first_relationship = (
        CareRelationship.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ) + 1
    written = {"administrations": 0, "appointments": 0, "referrals": 0}
    for n in range(episodes):
        service, measures = rng.choice(services)
        student = first_student + rng.randrange(students)
        sent = dt.datetime.combine(FIRST_DAY, dt.time(9, tzinfo=dt.UTC)) + dt.timedelta(
            days=rng.randrange(span - 10), minutes=rng.randrange(600)
        )
        first_contact = sent + dt.timedelta(days=rng.randint(0, 40), hours=2)
        treated = first_contact + dt.timedelta(days=rng.randint(0, 60))
        # Sessions so that administrations come to about `per_episode` an episode.
        sessions = max(1, round(rng.uniform(0.4, 1.6) * per_episode / len(measures)))
        ends = treated + dt.timedelta(days=7 * sessions + 1)
        ended = ends if ends.date() < TODAY else None
        ending = "" if ended is None else ("planned" if rng.random() < 0.75 else "unplanned")
        episode_id = first_episode + n
        relationships.append({"student_id": student, "service_id": service.pk,
                              "reason": "episode", "opened_at": writer.when(treated),
                              "closed_at": writer.when(ended)})  # fmt: skip
        episode_rows.append({"student_id": student, "service_id": service.pk,
                             "relationship_id": first_relationship + n,
                             "started_at": writer.when(treated),
                             "ended_at": writer.when(ended), "ending": ending})  # fmt: skip
        source = rng.choice(["self", "self", "gp", "academic", "service"])
        from_service = None
        if source == "service":
            other = rng.choice(services)[0]
            from_service = other.pk if other.pk != service.pk else None
            source = "service" if from_service else "self"
        referral_rows.append(_referral(writer, student, source, from_service, service.pk, sent,
                                       "discharged" if ended else "in_treatment", staff.pk,
                                       first_contact=first_contact, treated=treated,
                                       ended=ended, ending=ending, episode=episode_id))  # fmt: skip
        start_scores = {code: rng.uniform(0.35, 0.9) * MEASURE_RANGES[code] for code in measures}
        for session in range(sessions):
            when = treated + dt.timedelta(days=7 * session)
            status = rng.choices(["attended", "missed", "cancelled"], [85, 10, 5])[0]
            appointment_rows.append({
                "episode_id": episode_id, "starts_at": writer.when(when),
                "kind": "assessment" if session == 0 and rng.random() < 0.3 else "treatment",
                "status": status, "cancelled_by": "student" if status == "cancelled" else "",
                "recorded_by_id": staff.pk, "updated_at": writer.when(when),
            })  # fmt: skip
            for code in measures:
                top = MEASURE_RANGES[code]
                drift = rng.uniform(-0.25, 0.05) * top * session / max(sessions - 1, 1)
                score = round(min(top, max(0, start_scores[code] + drift + rng.gauss(0, 2))))
                valid = rng.random() > 0.02
                administration_rows.append({
                    "student_id": student, "service_id": service.pk, "episode_id": episode_id,
                    "session_number": session + 1, "code": code,
                    "completed_at": writer.when(when + dt.timedelta(minutes=50)),
                    "method": "in_session", "recorded_by_id": staff.pk, "is_valid": valid,
                    "total": score if valid else None, "main_score": score if valid else None,
                    "created_at": writer.when(when),
                })  # fmt: skip
        if len(administration_rows) >= 200_000 or n == episodes - 1:
            with transaction.atomic():
                writer.write(CareRelationship, relationships)
                writer.write(Episode, episode_rows)
                writer.write(Referral, referral_rows)
                writer.write(Appointment, appointment_rows)
                writer.write(Administration, administration_rows)
            written["administrations"] += len(administration_rows)
            written["appointments"] += len(appointment_rows)
            written["referrals"] += len(referral_rows)
            relationships, episode_rows, referral_rows, appointment_rows, administration_rows = (
                [], [], [], [], [])  # fmt: skip
            print(f"  episodes {n + 1:,} / {episodes:,} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    # Referrals that led to no episode: declined, withdrawn, or still waiting.
    others = []
    for _ in range(episodes // 5):
        service, _measures = rng.choice(services)
        sent = dt.datetime.combine(FIRST_DAY, dt.time(10, tzinfo=dt.UTC)) + dt.timedelta(
            days=rng.randrange(span), minutes=rng.randrange(600)
        )
        state = rng.choices(["declined", "withdrawn", "waiting", "sent", "accepted"],
                            [50, 20, 15, 10, 5])[0]  # fmt: skip
        first_contact = (sent + dt.timedelta(days=rng.randint(0, 20))
                         if state in ("waiting", "withdrawn") else None)  # fmt: skip
        others.append(_referral(writer, first_student + rng.randrange(students),
                                rng.choice(["self", "gp", "academic"]), None, service.pk, sent,
                                state, staff.pk, first_contact=first_contact,
                                decline_reason=rng.choice(DECLINE_REASONS)
                                if state == "declined" else ""))  # fmt: skip
    with transaction.atomic():
        writer.write(Referral, others)
    written["referrals"] += len(others)
    with connection.cursor() as cursor:
        # As autovacuum does after such a load: statistics for the planner and, on
        # PostgreSQL, the visibility map that lets index-only scans skip the table.
        cursor.execute("VACUUM ANALYZE" if writer.postgres else "ANALYZE")
    print(
        f"  seeded in {time.perf_counter() - started:.1f} s: {episodes:,} episodes, "
        + ", ".join(f"{n:,} {what}" for what, n in written.items()),
        flush=True,
    )


def _referral(writer, student, source, from_service, to_service, sent, state, staff, *,
              first_contact=None, treated=None, ended=None, ending="", episode=None,
              decline_reason=""):  # fmt: skip
    return {
        "student_id": student, "source": source, "from_service_id": from_service,
        "to_service_id": to_service, "state": state, "reason": "Benchmark referral",
        "created_by_id": staff, "created_at": writer.when(sent), "sent_at": writer.when(sent),
        "decided_at": writer.when(sent + dt.timedelta(days=1)) if state != "sent" else None,
        "decline_reason": decline_reason, "first_contact_at": writer.when(first_contact),
        "treatment_started_at": writer.when(treated), "discharged_at": writer.when(ended),
        "ending": ending, "episode_id": episode, "last_changed_at": writer.when(sent),
    }  # fmt: skip


# Measuring -------------------------------------------------------------------------------

EXPORTS = {
    "referrals": "SELECT student_id, source, from_service_id, to_service_id, state, "
                 "decline_reason, sent_at, first_contact_at, treatment_started_at "
                 "FROM referrals_referral WHERE sent_at IS NOT NULL",
    "episodes": "SELECT id, student_id, service_id, ending, started_at, ended_at "
                "FROM referrals_episode",
    "appointments": "SELECT episode_id, starts_at, kind, status FROM referrals_appointment",
    "administrations": "SELECT id, episode_id, code, completed_at, is_valid, main_score "
                       "FROM measures_administration WHERE episode_id IS NOT NULL",
    "services": "SELECT id, organisation_id, kind, waiting_standard_days FROM people_service",
}  # fmt: skip


def export_parquet(connection, folder: Path) -> None:
    """Each table the report reads, as Parquet (through CSV, which DuckDB turns into
    Parquet), with timestamps as UTC text."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in EXPORTS.items():
        path = folder / f"{name}.csv"
        with connection.cursor() as cursor, path.open("w", newline="") as out:
            cursor.execute(sql)
            writer = csv.writer(out)
            writer.writerow([c[0] for c in cursor.description])
            while rows := cursor.fetchmany(50_000):
                writer.writerows([[_plain(v) for v in row] for row in rows])
        source = f"read_csv('{path}', header = true, timestampformat = '%Y-%m-%d %H:%M:%S')"
        target = f"'{folder / name}.parquet'"
        duckdb.sql(f"COPY (SELECT * FROM {source}) TO {target} (FORMAT parquet)")  # noqa: S608
        path.unlink()


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " ":
        return value[:19]  # SQLite's stored UTC text
    if isinstance(value, bool):
        return int(value)
    return value


def duckdb_figures(folder: Path, start: dt.date, end: dt.date, services: list[int]) -> dict:
    """The report's raw figures for the period and services, written again in SQL over the
    Parquet files: the reference the report must agree with, and the speed floor."""
    import duckdb

    con = duckdb.connect()
    for name in EXPORTS:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM '{folder / name}.parquet'")  # noqa: S608
    ids = ", ".join(str(s) for s in services)

    def one(sql):
        return con.execute(sql).fetchone()

    received = f"""FROM referrals r JOIN services s ON s.id = r.to_service_id
                   WHERE r.sent_at >= TIMESTAMP '{start}' AND r.sent_at < TIMESTAMP '{end}'
                     AND r.to_service_id IN ({ids})"""
    figures = {}
    figures["referrals"], figures["students"] = one(
        f"SELECT count(*), count(DISTINCT student_id) {received}"
    )

    def waits(expr, where):
        rank = one(f"""SELECT count(*), count(DISTINCT student_id),
                       list_sort(list({expr})) {received} AND {where}""")
        ordered = rank[2] or []
        return {"count": rank[0], "students": rank[1],
                **{p: (ordered[-(-p * len(ordered) // 100) - 1] if ordered else None)
                   for p in (50, 75, 95)}}  # fmt: skip

    first = "date_diff('day', CAST(r.sent_at AS DATE), CAST(r.first_contact_at AS DATE))"
    treat = "date_diff('day', CAST(r.sent_at AS DATE), CAST(r.treatment_started_at AS DATE))"
    figures["first_contact"] = waits(first, "r.first_contact_at IS NOT NULL")
    figures["treatment"] = waits(treat, "r.treatment_started_at IS NOT NULL")
    figures["still_waiting"] = waits(
        f"date_diff('day', CAST(r.sent_at AS DATE), DATE '{TODAY}')",
        "r.treatment_started_at IS NULL AND r.state IN ('sent', 'accepted', 'waiting')",
    )
    figures["within_standard"] = list(
        one(
            f"""SELECT count(*) FILTER ({first} <= s.waiting_standard_days),
                   count(*) FILTER (s.waiting_standard_days IS NOT NULL)
            {received} AND r.first_contact_at IS NOT NULL"""
        )
    )
    figures["appointments"] = list(
        one(
            f"""SELECT count(*) FILTER (a.status = 'attended'),
                   count(*) FILTER (a.status = 'missed')
            FROM appointments a JOIN episodes e ON e.id = a.episode_id
            WHERE a.starts_at >= TIMESTAMP '{start}' AND a.starts_at < TIMESTAMP '{end}'
              AND e.service_id IN ({ids})"""  # noqa: S608
        )
    )
    con.execute(f"""CREATE TEMP TABLE ended AS
        SELECT e.id, e.student_id, e.ending,
               (SELECT count(*) FROM appointments a WHERE a.episode_id = e.id
                  AND a.status = 'attended' AND a.kind = 'treatment') AS attended
        FROM episodes e
        WHERE e.ended_at >= TIMESTAMP '{start}' AND e.ended_at < TIMESTAMP '{end}'
          AND e.service_id IN ({ids})""")  # noqa: S608
    figures["endings"] = list(
        one("SELECT count(*), count(*) FILTER (ending = 'planned') FROM ended")
    )
    con.execute("""CREATE TEMP TABLE pairs AS
        SELECT m.episode_id, m.code, arg_min(m.main_score, (m.completed_at, m.id)) AS first,
               arg_max(m.main_score, (m.completed_at, m.id)) AS last, count(*) AS n
        FROM administrations m JOIN ended ON ended.id = m.episode_id
        WHERE m.is_valid = 1 AND m.main_score IS NOT NULL
        GROUP BY m.episode_id, m.code""")
    rules = {"PHQ-9": (6, 10), "GAD-7": (4, 8), "CORE-10": (6, 11)}
    figures["measures"] = {}
    for code, (rci, cutoff) in rules.items():
        row = one(f"""SELECT count(*), avg(first), avg(last), stddev_samp(first),
                        count(*) FILTER (first - last >= {rci}),
                        count(*) FILTER (last - first >= {rci}),
                        count(*) FILTER (first >= {cutoff}),
                        count(*) FILTER (first >= {cutoff} AND last < {cutoff}),
                        count(*) FILTER (first >= {cutoff} AND last < {cutoff}
                                         AND first - last >= {rci})
                      FROM pairs WHERE code = '{code}' AND n >= 2""")  # noqa: S608
        n, mean_first, mean_last, sd, improved, deteriorated, case, recovered, reliably = row
        figures["measures"][code] = {
            "paired": n, "mean_first": mean_first, "mean_last": mean_last,
            "effect_size": (mean_last - mean_first) / sd if n >= 2 and sd else None,
            "reliable_improvement": improved, "reliable_deterioration": deteriorated,
            "no_reliable_change": n - improved - deteriorated, "case_at_start": case,
            "recovery": recovered, "reliable_recovery": reliably,
            "clinically_significant": reliably,
        }  # fmt: skip
    row = one("""
        WITH tt AS (
          SELECT ended.id, ended.attended, p.first AS pf, p.last AS pl, g.first AS gf,
                 g.last AS gl
          FROM ended
          JOIN pairs p ON p.episode_id = ended.id AND p.code = 'PHQ-9' AND p.n >= 2
          JOIN pairs g ON g.episode_id = ended.id AND g.code = 'GAD-7' AND g.n >= 2
          WHERE ended.attended >= 2),
        flags AS (
          SELECT (pf >= 10 OR gf >= 8) AS case_start, (pl >= 10 OR gl >= 8) AS case_end,
                 (pl - pf >= 6 OR gl - gf >= 4) AS deteriorated,
                 (pf - pl >= 6 OR gf - gl >= 4) AS improved_any FROM tt)
        SELECT count(*), count(*) FILTER (case_start),
               count(*) FILTER (case_start AND NOT case_end),
               count(*) FILTER (improved_any AND NOT deteriorated),
               count(*) FILTER (deteriorated),
               count(*) FILTER (case_start AND NOT case_end AND improved_any
                                AND NOT deteriorated)
        FROM flags""")
    figures["talking_therapies"] = dict(zip(
        ["eligible", "case_at_start", "recovery", "reliable_improvement",
         "reliable_deterioration", "reliable_recovery"], row, strict=True))  # fmt: skip
    figures["talking_therapies"]["finished"] = one(
        "SELECT count(*) FROM ended WHERE attended >= 2"
    )[0]
    return figures


def report_figures(figures) -> dict:
    """The same raw figures from the report's own metrics, in DuckDB's shape."""

    def waits(d):
        return {"count": d.count, "students": d.students, **d.percentiles}

    w = figures.waiting
    return {
        "referrals": figures.activity.referrals,
        "students": figures.activity.students,
        "first_contact": waits(w.to_first_contact),
        "treatment": waits(w.to_treatment),
        "still_waiting": waits(w.still_waiting),
        "within_standard": [w.within_standard, w.with_standard],
        "appointments": [figures.appointments.attended, figures.appointments.missed],
        "endings": [figures.endings.ended, figures.endings.planned],
        "measures": {
            code: {
                key: getattr(m, key)
                for key in (
                    "paired",
                    "mean_first",
                    "mean_last",
                    "effect_size",
                    "reliable_improvement",
                    "reliable_deterioration",
                    "no_reliable_change",
                    "case_at_start",
                    "recovery",
                    "reliable_recovery",
                    "clinically_significant",
                )
            }
            for code, m in figures.measures.items()
        },
        "talking_therapies": {
            key: getattr(figures.talking_therapies, key)
            for key in (
                "eligible",
                "case_at_start",
                "recovery",
                "reliable_improvement",
                "reliable_deterioration",
                "reliable_recovery",
                "finished",
            )
        },
    }


def _same(ours, theirs, path="") -> list[str]:
    """Where two sets of figures differ: whole numbers exactly; means and effect sizes to 12
    significant figures (they are summed in a different order)."""
    if isinstance(ours, dict):
        return [d for key in ours for d in _same(ours[key], theirs.get(key, theirs.get(
            str(key))), f"{path}/{key}")]  # fmt: skip
    if isinstance(ours, float) or isinstance(theirs, float):
        if ours is None or theirs is None:
            return [] if ours is theirs else [f"{path}: {ours} != {theirs}"]
        return [] if abs(ours - theirs) <= 1e-12 * max(1, abs(ours)) else [
            f"{path}: {ours!r} != {theirs!r}"]  # fmt: skip
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def measure(repeat: int, results: Path, parquet: Path) -> None:
    setup_django()
    from django.db import connections

    from joinedup.evaluation import metrics, reports
    from joinedup.people.models import Service

    connection = connections["reports"]
    if not Service.objects.exists():
        sys.exit("Nothing was seeded in this database: run the benchmark once without --keep.")
    if not parquet.exists():
        started = time.perf_counter()
        export_parquet(connection, parquet)
        print(f"  exported to Parquet in {time.perf_counter() - started:.1f} s", flush=True)
    all_services = sorted(Service.objects.values_list("pk", flat=True))
    busiest = Service.objects.get(name="Talking Therapies").pk
    cases = {
        "service-year report": (dt.date(2024, 1, 1), dt.date(2025, 1, 1), [busiest]),
        "full hub report": (FIRST_DAY, TODAY, all_services),
    }
    out = {}
    for label, (start, end, services) in cases.items():
        parameters = reports.ReportParameters(start, end, tuple(services))
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            reports.build_report(parameters, today=TODAY)
            times.append(time.perf_counter() - began)
        floor = []
        for _ in range(repeat):
            began = time.perf_counter()
            theirs = duckdb_figures(parquet, start, end, services)
            floor.append(time.perf_counter() - began)
        by_pk = {s.pk: s for s in Service.objects.filter(pk__in=services)}
        day = metrics.day_number(TODAY)
        # Both ways of counting (the rows here, or the database) must give DuckDB's figures.
        rows = reports.fetch_rows(start, end, services)
        ours = report_figures(reports.compute(rows, by_pk, ["PHQ-9", "GAD-7", "CORE-10"], day))
        theirs = json.loads(json.dumps(theirs, default=str))
        differences = _same(ours, theirs)
        counted = reports.compute_in_database(start, end, by_pk, day)
        differences += _same(report_figures(counted), theirs, "counted by the database: ")
        best, fastest = min(times), min(floor)
        print(f"  {label:<22} {best:6.2f} s   DuckDB {fastest:6.2f} s   "
              f"ratio {best / fastest:5.1f}   {ours['referrals']:,} referrals, "
              f"{ours['endings'][0]:,} endings   "
              f"{'figures agree' if not differences else 'FIGURES DIFFER'}",
              flush=True)  # fmt: skip
        for difference in differences[:20]:
            print(f"    {difference}")
        out[label] = {"seconds": best, "duckdb": fastest, "differences": differences}
    results.write_text(json.dumps(out))
    assert not any(r["differences"] for r in out.values()), "The figures differ from DuckDB's."


def summarise(results: dict) -> None:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER TARGET"

    targets = {"service-year report": SERVICE_YEAR_TARGET_S, "full hub report": HUB_TARGET_S}
    print(
        f"\nSummary — targets: service-year < {SERVICE_YEAR_TARGET_S} s, full hub < "
        f"{HUB_TARGET_S} s, within {FLOOR_RATIO_TARGET}x of DuckDB; figures equal DuckDB's"
    )
    for name, result in results.items():
        print(f"  [{name}]")
        for label, r in result.items():
            ratio = r["seconds"] / r["duckdb"]
            print(f"    {label:<22} {r['seconds']:6.2f} s (DuckDB {r['duckdb']:.2f} s, "
                  f"{ratio:.1f}x)   time {verdict(r['seconds'] < targets[label])}   "
                  f"ratio {verdict(ratio <= FLOOR_RATIO_TARGET)}   "
                  f"figures {'agree' if not r['differences'] else 'DIFFER'}")  # fmt: skip


if __name__ == "__main__":
    main()
