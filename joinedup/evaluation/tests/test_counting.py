"""The database's counts (`reports.counting`) give every figure that counting the rows in
Python gives (`reports.compute`), on a random hub, for periods that cut episodes and
appointments, and for any choice of services."""

import datetime as dt
import random

import pytest
from django.db import connections

from joinedup.evaluation import metrics, reports
from joinedup.evaluation.reports import ReportParameters, build_report, figures
from joinedup.evaluation.tests.test_report import add_episode, add_referral, at, students
from joinedup.measures.models import Administration, Calibration, RoutineMeasure
from joinedup.referrals.rules import ENDING_IS_PLANNED

TODAY = dt.date(2026, 3, 1)
STATES = ["sent", "accepted", "waiting", "in_treatment", "discharged", "declined", "withdrawn"]
REASONS = ["not_eligible", "higher", "no_contact"]
SOURCES = ["self", "service", "gp", "academic"]
MEASURES = ["PHQ-9", "GAD-7", "CORE-10", "CORE-OM"]
RANGES = {"PHQ-9": 27, "GAD-7": 21, "CORE-10": 40, "CORE-OM": 40}  # main scores


def _random_hub(hub, rng: random.Random) -> list:
    """Sixty students referred between the hub's services and seen in episodes of every
    kind of ending, with scores (some single, some invalid) on four measures."""
    services = [hub.talking, hub.wellbeing, hub.counselling, hub.crisis]
    RoutineMeasure.objects.create(service=hub.wellbeing, code="CORE-10")
    for i, service in enumerate(services):  # each service's own reliable change index
        Calibration.objects.create(service=service, code="CORE-OM", first_score_sd=5 + 2 * i,
                                   reliability=0.9, set_by=hub.practitioner)  # fmt: skip
    people = students(hub, 60, gender="woman")
    for student in people:
        for _ in range(rng.randint(0, 3)):
            to = rng.choice(services)
            state = rng.choice(STATES)
            first = rng.choice([None, rng.randint(0, 90)])
            add_referral(
                hub, student, to, dt.date(2024, 9, 1) + dt.timedelta(days=rng.randint(0, 600)),
                source=rng.choice(SOURCES), state=state,
                from_service=rng.choice([None, *[s for s in services if s != to]]),
                first=first,
                treated=None if first is None else rng.choice([None, first + rng.randint(0, 60)]),
                decline_reason=rng.choice(REASONS if state == "declined" else [""]),
            )  # fmt: skip
        for _ in range(rng.randint(0, 2)):
            started = dt.date(2024, 10, 1) + dt.timedelta(days=rng.randint(0, 500))
            scores = {
                code: [rng.choice([None, *range(RANGES[code] + 1)])
                       for _ in range(rng.randint(1, 4))]
                for code in rng.sample(MEASURES, rng.randint(0, 3))
            }  # fmt: skip
            add_episode(
                hub, student, rng.choice(services), started,
                started + dt.timedelta(days=rng.randint(1, 120)),
                ending=rng.choice(list(ENDING_IS_PLANNED)), attended=rng.randint(0, 5),
                missed=rng.randint(0, 2), scores=scores,
            )  # fmt: skip
    return services


def _both(start, end, chosen):
    services = figures.load_services([s.pk for s in chosen], "default")
    calibrations = figures.calibrations_of(list(services), "default")
    routine = figures.routine_of(list(services), "default")
    day = metrics.day_number(TODAY)
    rows = reports.fetch_rows(start, end, list(services), using="default")
    in_python = reports.compute(rows, services, None, day, calibrations, routine)
    in_database = reports.compute_in_database(
        start, end, services, day, calibrations, routine, using="default"
    )
    return in_python, in_database


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_counts_give_every_figure_that_the_rows_give(hub, seed):
    rng = random.Random(seed)  # noqa: S311 - test data
    services = _random_hub(hub, rng)
    periods = [(dt.date(2024, 1, 1), dt.date(2027, 1, 1))] + [
        (start, start + dt.timedelta(days=rng.randint(1, 400)))
        for start in (dt.date(2024, 9, 1) + dt.timedelta(days=rng.randint(0, 500))
                      for _ in range(4))
    ]  # fmt: skip
    for start, end in periods:
        for chosen in (services, rng.sample(services, 2), [hub.talking]):
            in_python, in_database = _both(start, end, chosen)
            assert in_database == in_python, (start, end, [s.name for s in chosen])
    # The hub's figures are not empty: the comparison is of something.
    in_python, _ = _both(*periods[0], services)
    assert in_python.activity.referrals > 50
    assert in_python.endings.ended > 30
    assert in_python.talking_therapies.eligible > 0
    assert in_python.measures["CORE-OM"].reliable_improvement is not None
    assert in_python.appointments.students > 0
    assert in_python.flows


def test_a_score_the_rows_and_the_counts_disagree_on_is_noticed(hub):
    """The comparison can fail: one more ended episode with a paired score shows."""
    rng = random.Random(4)  # noqa: S311 - test data
    services = _random_hub(hub, rng)
    period = (dt.date(2024, 1, 1), dt.date(2027, 1, 1))
    (student,) = students(hub, 1, start=500)
    episode = add_episode(hub, student, hub.talking, dt.date(2025, 1, 1), dt.date(2025, 3, 1),
                          scores={"PHQ-9": [20]})  # fmt: skip
    in_python, _ = _both(*period, services)
    Administration.objects.create(
        student=student, service=hub.talking, episode=episode, code="PHQ-9",
        completed_at=at(dt.date(2025, 2, 1)), method="in_session", is_valid=True,
        main_score=5, total=5,
    )  # fmt: skip
    _, in_database = _both(*period, services)
    assert in_database != in_python
    assert in_database.measures["PHQ-9"].paired == in_python.measures["PHQ-9"].paired + 1


def test_a_report_of_all_students_on_postgresql_is_counted_by_the_database(hub, monkeypatch):
    """On PostgreSQL a report with no breakdown reads counts, not rows; with a breakdown, or
    on SQLite (which counts slower than Python), it reads the rows."""
    read = []

    def noting(kind, function):
        return lambda *args, **kwargs: read.append(kind) or function(*args, **kwargs)

    monkeypatch.setattr(reports.service_report, "fetch_rows", noting("rows", reports.fetch_rows))
    monkeypatch.setattr(reports.service_report, "compute_in_database",
                        noting("counts", reports.compute_in_database))  # fmt: skip
    period = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    build_report(ReportParameters(*period, (hub.talking.pk,)), using="default", today=TODAY)
    build_report(ReportParameters(*period, (hub.talking.pk,), "gender"), using="default",
                 today=TODAY)  # fmt: skip
    postgres = connections["default"].vendor == "postgresql"
    assert read == (["counts", "rows"] if postgres else ["rows", "rows"])
