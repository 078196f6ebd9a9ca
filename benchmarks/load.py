"""A day's load on the hub: staff, students and a partner system at once, through
`joinedup serve` on PostgreSQL at hub scale.

Runs `benchmarks/locustfile.py` (locust, headless) against `joinedup serve` on a PostgreSQL
database holding the demo hub and 150,000 seeded students (made first if it lacks them):

- staff (6 in 10 simulated users) sign in with a password and a TOTP code and work through
  their day, 5 to 15 s between pages: My day, the caseload and a search of it, a student's
  record and contact log, questionnaires (and sometimes recording one), referrals (the
  waiting list, those made, and sometimes making one), signed contact notes, tasks, risk
  flags and messages;
- students (3 in 10) sign in to the portal, 10 to 30 s between pages: their record,
  messages (and sometimes writing to their service), questionnaires, consents, appointments;
- a partner system (1 in 10) on FHIR, 5 to 15 s between requests: the capability
  statement, a client-credentials token, Patient by identifier, its Observations and
  QuestionnaireResponses, and sometimes the whole record (`$everything`).

Each simulated user signs in as its own account (allauth refuses a TOTP code used twice, and
a person signs in once a day): staff practitioners with a caseload of their own, and
students with a service working with them, all `@load.joinedup.example`, made once and
reused. The server is told it is behind one TLS proxy (`TRUSTED_PROXY_COUNT=1`), and each
simulated user's requests carry what that proxy adds: the person's own address
(`X-Forwarded-For`) and `X-Forwarded-Proto: https`; the browser's side of the proxy being
HTTPS, the Secure session and CSRF cookies are sent, and a form carries its `Origin`.

Prints, per page kind: requests, failures, p50, p95 and p99; the errors; every write the
scenario made, by kind, against the rows the database gained (and the audit entries of that
action); and the throughput in page views (every request the scenario makes: a page, a
form sent, a FHIR call) per second and per core, counted once every simulated user has
signed in. `--saturation` runs 20 users with no time between pages for a minute instead:
the throughput then is the most this machine serves.

    .venv/bin/python benchmarks/load.py [--users 200] [--minutes 10] [--workers N]
        [--database load] [--students 150000] [--spawn-rate R]
    .venv/bin/python benchmarks/load.py --saturation [--users 20] [--minutes 1]
    .venv/bin/python benchmarks/load.py --saturation --instances 2 --workers 1

`--instances N` starts N `joinedup serve` instances behind one port (each binds it with
SO_REUSEPORT, gunicorn's `--reuse-port`, and the kernel hands each new connection to one
of them), as several app servers behind a load balancer: the scale-out. Nothing is kept in
a server, so any instance answers any request of a signed-in user.

Production settings come from the environment (DEBUG, SECRET_KEY, AUDIT_CHAIN_KEY, ...;
benchmark defaults fill whatever is missing); `--database` names the PostgreSQL database on
127.0.0.1:5432. Locust's own files and the server's log are kept in the directory printed.
Locust runs on the same machine as the server, so on a small machine it takes part of the
cores the figures are divided by.

Targets: p95 at most 300 ms for every page kind, no errors, every write accounted for, and
the saturation throughput reported as page views per second per core.
"""

import argparse
import datetime as dt
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from timing import MANAGE, ROOT

DOMAIN = "load.joinedup.example"
TARGET_P95_MS = 300
CASELOAD = 15  # open episodes allocated to each load practitioner
PARTNER = "JoinedUp load benchmark partner"
MIN_STAFF, MIN_STUDENTS = 40, 100
# The locustfile's weights: staff 6, students 3, partner system 1.
STAFF_SHARE, STUDENT_SHARE = 0.6, 0.3
# What the scenario writes: the rows of each kind and the audit action each write appends.
WRITE_KINDS = {
    "questionnaire": "measures.administration.recorded",
    "referral": "referrals.referral.created",
    "note": "record.note.signed",
    "message": "messaging.message.sent",
    "token": "",
}
CLINICAL_KINDS = ("wellbeing", "counselling", "talking_therapies", "community_mental_health")
# How the server's log (JSON lines, gunicorn's own) marks an error.
ERROR_MARKS = ('"level": "ERROR"', '"level": "CRITICAL"', "[ERROR]", "[CRITICAL]", "Traceback")
PRODUCTION_DEFAULTS = {
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-key-" + "x" * 40,
    "AUDIT_CHAIN_KEY": "benchmark-only-audit-key-" + "x" * 40,
    "AUDIT_CHECKPOINT_FILE": "",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "LOG_REQUESTS": "0",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, help="simulated users (200; 20 with --saturation)")
    parser.add_argument("--minutes", type=float, help="how long (10; 1 with --saturation)")
    parser.add_argument("--workers", type=int, help="server workers (serve's default)")
    parser.add_argument("--instances", type=int, default=1, help="servers behind one port")
    parser.add_argument("--database", default="load", help="PostgreSQL database name")
    parser.add_argument("--students", type=int, default=150_000)
    parser.add_argument("--spawn-rate", type=float, help="users started a second")
    parser.add_argument("--saturation", action="store_true", help="no time between pages")
    parser.add_argument("--step", choices=["prepare", "count"], help=argparse.SUPPRESS)
    parser.add_argument("--staff", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--student-logins", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args.staff, args.student_logins, Path(args.out))
        return
    if args.step == "count":
        print(json.dumps(count_writes()))
        return
    users = args.users or (20 if args.saturation else 200)
    minutes = args.minutes or (1 if args.saturation else 10)
    seconds = max(10, round(minutes * 60))
    # Every sign-in hashes a password (about a tenth of a second of a core): ramp up over
    # two minutes, or ten seconds when measuring saturation.
    rate = args.spawn_rate or (max(2.0, users / 10) if args.saturation else max(1.0, users / 120))
    env = server_env(args.database)
    ensure_hub(env, args.students)
    out = Path(tempfile.mkdtemp(prefix="joinedup-load-"))
    accounts = out / "accounts.json"
    staff = max(MIN_STAFF, math.ceil(users * STAFF_SHARE) + 2)
    students = max(MIN_STUDENTS, math.ceil(users * STUDENT_SHARE) + 2)
    step(env, "prepare", "--staff", str(staff), "--student-logins", str(students),
         "--out", str(accounts))  # fmt: skip
    collect_static(env)
    workers = args.workers or 2 * (os.cpu_count() or 1) + 1
    kind = "saturation" if args.saturation else "load"
    if args.instances < 1:
        raise SystemExit("--instances must be at least 1.")
    servers = f"{args.instances} servers of {workers}" if args.instances > 1 else str(workers)
    print(f"{kind}: {users} users for {seconds} s (ramp {rate:g}/s), {servers} workers, "
          f"{os.cpu_count()} cores; files in {out}", flush=True)  # fmt: skip
    before = _last_json(step(env, "count"))
    port = free_port()
    logs = [out / f"server-{n}.log" for n in range(1, args.instances + 1)]
    started: list[subprocess.Popen] = []
    try:
        for log in logs:
            started.append(start_server(env, port, workers, log, shared=args.instances > 1))
        results = run_locust(accounts, port, users, rate, seconds, args.saturation, out)
    finally:
        for server in started:
            stop_server(server)
    after = _last_json(step(env, "count"))
    report(results, before, after, servers, logs, args.saturation)


# --- the database ------------------------------------------------------------------------


def server_env(database: str) -> dict:
    """The environment given, on `database`, with benchmark production settings for
    whatever it does not set; the server is reached directly on 127.0.0.1."""
    env = os.environ | {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}"}
    for key, value in PRODUCTION_DEFAULTS.items():
        env.setdefault(key, value)
    hosts = [h.strip() for h in env["ALLOWED_HOSTS"].split(",") if h.strip()]
    if "127.0.0.1" not in hosts and "*" not in hosts:
        env["ALLOWED_HOSTS"] = ",".join([*hosts, "127.0.0.1"])
    return env


def ensure_hub(env: dict, students: int) -> None:
    """Create the database if there is none; migrate, load the demo hub and seed students
    only when it lacks them (as `timing.top_up_students`)."""
    import psycopg

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True,
                         connect_timeout=5) as conn:  # fmt: skip
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    probe = (
        "from joinedup.people.models import Student; from joinedup.record.demo import "
        "is_loaded; print(int(is_loaded()), Student.objects.count())"
    )
    found = subprocess.run([*MANAGE, "shell", "-v0", "-c", probe], env=env,
                           capture_output=True, text=True)  # fmt: skip
    loaded, have = found.stdout.split()[-2:] if found.returncode == 0 else ("0", "0")
    print(f"Migrating database {name}", flush=True)
    quietly([*MANAGE, "migrate", "-v0"], env)
    if loaded != "1":
        print(f"Loading the demo hub into {name}", flush=True)
        quietly([*MANAGE, "demo"], env)
        have = subprocess.run([*MANAGE, "shell", "-v0", "-c", probe], env=env, check=True,
                              capture_output=True, text=True).stdout.split()[1]  # fmt: skip
    if int(have) < students:
        print(f"Seeding {students - int(have)} students", flush=True)
        quietly([*MANAGE, "seed", "--students", str(students - int(have)), "-v0"], env)


def collect_static(env: dict) -> None:
    """`joinedup serve` refuses to start without collected static files (collecting them
    takes a minute: only when there are none)."""
    probe = "from django.conf import settings; print(int(any(settings.STATIC_ROOT.glob('*'))))"
    found = subprocess.run([*MANAGE, "shell", "-v0", "-c", probe], env=env, check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    if found[-1:] != ["1"]:
        print("Collecting static files", flush=True)
        quietly([*MANAGE, "collectstatic", "--noinput", "-v0"], env)


def quietly(argv: list[str], env: dict) -> None:
    """Run a command; its output (the audit log's checkpoint lines, mostly) only if it fails."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"{' '.join(argv[1:3])} failed ({done.returncode})")


def step(env: dict, name: str, *args: str) -> str:
    """Run one of this file's steps in a process of its own, with Django set up."""
    done = subprocess.run([sys.executable, __file__, "--step", name, *args], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"step {name} failed ({done.returncode})")
    return done.stdout


def _last_json(output: str) -> dict:
    """The JSON a step printed last (the audit log may print its checkpoints before it)."""
    return json.loads([line for line in output.splitlines() if line.startswith("{")][-1])


def _setup_django() -> None:
    # This folder's fhir.py would hide the fhir.resources package the app imports.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "joinedup.settings")
    import django

    django.setup()


def prepare(staff: int, student_logins: int, out: Path) -> None:
    """The load accounts (made once, topped up), each practitioner's own caseload, the
    partner system's client (a new secret each run) and what the scenario needs to know,
    written to `out`."""
    _setup_django()
    from django.db import transaction

    with transaction.atomic():
        practitioners = _practitioners(staff)
        students = _student_logins(student_logins)
        partner = _partner()
    out.write_text(json.dumps({
        "password": _demo().DEMO_PASSWORD,
        "totp_secret": _demo().DEMO_TOTP_SECRET,
        "staff": practitioners,
        "students": students,
        "partner": partner,
        "risk_items": _risk_items(),
        "family_names": _demo().FAMILY,
    }, indent=1))  # fmt: skip


def _demo():
    from joinedup.record import demo

    return demo


def _load_user(email: str, password_hash: str, first: str, last: str):
    from joinedup.people.models import User

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, None, first_name=first, last_name=last)
        user.password = password_hash  # the demo password, hashed once for all
        user.save(update_fields=["password"])
    return user


def _practitioners(count: int) -> list[dict]:
    """`count` practitioners spread over the services with caseloads, each with TOTP and
    CASELOAD open episodes allocated to them; and where each may refer."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.hashers import make_password
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from joinedup.consent.models import CareRelationship
    from joinedup.people.models import Membership, Service
    from joinedup.referrals.models import DirectoryEntry, Episode

    demo = _demo()
    services = list(Service.objects.filter(kind__in=CLINICAL_KINDS).select_related(
        "organisation").order_by("pk"))  # fmt: skip
    takes = {e.service_id: e.takes("service") for e in DirectoryEntry.objects.all()}
    every = list(Service.objects.select_related("organisation").order_by("pk"))
    password = make_password(demo.DEMO_PASSWORD)
    now = timezone.now()
    rows = []
    for n in range(count):
        service = services[n % len(services)]
        user = _load_user(f"staff-{n:03d}@{DOMAIN}", password, "Load", f"Practitioner {n:03d}")
        if not Membership.objects.filter(user=user).exists():
            Membership.objects.create(user=user, organisation=service.organisation,
                                      service=service, role="practitioner")  # fmt: skip
        seat = Membership.objects.select_related("service__organisation").get(user=user)
        service = seat.service
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, demo.DEMO_TOTP_SECRET)
        allocated = Episode.objects.open().filter(practitioner=user, service=service).count()
        if allocated < CASELOAD:
            episode = Episode.objects.filter(student=OuterRef("student"), service=service,
                                             ended_at=None)  # fmt: skip
            free = (
                CareRelationship.objects.filter(service=service, closed_at=None, reason="episode")
                .exclude(Exists(episode)).order_by("pk")[: CASELOAD - allocated]
            )  # fmt: skip
            started = now - dt.timedelta(days=30)
            Episode.objects.bulk_create(
                Episode(student_id=r.student_id, service=service, relationship=r,
                        started_at=started, practitioner=user, allocated_at=started)
                for r in free
            )  # fmt: skip
        # Where a practitioner refers: services of their own organisation or outside any
        # university that take referrals from services; never their own, never crisis.
        refer_to = [
            s.pk for s in every
            if s.pk != service.pk and takes.get(s.pk, True) and s.kind != "crisis"
            and (s.organisation_id == service.organisation_id
                 or s.organisation.kind != "university")
        ]  # fmt: skip
        rows.append({"email": user.email, "service": service.name, "refer_to": refer_to})
    return rows


def _student_logins(count: int) -> list[str]:
    """`count` seeded students given a portal login, each with a service working with them
    now (an open episode relationship), so that they have someone to write to."""
    from django.contrib.auth.hashers import make_password

    from joinedup.consent.models import CareRelationship
    from joinedup.people.models import Student, User

    demo = _demo()
    have = list(
        User.objects.filter(email__startswith="student-", email__endswith=f"@{DOMAIN}")
        .order_by("email").values_list("email", flat=True)
    )  # fmt: skip
    if len(have) < count:
        password = make_password(demo.DEMO_PASSWORD)
        in_care = CareRelationship.objects.filter(closed_at=None, reason="episode").values(
            "student_id")  # fmt: skip
        free = list(
            Student.objects.filter(user=None, pk__in=in_care, student_number__startswith="S")
            .order_by("pk")[: count - len(have)]
        )  # fmt: skip
        for n, student in enumerate(free, start=len(have)):
            user = _load_user(f"student-{n:03d}@{DOMAIN}", password,
                              student.legal_given_name, student.legal_family_name)  # fmt: skip
            student.user = user
            student.save(update_fields=["user"])
            have.append(user.email)
    return have[:count]


def _partner() -> dict:
    """The partner system's client (made once, for Northbridge's Wellbeing service), with a
    new secret, and identifiers of students in that service's care to look up."""
    from django.db.models import Exists, OuterRef
    from oauth2_provider.generators import generate_client_secret
    from oauth2_provider.models import Application

    from joinedup.consent.models import CareRelationship
    from joinedup.fhir import mapping
    from joinedup.fhir.services import create_client
    from joinedup.measures.models import Administration
    from joinedup.people.models import Service, Student

    service = Service.objects.filter(kind="wellbeing").select_related("organisation")
    service = service.order_by("pk").first()
    application = Application.objects.filter(name=PARTNER).first()
    if application is None:
        application, secret = create_client(service=service, name=PARTNER,
                                            scopes=["system/*.read"])  # fmt: skip
    else:
        secret = generate_client_secret()
        application.client_secret = secret  # stored hashed
        application.save()
    in_care = CareRelationship.objects.filter(service=service, closed_at=None)
    students = (
        Student.objects.filter(pk__in=in_care.values("student_id"))
        .annotate(scored=Exists(Administration.objects.filter(student=OuterRef("pk"))))
        .select_related("university").order_by("-scored", "pk")[:200]
    )  # fmt: skip
    identifiers = [
        f"{mapping.NHS_NUMBER_SYSTEM}|{s.nhs_number}" if s.nhs_number
        else f"{mapping.STUDENT_NUMBER_SYSTEM}:{s.university.uuid}|{s.student_number}"
        for s in students
    ]  # fmt: skip
    return {"client_id": application.client_id, "client_secret": secret,
            "identifiers": identifiers}  # fmt: skip


def _risk_items() -> dict:
    """Each measure's risk items: the scenario answers them 0, raising no flags."""
    from joinedup.measures import instruments

    return {code: list(instruments.get(code).risk_items) for code in instruments.CODES}


def count_writes() -> dict:
    """Rows written by the load accounts, by kind, and the audit entries of each action."""
    _setup_django()
    from oauth2_provider.models import AccessToken

    from joinedup.audit.models import AuditEvent
    from joinedup.measures.models import Administration
    from joinedup.messaging.models import Message
    from joinedup.record.models import RecordEntry
    from joinedup.referrals.models import Referral

    ours = {"email__endswith": f"@{DOMAIN}"}

    def by(field: str) -> dict:
        return {f"{field}__{k}": v for k, v in ours.items()}

    rows = {
        "questionnaire": Administration.objects.filter(**by("recorded_by")).count(),
        "referral": Referral.objects.filter(**by("created_by")).count(),
        "note": RecordEntry.with_drafts.filter(kind="note", is_draft=False, **by("author")).count(),
        "message": Message.objects.filter(from_student=True, **by("author")).count(),
        "token": AccessToken.objects.filter(application__name=PARTNER).count(),
    }
    audited = AuditEvent.objects.filter(actor_email__endswith=f"@{DOMAIN}")
    audit = {kind: audited.filter(action=action).count() for kind, action in
             WRITE_KINDS.items() if action}  # fmt: skip
    from django.db import connection

    with connection.cursor() as cursor:
        # The log and its monthly partitions, with their indexes.
        cursor.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "WHERE c.relname LIKE 'audit_auditevent%%' AND c.relkind = 'r'"
        )
        (audit_bytes,) = cursor.fetchone()
    return {"rows": rows, "audit": audit, "audit_total": AuditEvent.objects.count(),
            "audit_bytes": int(audit_bytes or 0)}  # fmt: skip


# --- the server and locust ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    env: dict, port: int, workers: int, log: Path, *, shared: bool = False
) -> subprocess.Popen:
    """`joinedup serve` behind (as it is told) one proxy, once /health/ready answers;
    `shared`: binding the port beside other instances (SO_REUSEPORT)."""
    server_env = env | {"TRUSTED_PROXY_COUNT": "1"}
    if shared:
        server_env["GUNICORN_CMD_ARGS"] = "--reuse-port"
    argv = [*MANAGE, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with log.open("w") as out:
        server = subprocess.Popen(argv, env=server_env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"joinedup serve stopped ({server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5) as r:
                # A shared port may be answered by an instance started before this one.
                booted = log.read_text().count("Booting worker")
                if r.status == 200 and (not shared or booted >= workers):
                    warm_up(port, workers)
                    return server
        except OSError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"joinedup serve was not ready in 90 s; see {log}")


def warm_up(port: int, workers: int) -> None:
    """A few sign-in pages, so that each worker has loaded the URLs and the base template
    before the first measured request (a running server has)."""
    page = urllib.request.Request(f"http://127.0.0.1:{port}/accounts/login/",
                                  headers={"X-Forwarded-Proto": "https"})  # fmt: skip
    for _ in range(3 * workers):
        with urllib.request.urlopen(page, timeout=30):  # noqa: S310 - the server just started
            pass


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_locust(accounts: Path, port: int, users: int, rate: float, seconds: int,
               saturation: bool, out: Path) -> dict:  # fmt: skip
    config = json.loads(accounts.read_text())
    results = out / "results.json"
    env = os.environ | {
        "LOAD_ACCOUNTS": str(accounts),
        "LOAD_RESULTS": str(results),
        "LOAD_THINK": "0" if saturation else "1",
        "LOAD_FHIR_CLIENT_ID": config["partner"]["client_id"],
        "LOAD_FHIR_CLIENT_SECRET": config["partner"]["client_secret"],
    }
    locust = shutil.which("locust", path=str(Path(sys.executable).parent))
    if locust is None:
        raise SystemExit("locust is not installed: .venv/bin/pip install -e '.[bench]'")
    argv = [
        locust, "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
        "-u", str(users), "-r", f"{rate:g}", "-t", f"{seconds}s",
        "--host", f"http://127.0.0.1:{port}", "--csv", str(out / "locust"),
        "--stop-timeout", "60", "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    with (out / "locust.log").open("w") as log:
        subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if not results.exists():
        raise SystemExit(f"locust wrote no results; see {out / 'locust.log'}")
    return json.loads(results.read_text())


# --- the figures ------------------------------------------------------------------------


def _percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(results: dict, before: dict, after: dict, workers: str, server_logs: list[Path],
           saturation: bool) -> None:  # fmt: skip
    samples: dict[str, list[list[float]]] = results["samples"]
    failures: dict[str, int] = results["failures"]
    print(f"\n{'page kind':<36}{'requests':>9}{'failures':>9}{'p50':>8}{'p95':>8}{'p99':>8}"
          f"   p95 ≤ {TARGET_P95_MS} ms")  # fmt: skip
    missed = []
    for name in sorted(samples, key=lambda n: (n.startswith(("sign-in", "fhir")), n)):
        times = [ms for _, ms in samples[name]]
        p50, p95, p99 = (_percentile(times, q) for q in (50, 95, 99))
        ok = p95 <= TARGET_P95_MS
        if not ok:
            missed.append(name)
        print(f"{name:<36}{len(times):>9}{failures.get(name, 0):>9}{p50:>8.0f}{p95:>8.0f}"
              f"{p99:>8.0f}   {'yes' if ok else 'NO'}")  # fmt: skip
    total = sum(len(v) for v in samples.values())
    errors = sum(failures.values())
    print(f"\nrequests {total}, errors {errors}"
          + (f" ({errors / total:.2%})" if total else ""))  # fmt: skip
    for name, examples in results.get("failure_examples", {}).items():
        for example in examples:
            print(f"  {name}: {example}")
    logged = [line for log in server_logs for line in log.read_text(errors="replace").splitlines()]
    bad = [line for line in logged if any(mark in line for mark in ERROR_MARKS)]
    print(f"server log: {len(bad)} error lines ({', '.join(map(str, server_logs))})")
    for line in bad[:5]:
        print(f"  {line[:300]}")
    print(f"p95 target missed by: {', '.join(missed) if missed else 'none'}")
    if saturation:
        print("  (at saturation every page waits its turn: the target is the load run's)")

    print("\nwrites (scenario / database rows / audit entries of that action):")
    agree = True
    for kind, action in WRITE_KINDS.items():
        said = results["writes"].get(kind, 0)
        rows = after["rows"][kind] - before["rows"][kind]
        audit = after["audit"][kind] - before["audit"][kind] if action else None
        same = said == rows and (audit is None or audit == said)
        agree &= same
        shown = f"{audit}" if audit is not None else "-"
        print(f"  {kind:<14} scenario {said:>5}, database {rows:>5}, audit {shown:>5}   "
              f"{'agree' if same else 'DIFFER'}")  # fmt: skip
    print(f"  every write accounted for: {'yes' if agree else 'NO'}; audit log grew by "
          f"{after['audit_total'] - before['audit_total']} entries in all")  # fmt: skip

    entries = after["audit_total"] - before["audit_total"]
    grown = after["audit_bytes"] - before["audit_bytes"]
    if total and entries:
        per_entry = grown / entries
        per_view = entries / total
        print(f"  audit log: {per_view:.1f} entries per page view, {per_entry:.0f} bytes per "
              f"entry with its indexes: {per_view * per_entry * 100_000 / 2**20:.0f} MiB per "
              "100,000 page views")  # fmt: skip

    cores = os.cpu_count() or 1
    everyone = results.get("all_signed_in_at") or results["started_at"]
    stopped = results["stopped_at"]
    window = [t for v in samples.values() for t, _ in v if everyone <= t <= stopped]
    span = stopped - everyone
    if span < 10 or not window:  # too short a steady state: the whole run
        everyone, span = results["started_at"], stopped - results["started_at"]
        window = [t for v in samples.values() for t, _ in v if t <= stopped]
    rate = len(window) / span if span > 0 else 0.0
    signed = "everyone signed in" if everyone != results["started_at"] else "the whole run"
    label = "saturation throughput" if saturation else "throughput"
    print(f"\n{label} ({signed}, {span:.0f} s): {rate:.1f} page views/s, "
          f"{rate / cores:.1f} page views/s per core ({cores} cores, {workers} workers; "
          f"{results['users']} users, {results['signed_in']} signed in)")  # fmt: skip


if __name__ == "__main__":
    main()
