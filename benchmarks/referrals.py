"""Waiting lists, the gap worklist and a full gap-detection run with three years of referrals.

Seeds 150,000 students, then three years of referrals between the hub's services (75,000
by default) with their care relationships, episodes, appointments and follow-ups, on a fresh
database of each engine; then runs gap detection and times the pages with production
settings, on SQLite and, when it answers, on PostgreSQL.

    .venv/bin/python benchmarks/referrals.py [--students 150000] [--referrals 75000]
                                             [--requests 100]

Targets: the waiting list and the gap worklist at most 150 ms at p95, with a query count that
does not grow with the rows shown; a full gap-detection run under 10 s.
"""

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from timing import MANAGE, databases, production, setup_django, time_pages

PAGE_TARGET_MS = 150
DETECTION_TARGET_S = 10
YEARS = 3
BATCH = 5000  # rows per INSERT
CHUNK = 2500  # referrals (and all that follows from them) per transaction

# The hub's services: (university, kind), or the kind alone for the NHS trust's and the charity's.
SERVICES = {
    "north_wellbeing": ("north", "wellbeing"),
    "north_counselling": ("north", "counselling"),
    "south_wellbeing": ("south", "wellbeing"),
    "south_counselling": ("south", "counselling"),
    "crisis": (None, "crisis"),
    "talking": (None, "talking_therapies"),
    "cmht": (None, "community_mental_health"),
    "liaison": (None, "student_liaison"),
    "charity": (None, "third_sector"),
}
NHS = frozenset({"crisis", "talking", "cmht", "liaison"})
UNIVERSITIES = {"north": "University of Northbridge", "south": "Southgate University"}
# Who acts for each service: the demo's staff where it has them.
STAFF = {"north_counselling": "counsellor", "crisis": "nhs-clinician", "talking": "triage",
         "cmht": "triage", "liaison": "liaison"}  # fmt: skip

# The demo's ROUTES (one service referring to another) make this share of referrals; the
# rest come from students themselves, GPs and academic staff, as the directory allows.
SERVICE_SHARE = 0.7
OTHER_ROUTES = [
    ("self", "{uni}_wellbeing", 0.45),
    ("self", "{uni}_counselling", 0.2),
    ("gp", "talking", 0.15),
    ("self", "talking", 0.1),
    ("academic", "{uni}_wellbeing", 0.1),
]
REASONS = [
    "Low mood and anxiety affecting study; wants to talk to someone.",
    "Panic attacks before exams; has stopped attending lectures.",
    "Low mood since a bereavement; sleeping badly.",
    "Self-harm disclosed to a personal tutor; safety plan in place.",
    "Worsening anxiety and isolation in halls.",
    "Eating difficulties; GP has checked physical health.",
]


@dataclass(frozen=True)
class Profile:
    """How a kind of service treats its referrals."""

    declined: float  # share declined
    withdrawn: float  # share withdrawn while waiting
    wait: tuple[float, float, float]  # days from sent to treatment: low, high, most likely
    sessions: tuple[int, int]  # sessions of treatment, fewest and most
    every: int  # days between sessions


PROFILES = {
    "wellbeing": Profile(0.08, 0.05, (2, 25, 6), (3, 6), 7),
    "counselling": Profile(0.10, 0.06, (5, 50, 18), (4, 8), 7),
    "talking": Profile(0.15, 0.07, (10, 105, 35), (6, 12), 7),
    "cmht": Profile(0.30, 0.04, (7, 90, 25), (8, 20), 14),
    "liaison": Profile(0.10, 0.05, (3, 40, 12), (4, 10), 7),
    "crisis": Profile(0.20, 0.02, (0, 0, 0), (4, 12), 2),
    "charity": Profile(0.05, 0.08, (3, 30, 10), (4, 8), 7),
}
USES_WAITING_LIST = 0.88  # the rest stay "accepted" until treatment starts
STOPS_ATTENDING = 0.2  # stop part way; discharged (unplanned) some weeks later
HELD = 0.7  # a university service keeps seeing the student while the NHS one is awaited
FOLLOWED_UP = 0.8  # the university sees the student after an NHS discharge
DECLINE_REASONS = ["higher", "lower", "not_eligible", "out_of_area", "no_contact"]
STATUSES = (["attended", "missed", "cancelled"], [85, 10, 5])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--referrals", type=int, default=75_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--step", choices=["seed-referrals", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "seed-referrals":
        seed_referrals(args.referrals)
        return
    if args.step == "measure":
        measure(args.requests, Path(args.results))
        return
    results = {}
    for name, url in databases("bench_referrals", fresh=True).items():
        env = os.environ | {"DATABASE_URL": url, "DEBUG": "1"}
        print(f"[{name}]", flush=True)
        subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*MANAGE, "seed", "--students", str(args.students), "-v0"], env=env,
                       check=True)  # fmt: skip
        print(f"  seeded {args.students:,} students in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
        production_env = production(env)
        subprocess.run([sys.executable, __file__, "--step", "seed-referrals", "--referrals",
                        str(args.referrals)], env=production_env, check=True)  # fmt: skip
        subprocess.run([*MANAGE, "collectstatic", "--noinput", "-v0"], env=production_env,
                       check=True)  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "results.json"
            subprocess.run([sys.executable, __file__, "--step", "measure", "--requests",
                            str(args.requests), "--results", str(path)], env=production_env,
                           check=True)  # fmt: skip
            results[name] = json.loads(path.read_text())
    summarise(results)


# Seeding ---------------------------------------------------------------------------------


def _days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


class ReferralSeeder:
    """Three years of referrals and what follows from each: the receiving service's care
    relationship, an episode once accepted, weekly sessions, the referring university
    service's own episode (kept open while some students wait for the NHS) and the
    university's contact after an NHS discharge. Buffered; `flush` writes a batch."""

    def __init__(self, rng: random.Random, now: dt.datetime):
        from joinedup.consent import models as consent
        from joinedup.people.models import Organisation, Service, Student, User
        from joinedup.referrals import models
        from joinedup.referrals.demo import ROUTES

        self.rng, self.now, self.consent, self.models = rng, now, consent, models
        self.routes = {uni: [r for r in ROUTES if r[0].startswith(uni)] for uni in UNIVERSITIES}
        universities = {
            key: Organisation.objects.get(name=name) for key, name in UNIVERSITIES.items()
        }
        self.services = {
            key: Service.objects.filter(kind=kind)
            .filter(**({"organisation": universities[uni]} if uni else {}))
            .get()
            for key, (uni, kind) in SERVICES.items()
        }
        staff = {
            u.email.split("@")[0]: u
            for u in User.objects.filter(email__endswith="@demo.joinedup.example")
        }
        self.staff = {key: staff[STAFF.get(key, "practitioner")] for key in SERVICES}
        self.students = {
            key: list(
                Student.objects.filter(university=university)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            for key, university in universities.items()
        }
        self.written: Counter = Counter()
        self._empty()

    def _empty(self) -> None:
        self.relationships, self.episodes, self.referrals = [], [], []
        self.appointments, self.tasks = [], []

    def flush(self) -> None:
        from django.db import transaction

        batches = [
            (self.consent.CareRelationship, self.relationships),
            (self.models.Episode, self.episodes),
            (self.models.Referral, self.referrals),
            (self.models.Appointment, self.appointments),
            (self.models.FollowUpTask, self.tasks),
        ]
        with transaction.atomic():
            for model, rows in batches:  # in this order: each refers to the ones before
                model.objects.bulk_create(rows, batch_size=BATCH)
                self.written[str(model._meta.verbose_name_plural)] += len(rows)
        self._empty()

    def _route(self, uni: str) -> tuple[str, str | None, str]:
        rng = self.rng
        if rng.random() < SERVICE_SHARE:
            routes = self.routes[uni]
            start, end, _ = rng.choices(routes, [r[2] for r in routes])[0]
            return "service", start, end
        source, end, _ = rng.choices(OTHER_ROUTES, [r[2] for r in OTHER_ROUTES])[0]
        return source, None, end.format(uni=uni)

    def add(self) -> None:
        """One referral, sent at a random moment of the last three years, and its story up
        to now."""
        rng, now = self.rng, self.now
        uni = rng.choice(list(UNIVERSITIES))
        student = rng.choice(self.students[uni])
        source, from_key, to_key = self._route(uni)
        profile = PROFILES[to_key.rsplit("_", 1)[-1]]
        crisis = to_key == "crisis"
        to_service, staff = self.services[to_key], self.staff[to_key]

        sent = now - dt.timedelta(seconds=rng.uniform(600, YEARS * 365 * 86400))
        decided = sent + (dt.timedelta(hours=rng.uniform(0.5, 6)) if crisis
                          else _days(rng.triangular(0.3, 10, 2)))  # fmt: skip
        roll = rng.random()
        outcome = ("declined" if roll < profile.declined
                   else "withdrawn" if roll < profile.declined + profile.withdrawn
                   else "accepted")  # fmt: skip
        start = decided if crisis else max(sent + _days(rng.triangular(*profile.wait)),
                                           decided + _days(1))  # fmt: skip
        waiting_from = None
        if not crisis and rng.random() < USES_WAITING_LIST:
            waiting_from = min(decided + dt.timedelta(hours=rng.uniform(1, 48)), start)
        sessions = rng.randint(*profile.sessions)
        every = _days(profile.every)
        stops = rng.random() < STOPS_ATTENDING
        attended = rng.randrange(sessions) if stops else sessions
        if stops:
            discharge = start + every * attended + _days(rng.uniform(21, 70))
        else:
            discharge = start + every * (sessions - 1) + _days(rng.uniform(1, 10))
        withdrawn = None
        if outcome == "withdrawn":
            withdrawn = decided + (start - decided) * rng.uniform(0.1, 0.9)
        end = withdrawn or discharge

        if decided > now:
            state = "sent"
        elif outcome == "declined":
            state = "declined"
        elif end <= now:
            state = "withdrawn" if withdrawn else "discharged"
        elif start <= now:
            state = "in_treatment"
        elif waiting_from and waiting_from <= now:
            state = "waiting"
        else:
            state = "accepted"
        closed = {"declined": decided, "withdrawn": end, "discharged": end}.get(state)
        relationship = self._relationship(student, to_service, "referral", sent, closed)

        episode, first_contact = None, None
        if decided <= now and outcome != "declined":
            ending = "unplanned" if withdrawn or stops else "planned"
            episode = self._episode(student, to_service, decided, end, ending, relationship)
            visits = []
            if not crisis and start - decided >= _days(2):
                at = decided + _days(rng.uniform(1, min(10, (start - decided).days)))
                visits.append((at, "assessment", None))
                at += _days(rng.uniform(21, 28))
                while at < start:  # check-ins while on the waiting list
                    visits.append((at, "review", None))
                    at += _days(rng.uniform(21, 28))
            for n in range(min(sessions, attended + 2)):
                visits.append((start + every * n, "treatment", "missed" if n >= attended else None))
            seen = self._visits(episode, visits, end, staff)
            reached = [start] if state in ("in_treatment", "discharged") else []
            first_contact = min(seen + reached, default=None)

        opened = min(decided, sent + (dt.timedelta(minutes=rng.uniform(5, 60)) if crisis
                                      else dt.timedelta(hours=rng.uniform(0.2, 30))))  # fmt: skip
        milestones = [sent, opened, decided]
        if outcome != "declined":
            milestones += [waiting_from, first_contact]
        if state in ("in_treatment", "discharged"):
            milestones.append(start)
        if state in ("withdrawn", "discharged"):
            milestones.append(end)
        done = [m for m in milestones if m and m <= now]
        referral = self.models.Referral(
            student_id=student,
            source=source,
            from_service=self.services.get(from_key),
            to_service=to_service,
            state=state,
            version=1 + len(done),
            reason=rng.choice(REASONS),
            created_by=self.staff.get(from_key, staff),
            created_at=sent - dt.timedelta(minutes=rng.uniform(2, 90)),
            sent_at=sent,
            opened_at=opened if opened <= now else None,
            opened_by=staff if opened <= now else None,
            decided_at=decided if decided <= now else None,
            decided_by=staff if decided <= now else None,
            decline_reason=rng.choice(DECLINE_REASONS) if state == "declined" else "",
            signposted_to="Student Peer Support" if state == "declined" else "",
            withdrawn_at=end if state == "withdrawn" else None,
            first_contact_at=first_contact,
            treatment_started_at=start if state in ("in_treatment", "discharged") else None,
            discharged_at=end if state == "discharged" else None,
            ending=("unplanned" if stops else "planned") if state == "discharged" else "",
            episode=episode,
            last_changed_by=staff,
            last_changed_at=max(done),
        )
        self.referrals.append(referral)

        if from_key:  # the referring university service saw the student first
            self._referrer_episode(student, from_key, to_key, sent, decided, outcome,
                                   withdrawn or start)  # fmt: skip
        if to_key in NHS and state == "discharged" and rng.random() < FOLLOWED_UP:
            self._follow_up_episode(student, uni, end)
        if crisis and state == "discharged" and from_key:
            done_at = end + dt.timedelta(hours=rng.uniform(4, 100))
            self.tasks.append(self.models.FollowUpTask(
                student_id=student, service=self.services[from_key], referral=referral,
                reason=f"Discharged from {to_service.name}", created_at=end,
                due_at=end + dt.timedelta(hours=72),
                completed_at=done_at if done_at <= now else None,
                completed_by=self.staff[from_key] if done_at <= now else None,
                outcome="Spoke with the student; support plan agreed." if done_at <= now else "",
            ))  # fmt: skip

    def _referrer_episode(self, student, from_key, to_key, sent, decided, outcome, until):
        """Weekly sessions up to the referral; held students are seen fortnightly until the
        NHS service starts treatment (or declines them, a few weeks after)."""
        rng = self.rng
        began = sent - _days(rng.uniform(7, 56))
        held = to_key in NHS and rng.random() < HELD
        if not held:
            until = sent
        elif outcome == "declined":
            until = decided + _days(rng.uniform(7, 42))
        else:
            until = until + _days(rng.uniform(0, 14))
        service = self.services[from_key]
        episode = self._episode(student, service, began, until, "planned")
        visits = [(began + _days(7 * n), "assessment" if n == 0 else "treatment", None)
                  for n in range((sent - began).days // 7 + 1)]  # fmt: skip
        at = sent + _days(14)
        while held and at < until:
            visits.append((at, "review", None))
            at += _days(14)
        self._visits(episode, visits, until, self.staff[from_key])

    def _follow_up_episode(self, student, uni, discharged):
        """The student's university wellbeing service sees them after an NHS discharge."""
        rng = self.rng
        began = discharged + _days(rng.uniform(1, 12))
        if began > self.now:
            return
        sessions = rng.randint(1, 3)
        until = began + _days(7 * (sessions - 1) + rng.uniform(1, 7))
        key = f"{uni}_wellbeing"
        episode = self._episode(student, self.services[key], began, until, "planned")
        visits = [(began + _days(7 * n), "review", "attended" if n == 0 else None)
                  for n in range(sessions)]  # fmt: skip
        self._visits(episode, visits, until, self.staff[key])

    def _relationship(self, student, service, reason, opened, closed):
        relationship = self.consent.CareRelationship(
            student_id=student, service=service, reason=reason, opened_at=opened,
            closed_at=closed,
        )  # fmt: skip
        self.relationships.append(relationship)
        return relationship

    def _episode(self, student, service, began, until, ending, relationship=None):
        ended = until if until <= self.now else None
        if relationship is None:
            relationship = self._relationship(student, service, "episode", began, ended)
        episode = self.models.Episode(
            student_id=student, service=service, relationship=relationship, started_at=began,
            ended_at=ended, ending=ending if ended else "",
        )  # fmt: skip
        self.episodes.append(episode)
        return episode

    def _visits(self, episode, visits, until, staff) -> list[dt.datetime]:
        """Appointments at the given times, before the episode ends; past ones attended,
        missed or cancelled, the next one booked. Returns the attended times."""
        attended = []
        for at, kind, status in sorted(visits, key=lambda v: v[0]):
            if at >= until:
                break
            if at > self.now:
                status = "booked"
            status = status or self.rng.choices(*STATUSES)[0]
            self.appointments.append(self.models.Appointment(
                episode=episode, starts_at=at, kind=kind, status=status,
                cancelled_by="student" if status == "cancelled" else "", recorded_by=staff,
            ))  # fmt: skip
            if status == "attended":
                attended.append(at)
            if at > self.now:
                break
        return attended


def seed_referrals(count: int) -> None:
    setup_django()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from joinedup.referrals.models import Referral

    if connection.vendor == "sqlite":
        # Synthetic data that can be made again: skip waiting for the disk on each batch.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = OFF")
    started = time.perf_counter()
    seeder = ReferralSeeder(random.Random(4), timezone.now())  # noqa: S311 - benchmark data
    for n in range(1, count + 1):
        seeder.add()
        if n % CHUNK == 0 or n == count:
            seeder.flush()
        if n % 15_000 == 0 or n == count:
            print(f"  referrals {n:,} / {count:,} ({time.perf_counter() - started:.0f} s)",
                  flush=True)  # fmt: skip
    seeded = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after such a load
    written = ", ".join(f"{n:,} {what}" for what, n in seeder.written.items())
    print(f"  seeded {YEARS} years of referrals in {seeded:.1f} s: {written}")
    states = dict(Referral.objects.values_list("state").annotate(n=Count("pk")).order_by())
    print("  referrals by state: " + ", ".join(f"{s} {states.get(s, 0):,}"
                                              for s in Referral.State.values))  # fmt: skip


# Measuring -------------------------------------------------------------------------------

PAGES_AS = [("triage", "waiting list"), ("practitioner", "waiting list"),
            ("service-manager", "gap worklist"), ("liaison", "gap worklist")]  # fmt: skip
WAITING_AS = {"triage": "NHS Talking Therapies", "practitioner": "Northbridge Wellbeing Service"}


def measure(requests: int, results: Path) -> None:
    setup_django()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from joinedup.people.models import Service, User
    from joinedup.referrals import selectors
    from joinedup.referrals.gaps import detect_gaps, find_gaps
    from joinedup.referrals.models import GapItem

    setup_test_environment()
    users, clients = {}, {}
    for handle, _ in PAGES_AS:
        users[handle] = User.objects.get(email=f"{handle}@demo.joinedup.example")
        clients[handle] = Client()
        clients[handle].force_login(users[handle])
    # The same pages with few rows, to show the query count does not grow with the rows.
    few = {}
    for handle, page in PAGES_AS:
        if page == "waiting list":
            few[handle] = _with_few_waiting(clients[handle], Service.objects.get(
                name=WAITING_AS[handle]))  # fmt: skip
        else:  # before detection: the demo's few items
            few[handle] = (len(selectors.gap_worklist_for(users[handle])),
                           _count_queries(clients[handle], GAPS_URL))  # fmt: skip

    found = {}
    started = time.perf_counter()
    raised = detect_gaps()
    found["seconds"] = time.perf_counter() - started
    found["items"] = len(raised)
    rules = Counter(item.rule for item in raised)
    print(f"  gap detection: {found['seconds']:.1f} s, raised {len(raised):,} items ("
          + ", ".join(f"{rule} {n:,}" for rule, n in sorted(rules.items())) + ")")  # fmt: skip
    started = time.perf_counter()
    again = detect_gaps()
    found["again_seconds"] = time.perf_counter() - started
    found["again_items"] = len(again)
    print(f"  gap detection again: {found['again_seconds']:.1f} s, raised {len(again)} items")
    started = time.perf_counter()
    findings = find_gaps()
    print(f"  of which the rules' reads (find_gaps): {time.perf_counter() - started:.1f} s, "
          f"{len(findings):,} findings")  # fmt: skip

    pages = []
    for handle, page in PAGES_AS:
        user = users[handle]
        if page == "waiting list":
            service = Service.objects.get(name=WAITING_AS[handle])
            waiting = selectors.waiting_list_for(user, service)
            rows = len(waiting.rows)
            total = waiting.page.paginator.count
            label, url = f"{page}, {handle} ({rows:,} rows of {total:,})", WAITING_URL
        else:
            rows = len(selectors.gap_worklist_for(user))
            total = GapItem.objects.filter(
                service_id__in=selectors.gap_services_of(user), resolved_at__isnull=True
            ).count()
            label, url = f"{page}, {handle} ({rows:,} rows of {total:,} open)", GAPS_URL
        p95, queries = _time_page(clients[handle], requests, label, url)
        pages.append({"page": page, "label": label, "rows": rows, "p95": p95, "queries": queries,
                      "few_rows": few[handle][0], "few_queries": few[handle][1]})  # fmt: skip
    results.write_text(json.dumps({"detection": found, "pages": pages}))


WAITING_URL, GAPS_URL = "/referrals/waiting/", "/referrals/gaps/"


def _count_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _with_few_waiting(client, service, keep: int = 5) -> tuple[int, int]:
    """Rows and queries of the waiting list with all but `keep` referrals taken off it, in a
    transaction rolled back afterwards."""
    from django.db import transaction

    from joinedup.referrals import rules
    from joinedup.referrals.models import Referral

    with transaction.atomic():
        waiting = Referral.objects.filter(to_service=service, state__in=rules.WAITING)
        kept = list(waiting.order_by("pk").values_list("pk", flat=True)[:keep])
        waiting.exclude(pk__in=kept).update(state="withdrawn")
        queries = _count_queries(client, WAITING_URL)
        transaction.set_rollback(True)
    return len(kept), queries


def _time_page(client, requests: int, label: str, url: str) -> tuple[float, int]:
    """`time_pages` for one page, its line printed and its p95 and query count returned."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        time_pages(client, requests, {label: url})
    print(out.getvalue(), end="", flush=True)
    p95, queries = re.search(r"p95\s+([\d.]+) ms\s+(\d+) queries", out.getvalue()).groups()
    return float(p95), int(queries)


def summarise(results: dict) -> None:
    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER TARGET"

    print(f"\nSummary — targets: waiting list and gap worklist p95 ≤ {PAGE_TARGET_MS} ms with a "
          f"constant query count; gap detection < {DETECTION_TARGET_S} s")  # fmt: skip
    for name, result in results.items():
        found = result["detection"]
        print(f"  [{name}]")
        print(f"    {'gap detection':<50} {found['seconds']:6.1f} s   {found['items']:,} items "
              f"(again: {found['again_items']})   "
              f"{verdict(found['seconds'] < DETECTION_TARGET_S)}")  # fmt: skip
        for page in result["pages"]:
            constant = page["queries"] == page["few_queries"]
            print(f"    {page['label']:<50} p95 {page['p95']:6.1f} ms   {page['queries']} queries "
                  f"({page['few_queries']} with {page['few_rows']} rows: "
                  f"{'constant' if constant else 'NOT constant'})   "
                  f"{verdict(page['p95'] <= PAGE_TARGET_MS and constant)}")  # fmt: skip


if __name__ == "__main__":
    main()
