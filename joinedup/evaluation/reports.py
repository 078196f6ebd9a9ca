"""The service report and the benchmark between services: every figure, disclosed.

`build_report(ReportParameters(...))` returns a JSON-serialisable dict for one period and
one or more services, optionally broken down by one student attribute (equity). Every value
in it has been through `joinedup.evaluation.rules.disclose`, including the numbers the charts
draw. Saved report snapshots, exports and pages all use this one builder.

The rows come from three queries on the `reports` database alias (which can point at a read
replica): referrals sent in the period; each episode ended in the period's first and last
valid score per measure (which the database keeps, `measures.EpisodeScores`); and
one pass over the chosen services' episodes with their appointments counted (which the
database also keeps, `referrals.EpisodeAppointments`), giving each ended episode its
attended treatment appointments and each episode its attended and missed
appointments in the period. The rules themselves are pure functions in
`joinedup.evaluation.metrics`.

Periods: start inclusive, end exclusive, as UK calendar days. Waits are whole days between
UTC dates, as the referral clocks count them.
"""

import datetime as dt
import functools
import gc
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from django.db import connections
from django.utils import timezone

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import seats_of
from joinedup.evaluation import metrics
from joinedup.evaluation.funnel import curve_sizes, limits_at
from joinedup.evaluation.metrics import AppointmentRow, EpisodeRow, ReferralRow
from joinedup.evaluation.rules import (
    SMALLEST_SHOWN,
    SUPPRESSED,
    Count,
    Percentage,
    Statistic,
    Uncontrolled,
    disclose,
)
from joinedup.measures import instruments
from joinedup.measures.instruments import CODES
from joinedup.measures.models import Calibration
from joinedup.people.models import Role, Service, Student, User
from joinedup.referrals.models import Episode, Referral

ALL_STUDENTS = "All students"
NOT_RECORDED = "Not recorded"
NOT_DEFINED = "—"  # a figure the measure does not define (no reliable change index)
# Measures with no published reliable change index: each service sets what it is worked out
# from (`measures.models.Calibration`).
UNCALIBRATED = tuple(code for code in CODES if instruments.get(code).reliable_change is None)
NO_CALIBRATIONS: Mapping[str, Mapping[int, Calibration]] = MappingProxyType({})

# Student attributes a report can be broken down by (spec "Equity"), with their labels.
BREAKDOWNS = {
    "gender": "Gender",
    "ethnicity_group": "Ethnicity group",
    "disability": "Disability",
    "is_international": "International student",
    "first_in_family": "First in family to attend university",
    "care_experienced": "Care experienced",
    "sexual_orientation": "Sexual orientation",
    "age_band": "Age band",
    "level_of_study": "Level of study",
    "year_of_study": "Year of study",
    # Not a student attribute: the episode's allocated practitioner, for managers of the
    # service only (`may_break_down_by_practitioner`).
    "practitioner": "Practitioner",
}
NOT_ALLOCATED = "Not allocated"
WAIT_BAND_LABELS = tuple(
    f"{low // 7} to {high // 7} weeks" if high else f"{low // 7} weeks or more"
    for low, high in metrics.WAIT_BANDS
)
SOURCE_LABELS = dict(Referral.Source.choices)
ENDING_LABELS = {str(k): str(v) for k, v in Episode.Ending.choices}
DECLINE_LABELS = dict(Referral.DeclineReason.choices)


@dataclass(frozen=True)
class ReportParameters:
    """What a report covers: the period [start, end), the services, and optionally one
    student attribute to break every figure down by ("" for none)."""

    start: date
    end: date
    service_ids: tuple[int, ...]
    breakdown: str = ""

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("The end of the period must be after its start.")
        if not self.service_ids:
            raise ValueError("Choose at least one service.")
        if self.breakdown and self.breakdown not in BREAKDOWNS:
            raise ValueError(f"Unknown breakdown {self.breakdown!r}.")


# Fetching ---------------------------------------------------------------------------------


class _Sql:
    """SQL fragments that differ between SQLite and PostgreSQL."""

    def __init__(self, using: str):
        self.using = using
        self.postgres = connections[using].vendor == "postgresql"

    @property
    def connection(self):
        """This thread's connection: `fetch_rows` reads from several threads at once."""
        return connections[self.using]

    def day(self, column: str) -> str:
        """A timestamp's UTC calendar date as a day number since 1970-01-01 (NULL stays).
        SQLite stores it as UTC text, and its whole seconds since 1970 divided by a day's
        are its day (for any time since 1970, as these are): `unixepoch` (SQLite 3.38 or
        newer) is three times faster than julianday of its date."""
        if self.postgres:
            return f"((({column}) AT TIME ZONE 'UTC')::date - DATE '1970-01-01')"
        return f"(unixepoch({column}) / 86400)"

    def date_day(self, column: str) -> str:
        if self.postgres:
            return f"({column} - DATE '1970-01-01')"
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"

    def first_and_last_scores(self, ids: str, period: list) -> dict[int, dict]:
        """Each episode ended in the period: per measure, the main score of its first and of
        its last valid administration, ordered by (completed_at, id) as the measures app
        orders them, and how many valid scores it has: `scores[episode][code] = (first,
        last, n)`. The database keeps these per episode and measure (`EpisodeScores`), so a
        report reads one row for each rather than every score."""
        rows = self.fetch(
            f"""SELECT s.episode_id, s.code, s.first_score, s.last_score, s.scores
            FROM measures_episodescores s WHERE s.episode_id IN (
                SELECT e.id FROM referrals_episode e
                WHERE e.ended_at >= %s AND e.ended_at < %s AND e.service_id IN ({ids}))""",  # noqa: S608
            period,
        )
        scores: dict[int, dict] = {}
        for episode, code, first, last, n in rows:
            scores.setdefault(episode, {})[code] = (first, last, n)
        return scores

    def group(self, breakdown: str, table: str) -> str:
        """The breakdown's raw value in the query of `table` ("r" referrals, "e" episodes):
        a referral's practitioner is that of the episode it led to."""
        if not breakdown:
            return "''"
        if breakdown == "practitioner":
            if table == "e":
                return "e.practitioner_id"
            return "(SELECT p.practitioner_id FROM referrals_episode p WHERE p.id = r.episode_id)"
        if breakdown == "age_band":
            return self.date_day("s.date_of_birth")
        return f"s.{Student._meta.get_field(breakdown).column}"

    def instant(self, day: date) -> object:
        aware = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        return self.connection.ops.adapt_datetimefield_value(aware)

    def fetch(self, sql: str, params: Sequence) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _in(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)  # ints only: safe to inline


def _labeller(breakdown: str, using: str) -> Callable[[object, int], str]:
    """Turns a row's raw group value (and the day it is taken on, for ages) into a label."""
    if not breakdown:
        return lambda value, day: ALL_STUDENTS
    if breakdown == "practitioner":
        names = {
            pk: " ".join(filter(None, (first, last))) or email
            for pk, first, last, email in User.objects.using(using).values_list(
                "pk", "first_name", "last_name", "email"
            )
        }
        return lambda value, day: names.get(value, NOT_ALLOCATED)
    if breakdown == "age_band":
        return lambda value, day: metrics.age_band(metrics.date_of(value), metrics.date_of(day))
    if breakdown == "is_international":
        return lambda value, day: "Yes" if value else "No"
    if breakdown == "year_of_study":
        return lambda value, day: f"Year {value}" if value else NOT_RECORDED
    choices = {str(k): str(v) for k, v in Student._meta.get_field(breakdown).choices}
    return lambda value, day: choices.get(value, NOT_RECORDED) if value else NOT_RECORDED


def group_order(breakdown: str, rows: "Rows | None" = None) -> list[str]:
    """The groups of a breakdown in a fixed order, "Not recorded" last where it can occur;
    practitioners (from `rows`) by name, then episodes allocated to nobody."""
    if breakdown == "practitioner":
        named = {r.group for r in (*rows.referrals, *rows.episodes, *rows.appointments)}
        return [*sorted(named - {NOT_ALLOCATED}), NOT_ALLOCATED]
    if breakdown == "age_band":
        return [label for _, label in metrics.AGE_BANDS]
    if breakdown == "is_international":
        return ["Yes", "No"]
    if breakdown == "year_of_study":
        return [f"Year {n}" for n in range(1, 8)] + [NOT_RECORDED]
    return [str(v) for _, v in Student._meta.get_field(breakdown).choices] + [NOT_RECORDED]


class Rows:
    """The rows every figure is computed from. A report's episodes and appointments may
    still be on their way (`arriving`, a future of both lists) when its referrals are here:
    reading them waits for them, so the referral figures can be worked out meanwhile."""

    def __init__(
        self,
        referrals: list[ReferralRow],
        episodes: list[EpisodeRow] | None = None,
        appointments: list[AppointmentRow] | None = None,
        *,
        arriving: Future | None = None,
    ):
        self.referrals = referrals
        self._episodes = episodes if episodes is not None else []
        self._appointments = appointments if appointments is not None else []
        self._arriving = arriving

    def _arrived(self) -> None:
        if self._arriving is not None:
            self._episodes, self._appointments = self._arriving.result()
            self._arriving = None

    @property
    def episodes(self) -> list[EpisodeRow]:
        self._arrived()
        return self._episodes

    @property
    def appointments(self) -> list[AppointmentRow]:
        self._arrived()
        return self._appointments


def in_background[T](using: str, read: Callable[[], T]) -> Future[T]:
    """`read` of the `using` database, started now. On PostgreSQL it runs in a thread of its
    own, on a connection of its own (closed when it is done), so the server works on it
    while this thread goes on.

    On SQLite it runs at once, here: its driver passes the interpreter back and forth
    between threads for every row fetched (three reads at once took twice as long). So does
    a read inside a transaction, whose uncommitted rows another connection could not see."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        done: Future[T] = Future()
        done.set_result(read())
        return done
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(_closing, using, read)
    finally:
        pool.shutdown(wait=False)


def _closing(using: str, read: Callable[[], object]):
    """Run `read` in a worker thread, then close that thread's connection."""
    try:
        return read()
    finally:
        connections[using].close()


def fetch_rows(
    start: date, end: date, service_ids: Sequence[int], breakdown: str = "", *, using="reports"
) -> Rows:
    """The rows every figure is computed from, in three queries. The scores and the
    episodes are read in the background (`in_background`) while the referrals are read
    here; the episode rows are built where their query ran, and arrive with the returned
    `Rows`. Only whole numbers and column names of our own are written into the SQL; the
    period is passed as parameters.

    Episodes and appointments come from one pass over the chosen services' episodes with
    their appointments as the database keeps them counted (`EpisodeAppointments`): per
    episode, whether it ended in the period, its attended treatment appointments (all of
    them, for the Talking Therapies "finished a course of treatment" rule) and its attended
    and missed appointments in the period. The rows are built as plain tuples; without a
    breakdown every row's group is a constant the query itself returns."""
    sql = _Sql(using)
    ids = _in(service_ids)
    of_student = breakdown and breakdown != "practitioner"
    join = "JOIN people_student s ON s.id = {}.student_id" if of_student else ""
    # Without a breakdown, the group label is a parameter and rows are used as they come.
    group = (lambda table: sql.group(breakdown, table)) if breakdown else (lambda table: "%s")
    group_params = [] if breakdown else [ALL_STUDENTS]
    period = [sql.instant(start), sql.instant(end)]
    label = _labeller(breakdown, using)

    referral_sql = f"""
        SELECT r.student_id, r.source, r.from_service_id, r.to_service_id, r.state,
               r.decline_reason, {sql.day("r.sent_at")}, {sql.day("r.first_contact_at")},
               {sql.day("r.treatment_started_at")}, {group("r")}
        FROM referrals_referral r {join.format("r")}
        WHERE r.sent_at >= %s AND r.sent_at < %s
          AND (r.to_service_id IN ({ids}) OR r.from_service_id IN ({ids}))"""  # noqa: S608

    def fetch_referrals() -> list[ReferralRow]:
        fetched = sql.fetch(referral_sql, group_params + period)
        if breakdown:
            return [ReferralRow(*row[:9], label(row[9], row[6])) for row in fetched]
        return list(map(ReferralRow._make, fetched))

    in_period = "{0} >= %s AND {0} < %s"

    def counted_in_period(status: str) -> str:
        """An episode's appointments of `status` in the period: none if all of them fall
        outside it, all of them (as the database keeps them counted) if all fall inside,
        and counted one by one only if they straddle its start or end."""
        return f"""CASE WHEN c.episode_id IS NULL OR c.last_at < %s OR c.first_at >= %s THEN 0
            WHEN c.first_at >= %s AND c.last_at < %s THEN c.{status}
            ELSE (SELECT COUNT(*) FROM referrals_appointment a WHERE a.episode_id = e.id
                  AND a.status = '{status}' AND {in_period.format("a.starts_at")}) END"""  # noqa: S608

    started = sql.day("e.started_at") if breakdown == "age_band" else "NULL"  # ages only
    episode_sql = f"""
        SELECT e.id, e.student_id, e.service_id, e.ending, {group("e")}, {started},
               CASE WHEN {in_period.format("e.ended_at")} THEN 1 ELSE 0 END,
               COALESCE(c.attended_treatment, 0),
               {counted_in_period("attended")}, {counted_in_period("missed")}
        FROM referrals_episode e {join.format("e")}
        LEFT JOIN referrals_episodeappointments c ON c.episode_id = e.id
        WHERE e.service_id IN ({ids})"""  # noqa: S608
    scores = in_background(using, lambda: sql.first_and_last_scores(ids, period))

    def episode_rows() -> tuple[list[EpisodeRow], list[AppointmentRow]]:
        fetched = sql.fetch(episode_sql, group_params + period * 7)
        return _episode_rows(fetched, scores.result(), label if breakdown else None)

    arriving = in_background(using, episode_rows)
    return Rows(fetch_referrals(), arriving=arriving)


def _episode_rows(
    fetched: list[tuple], scores: dict[int, dict], label: Callable[[object, int], str] | None
) -> tuple[list[EpisodeRow], list[AppointmentRow]]:
    """The episodes ended in the period, with their scores, and the episodes' attended and
    missed appointments in the period, from the episode query's rows. Without a `label`
    (no breakdown) each row's group is already its label."""
    episodes: list[EpisodeRow] = []
    appointments: list[AppointmentRow] = []
    for (
        episode,
        student,
        service,
        ending,
        value,
        started,
        ended,
        treated,
        attended,
        missed,
    ) in fetched:
        if not ended and not attended and not missed:
            continue
        group_label = label(value, started) if label else value
        if ended:
            episodes.append(
                EpisodeRow(
                    student,
                    service,
                    ending,
                    treated,
                    scores.get(episode, metrics.NO_SCORES),
                    group_label,
                )
            )
        if attended or missed:
            appointments.append(AppointmentRow(student, service, attended, missed, group_label))
    return episodes, appointments


# Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Every metric of one group of students (or one service), before disclosure."""

    activity: metrics.Activity
    waiting: metrics.Waiting
    appointments: metrics.Appointments
    endings: metrics.Endings
    coverage: metrics.Coverage
    measures: dict[str, metrics.MeasureOutcome]
    talking_therapies: metrics.TalkingTherapiesOutcome
    flows: dict[tuple[int, int], set]


def compute(
    rows: Rows,
    services: dict[int, Service],
    codes: Sequence[str] | None,
    today: int,
    calibrations: Mapping[str, Mapping[int, Calibration]] = NO_CALIBRATIONS,
) -> Figures:
    """All the metrics of the rows, for the chosen `services`; outcomes on the measures
    `codes` (None: every measure the episodes have scores on), a measure with no published
    reliable change index by the services' `calibrations` of it. The referral figures come
    first, while the episodes may still be arriving."""
    chosen = frozenset(services)
    received = [r for r in rows.referrals if r.to_service in chosen]
    activity = metrics.activity(received, chosen)
    waiting = metrics.waiting(
        received,
        {
            pk: s.waiting_standard_days
            for pk, s in services.items()
            if s.waiting_standard_days is not None
        },
        frozenset(pk for pk, s in services.items() if s.kind == "talking_therapies"),
        today,
    )
    flows = metrics.flows(rows.referrals, chosen)
    if codes is None:
        codes = _codes_in(rows.episodes)
    return Figures(
        activity=activity,
        waiting=waiting,
        appointments=metrics.appointments(rows.appointments),
        endings=metrics.endings(rows.episodes),
        coverage=metrics.coverage(rows.episodes),
        measures={
            code: metrics.measure_outcome(
                rows.episodes,
                code,
                {pk: c.reliable_change_index for pk, c in calibrations.get(code, {}).items()},
            )
            for code in codes
        },
        talking_therapies=metrics.talking_therapies(rows.episodes),
        flows=flows,
    )


def calibrations_of(service_ids: Sequence[int], using: str) -> dict[str, dict[int, Calibration]]:
    """The services' calibrations of the measures with no published reliable change index,
    by measure and service."""
    found: dict[str, dict[int, Calibration]] = {}
    for calibration in Calibration.objects.using(using).filter(
        service_id__in=service_ids, code__in=UNCALIBRATED
    ):
        found.setdefault(calibration.code, {})[calibration.service_id] = calibration
    return found


def rci_note(code: str, services: Mapping[int, Service], calibrations: Mapping) -> str:
    """For a measure with no published reliable change index: each service's, with the
    values it is worked out from, and which services have not set them."""
    if code not in UNCALIBRATED:
        return ""
    set_for = calibrations.get(code, {})
    words = [
        f"The {code} has no published reliable change index: each service's is worked out as "
        "1.96 × SD × √(2 × (1 - reliability)) from the standard deviation of first scores and "
        "the reliability its manager set."
    ]
    words += [
        f"{services[pk].name}: {c.reliable_change_index:.1f} points (SD {c.first_score_sd:g}, "
        f"reliability {c.reliability:g})."
        for pk, c in set_for.items()
        if pk in services
    ]
    if missing := [s.name for pk, s in services.items() if pk not in set_for]:
        words.append(
            f"Not set for {', '.join(missing)}, so reliable and clinically significant change "
            "are shown only for reports without it."
        )
    return " ".join(words)


def _codes_in(episodes: Sequence[EpisodeRow]) -> list[str]:
    seen = {code for row in episodes for code in row.scores}
    return [code for code in CODES if code in seen]


def _split(rows: Rows, groups: Sequence[str]) -> dict[str, Rows]:
    split = {group: Rows([], [], []) for group in groups}
    for name in ("referrals", "episodes", "appointments"):
        for row in getattr(rows, name):
            if row.group in split:
                getattr(split[row.group], name).append(row)
    return split


def _statistic(value: float | None, individuals: int, places: int = 1) -> str:
    """A statistic of `individuals` people, disclosed; None when it cannot be worked out
    from them (an effect size needs two different first scores) shows as a dash."""
    if value is None and passes_students(individuals):
        return disclose(Uncontrolled(NOT_DEFINED))
    return disclose(Statistic(0.0 if value is None else value, individuals, places))


def _percentage_or_undefined(numerator: int | None, denominator: int | None) -> str:
    if numerator is None or denominator is None:
        return disclose(Uncontrolled(NOT_DEFINED))
    return disclose(Percentage(numerator, denominator))


def _chart_number(shown: str) -> float | None:
    """A disclosed figure as a number a chart may draw, or None where it is suppressed."""
    try:
        return float(shown)
    except ValueError:
        return None


def effect_size_label(code: str) -> str:
    """Last minus first, so its sign says which way scores moved: the label says which sign
    is improvement on this measure."""
    better = "below" if instruments.get(code).improvement == "decrease" else "above"
    return f"Effect size (mean change ÷ SD of first scores; {better} 0 is improvement)"


def _tables(
    per_group: dict[str, Figures],
    services: dict[int, Service],
    names: dict[int, str],
    codes: Sequence[str],
    calibrations: Mapping = NO_CALIBRATIONS,
) -> list[dict]:
    """Every figure as tables of rows × groups, each value disclosed."""
    groups = list(per_group.values())
    tables = []

    def table(key, section, title, rows, note=""):
        tables.append(
            {
                "key": key,
                "section": section,
                "title": title,
                "note": note,
                "rows": [
                    {"label": label, "values": [shown(figures) for figures in groups]}
                    for label, shown in rows
                ],
            }
        )

    table(
        "activity",
        "Activity",
        "Referrals received",
        [
            ("Referrals", lambda f: disclose(Count(f.activity.referrals))),
            ("Students referred", lambda f: disclose(Count(f.activity.students))),
        ],
    )
    sources = [(value, str(label)) for value, label in SOURCE_LABELS.items()]
    from_services = sorted(
        {s for f in groups for s in f.activity.from_services}, key=lambda pk: names.get(pk, "")
    )
    table(
        "sources",
        "Activity",
        "Referrals by source",
        [
            *[
                (label, lambda f, v=value: disclose(Count(f.activity.by_source.get(v, 0))))
                for value, label in sources
            ],
            *[
                (
                    f"From {names.get(pk, 'another service')}",
                    lambda f, pk=pk: disclose(Count(f.activity.from_services.get(pk, 0))),
                )
                for pk in from_services
            ],
        ],
    )
    reasons = sorted({r for f in groups for r in f.activity.declined_by_reason})
    table(
        "outcomes",
        "Activity",
        "Referrals by outcome",
        [
            (
                "Accepted",
                lambda f: disclose(
                    Percentage(f.activity.by_outcome["accepted"], f.activity.referrals)
                ),
            ),
            (
                "Declined",
                lambda f: disclose(
                    Percentage(f.activity.by_outcome["declined"], f.activity.referrals)
                ),
            ),
            *[
                (
                    f"Declined: {str(DECLINE_LABELS.get(reason, reason)).lower()}",
                    lambda f, r=reason: disclose(Count(f.activity.declined_by_reason.get(r, 0))),
                )
                for reason in reasons
            ],
            (
                "Withdrawn",
                lambda f: disclose(
                    Percentage(f.activity.by_outcome["withdrawn"], f.activity.referrals)
                ),
            ),
            (
                "Still open (not yet decided)",
                lambda f: disclose(Percentage(f.activity.by_outcome["open"], f.activity.referrals)),
            ),
        ],
    )
    pairs = sorted(
        {pair for f in groups for pair in f.flows},
        key=lambda p: (names.get(p[0], ""), names.get(p[1], "")),
    )
    table(
        "flows",
        "Activity",
        "Onward referrals between services (students)",
        [
            (
                f"{names.get(a, '?')} → {names.get(b, '?')}",
                lambda f, p=(a, b): disclose(Count(len(f.flows.get(p, ())))),
            )
            for a, b in pairs
        ],
    )

    def wait_rows(name, attribute):
        return [
            (f"{name}: referrals", lambda f: disclose(Count(getattr(f.waiting, attribute).count))),
            *[
                (
                    f"{name}: {'median' if p == 50 else f'{p}th percentile'} (days)",
                    lambda f, p=p: _statistic(
                        getattr(f.waiting, attribute).percentiles[p],
                        getattr(f.waiting, attribute).students,
                        0,
                    ),
                )
                for p in metrics.PERCENTILES
            ],
        ]

    standards = sorted(
        {s.waiting_standard_days for s in services.values() if s.waiting_standard_days is not None}
    )
    tt = any(s.kind == "talking_therapies" for s in services.values())
    table(
        "waiting",
        "Waiting times",
        "Waiting times",
        [
            *wait_rows("To first contact", "to_first_contact"),
            *(
                [
                    (
                        "First contact within the service's standard "
                        f"({', '.join(str(d) for d in standards)} days)",
                        lambda f: disclose(
                            Percentage(f.waiting.within_standard, f.waiting.with_standard)
                        ),
                    )
                ]
                if standards
                else []
            ),
            *wait_rows("To treatment start", "to_treatment"),
            *[
                (
                    f"NHS Talking Therapies: treatment within {days // 7} weeks",
                    lambda f, i=i: disclose(
                        Percentage(
                            f.waiting.talking_therapies_within[i],
                            f.waiting.talking_therapies_started,
                        )
                    ),
                )
                for i, days in enumerate(metrics.TALKING_THERAPIES_STANDARDS_DAYS)
                if tt
            ],
            *wait_rows("Still waiting", "still_waiting"),
        ],
    )
    table(
        "wait-bands",
        "Waiting times",
        "Waits to first contact, by length",
        [
            (band, lambda f, i=i: disclose(Count(f.waiting.to_first_contact.bands[i])))
            for i, band in enumerate(WAIT_BAND_LABELS)
        ],
    )
    table(
        "appointments",
        "Appointments",
        "Missed appointments",
        [
            ("Appointments attended", lambda f: disclose(Count(f.appointments.attended))),
            ("Appointments missed", lambda f: disclose(Count(f.appointments.missed))),
            ("Missed appointment rate", lambda f: _missed_rate(f.appointments)),
        ],
    )
    table(
        "endings",
        "Endings",
        "Endings",
        [
            ("Episodes ended", lambda f: disclose(Count(f.endings.ended))),
            ("Planned endings", lambda f: disclose(Percentage(f.endings.planned, f.endings.ended))),
            (
                "Unplanned endings",
                lambda f: disclose(Percentage(f.endings.unplanned, f.endings.ended)),
            ),
            (
                "Transferred to another service (planned)",
                lambda f: disclose(Percentage(f.endings.transferred, f.endings.ended)),
            ),
            (
                "The student disengaged (unplanned)",
                lambda f: disclose(Percentage(f.endings.disengaged, f.endings.ended)),
            ),
        ],
    )
    table(
        "coverage",
        "Outcomes",
        "Outcomes for all: endings with first and last scores on at least one measure",
        [
            ("All endings", lambda f: disclose(Percentage(f.coverage.paired, f.coverage.ended))),
            *[
                (
                    label,
                    lambda f, e=ending: disclose(Percentage(*f.coverage.by_ending.get(e, (0, 0)))),
                )
                for ending, label in ENDING_LABELS.items()
            ],
            *[
                (
                    f"At {names.get(pk, '')}",
                    lambda f, s=pk: disclose(Percentage(*f.coverage.by_service.get(s, (0, 0)))),
                )
                for pk in sorted(services, key=lambda pk: names.get(pk, ""))
                if len(services) > 1
            ],
        ],
    )
    for code in codes:
        table(
            f"measure-{code}",
            "Outcomes",
            f"Outcomes on the {code}",
            [
                ("Episodes ended", lambda f, c=code: disclose(Count(f.measures[c].ended))),
                (
                    "With paired first and last scores",
                    lambda f, c=code: disclose(Count(f.measures[c].paired)),
                ),
                (
                    "Outcomes not available (no paired scores)",
                    lambda f, c=code: disclose(Count(f.measures[c].not_available)),
                ),
                (
                    "Mean first score",
                    lambda f, c=code: _statistic(f.measures[c].mean_first, f.measures[c].students),
                ),
                (
                    "Mean last score",
                    lambda f, c=code: _statistic(f.measures[c].mean_last, f.measures[c].students),
                ),
                (
                    effect_size_label(code),
                    lambda f, c=code: _statistic(
                        f.measures[c].effect_size, f.measures[c].students, 2
                    ),
                ),
                *[
                    (
                        label,
                        lambda f, c=code, a=attribute, d=denominator: _percentage_or_undefined(
                            getattr(f.measures[c], a), getattr(f.measures[c], d)
                        ),
                    )
                    for label, attribute, denominator in (
                        ("Reliable improvement", "reliable_improvement", "paired"),
                        ("No reliable change", "no_reliable_change", "paired"),
                        ("Reliable deterioration", "reliable_deterioration", "paired"),
                        (
                            "Recovery (of those in the clinical range at first)",
                            "recovery",
                            "case_at_start",
                        ),
                        (
                            "Reliable recovery (of those in the clinical range at first)",
                            "reliable_recovery",
                            "case_at_start",
                        ),
                        (
                            "Clinically significant change (of those clinical at first)",
                            "clinically_significant",
                            "case_at_start",
                        ),
                    )
                ],
            ],
            note=rci_note(code, services, calibrations),
        )
    table(
        "talking-therapies",
        "Outcomes",
        "NHS Talking Therapies outcomes (PHQ-9 and GAD-7)",
        [
            ("Episodes ended", lambda f: disclose(Count(f.talking_therapies.ended))),
            (
                "Finished a course of treatment (two or more treatment appointments)",
                lambda f: disclose(Count(f.talking_therapies.finished)),
            ),
            (
                "Outcomes not available (not finished, or no paired scores)",
                lambda f: disclose(Count(f.talking_therapies.not_available)),
            ),
            (
                "Reliable improvement",
                lambda f: disclose(
                    Percentage(
                        f.talking_therapies.reliable_improvement, f.talking_therapies.eligible
                    )
                ),
            ),
            (
                "Reliable deterioration",
                lambda f: disclose(
                    Percentage(
                        f.talking_therapies.reliable_deterioration, f.talking_therapies.eligible
                    )
                ),
            ),
            (
                "Recovery (of those at caseness at the start)",
                lambda f: disclose(
                    Percentage(f.talking_therapies.recovery, f.talking_therapies.case_at_start)
                ),
            ),
            (
                "Reliable recovery (of those at caseness at the start)",
                lambda f: disclose(
                    Percentage(
                        f.talking_therapies.reliable_recovery, f.talking_therapies.case_at_start
                    )
                ),
            ),
        ],
    )
    return tables


def _missed_rate(appointments: metrics.Appointments) -> str:
    """Missed ÷ offered, per appointment; hidden when it comes from 1 to 7 students."""
    if appointments.students and not passes_students(appointments.students):
        return disclose(Statistic(0.0, appointments.students))
    return disclose(Percentage(appointments.missed, appointments.offered))


def passes_students(n: int) -> bool:
    return disclose(Count(n)) != "*"


def prepost(code: str, outcome: metrics.MeasureOutcome, rci: float | None) -> dict:
    """A CORE Net-style pre/post chart of one measure, through disclosure control: the paired
    episodes counted in square cells of first and last score (about nine a side), each cell
    drawn with its rounded count if it holds 8 or more episodes; how many sit in smaller
    cells, not drawn; and the lines it is read by: no change, reliable change either side
    (`rci`, None when not one for all), and the clinical cut-off."""
    instrument = instruments.get(code)
    low, high = instrument.score_min, instrument.score_max
    width = math.ceil((high - low) / 9)
    top = math.ceil((high - low) / width) - 1  # the last cell holds the highest score too

    def cell(score: float) -> int:
        return min(int((score - low) // width), top)

    def words(i: int) -> str:
        start = low + i * width
        return f"{start:g} to {high:g}" if i == top else f"{start:g} to under {start + width:g}"

    cells: Counter[tuple[int, int]] = Counter()
    for (first, last), k in outcome.pairs.items():
        cells[cell(first), cell(last)] += k
    drawn = [
        {"x": low + (i + 0.5) * width, "y": low + (j + 0.5) * width, "first": words(i),
         "last": words(j), "n": _chart_number(disclose(Count(n)))}
        for (i, j), n in sorted(cells.items())
        if passes_students(n)
    ]  # fmt: skip
    hidden = sum(n for n in cells.values() if not passes_students(n))
    return {
        "code": code,
        "min": low,
        "max": high,
        "cutoff": instrument.caseness_cutoff,
        "rci": rci,
        "improvement": instrument.improvement,
        "cells": drawn,
        "hidden": disclose(Count(hidden)),
    }


def _one_index(code: str, services, calibrations: Mapping) -> float | None:
    """The reliable change index every chosen service uses for `code`, if it is one."""
    published = instruments.get(code).reliable_change
    if published is not None:
        return published
    indexes = {
        c.reliable_change_index for pk, c in calibrations.get(code, {}).items() if pk in services
    }
    everyone = set(calibrations.get(code, {})) >= set(services)
    return indexes.pop() if everyone and len(indexes) == 1 else None


def _charts(
    per_group: dict[str, Figures],
    names: dict[int, str],
    codes: Sequence[str],
    services: Mapping[int, Service] = MappingProxyType({}),
    calibrations: Mapping = NO_CALIBRATIONS,
) -> dict:
    """What the charts draw: only disclosed figures, parsed back to numbers."""
    overall = next(iter(per_group.values()))
    bands = {
        group: [disclose(Count(n)) for n in f.waiting.to_first_contact.bands]
        for group, f in per_group.items()
    }
    first = [
        _statistic(overall.measures[c].mean_first, overall.measures[c].students) for c in codes
    ]
    last = [_statistic(overall.measures[c].mean_last, overall.measures[c].students) for c in codes]
    return {
        "waiting": {
            "labels": list(WAIT_BAND_LABELS),
            "datasets": [
                {
                    "label": group,
                    "data": [_chart_number(shown) for shown in bands[group]],
                    "suppressed": [shown == SUPPRESSED for shown in bands[group]],
                }
                for group in per_group
            ],
        },
        "scores": {
            "labels": list(codes),
            "first": [_chart_number(shown) for shown in first],
            "last": [_chart_number(shown) for shown in last],
            "first_suppressed": [shown == SUPPRESSED for shown in first],
            "last_suppressed": [shown == SUPPRESSED for shown in last],
        },
        "prepost": [
            prepost(c, overall.measures[c], _one_index(c, services, calibrations))
            for c in codes
            if overall.measures[c].paired
        ],
        "flows": [
            {"from": names.get(a, "?"), "to": names.get(b, "?"), "flow": width}
            for (a, b), students in sorted(overall.flows.items())
            if (width := _chart_number(disclose(Count(len(students)))))
        ],
    }


def _services(service_ids: Sequence[int], using: str) -> dict[int, Service]:
    return {
        s.pk: s
        for s in Service.objects.using(using)
        .select_related("organisation")
        .filter(pk__in=service_ids)
        .order_by("organisation__name", "name")
    }


def without_cycle_collection(function):
    """Run `function` with Python's cycle collector paused. A hub report builds hundreds of
    thousands of tuples, none of them in a cycle, and every few thousand allocations would
    otherwise set off a collection that walks the ones already built (measured: about 8% of
    a hub report's time). Reference counting still frees everything; the collector resumes,
    if it was running, as soon as the report is built."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        running = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if running:
                gc.enable()

    return paused


@without_cycle_collection
def build_report(
    parameters: ReportParameters, *, using: str = "reports", today: date | None = None
) -> dict:
    """The service report for `parameters`: tables of disclosed figures (one column per
    student group, "All students" first), the charts' data, and what produced it.
    `today` (default: today) dates the still-waiting referrals' current wait."""
    today = today or timezone.localdate()
    services = _services(parameters.service_ids, using)
    if set(services) != set(parameters.service_ids):
        raise ValueError("Some of the chosen services do not exist.")
    rows = fetch_rows(
        parameters.start, parameters.end, list(services), parameters.breakdown, using=using
    )
    names = dict(Service.objects.using(using).values_list("pk", "name"))
    day = metrics.day_number(today)
    calibrations = calibrations_of(list(services), using)
    per_group = {ALL_STUDENTS: compute(rows, services, None, day, calibrations)}
    codes = list(per_group[ALL_STUDENTS].measures)
    if parameters.breakdown:
        order = group_order(parameters.breakdown, rows)
        for group, group_rows in _split(rows, order).items():
            per_group[group] = compute(group_rows, services, codes, day, calibrations)
    return {
        "parameters": {
            "start": parameters.start.isoformat(),
            "end": parameters.end.isoformat(),
            "service_ids": list(parameters.service_ids),
            "breakdown": parameters.breakdown,
        },
        "services": [
            {
                "id": pk,
                "name": s.name,
                "organisation": s.organisation.name,
                "waiting_standard_days": s.waiting_standard_days,
            }
            for pk, s in services.items()
        ],
        "breakdown_label": BREAKDOWNS.get(parameters.breakdown, ""),
        "groups": list(per_group),
        "tables": _tables(per_group, services, names, codes, calibrations),
        "charts": _charts(per_group, names, codes, services, calibrations),
    }


CSV_COLUMNS = ["section", "table", "figure", "group", "shown", "number", "of"]
_RATE = re.compile(r"^(\d+)% of (\d+)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def csv_rows(report: dict) -> list[list[str]]:
    """The report as a CSV file: a block saying what it covers and how figures are hidden,
    then one row per figure and student group. `shown` is the figure as the page shows it;
    `number` is it as a number a spreadsheet can sum or chart (a rate's percentage), blank
    where it is hidden or not defined; `of` is the number of people a rate is of."""
    period = report["parameters"]
    services = "; ".join(f"{s['name']} ({s['organisation']})" for s in report["services"])
    rows = [
        ["JoinedUp service report"],
        ["Period", f"{period['start']} up to (not including) {period['end']}"],
        ["Services", services],
        ["Disclosure control", "Counts of people are rounded to the nearest 5; a count, rate or "
         f"statistic from 1 to {SMALLEST_SHOWN - 1} people is shown as {SUPPRESSED} and has no "
         "number; — is not defined."],
        *[[f"Note: {table['title']}", table["note"]] for table in report["tables"]
          if table.get("note")],
        [],
        CSV_COLUMNS,
    ]  # fmt: skip
    for table in report["tables"]:
        for row in table["rows"]:
            for group, shown in zip(report["groups"], row["values"], strict=True):
                rate = _RATE.match(shown)
                number, of = (
                    (rate[1], rate[2])
                    if rate
                    else (shown, "")
                    if _NUMBER.match(shown)
                    else ("", "")
                )
                rows.append([table["section"], table["title"], row["label"], group, shown,
                             number, of])  # fmt: skip
    return rows


# Benchmarking -----------------------------------------------------------------------------

HEADLINES = (
    ("Referrals", lambda f: disclose(Count(f.activity.referrals))),
    (
        "Median days to first contact",
        lambda f: _statistic(
            f.waiting.to_first_contact.percentiles[50], f.waiting.to_first_contact.students, 0
        ),
    ),
    (
        "First contact within standard",
        lambda f: disclose(Percentage(f.waiting.within_standard, f.waiting.with_standard)),
    ),
    ("Missed appointments", lambda f: _missed_rate(f.appointments)),
    ("Planned endings", lambda f: disclose(Percentage(f.endings.planned, f.endings.ended))),
    (
        "Reliable improvement",
        lambda f: disclose(
            Percentage(f.talking_therapies.reliable_improvement, f.talking_therapies.eligible)
        ),
    ),
    (
        "Recovery",
        lambda f: disclose(
            Percentage(f.talking_therapies.recovery, f.talking_therapies.case_at_start)
        ),
    ),
)


@without_cycle_collection
def build_benchmark(
    start: date, end: date, *, using: str = "reports", today: date | None = None
) -> dict:
    """The headline figures side by side for every service and every institution of the hub,
    and funnel plots for NHS Talking Therapies recovery and reliable improvement."""
    today = today or timezone.localdate()
    services = _services(list(Service.objects.using(using).values_list("pk", flat=True)), using)
    if not services:
        return {"units": [], "headlines": [h for h, _ in HEADLINES], "funnels": {}}
    rows = fetch_rows(start, end, list(services), using=using)
    day = metrics.day_number(today)
    units: list[tuple[str, str, dict[int, Service]]] = [
        ("service", s.name, {pk: s}) for pk, s in services.items()
    ]
    organisations: dict[str, dict[int, Service]] = {}
    for pk, s in services.items():
        organisations.setdefault(s.organisation.name, {})[pk] = s
    units += [("institution", name, members) for name, members in organisations.items()]
    computed = []
    for kind, name, members in units:
        unit_rows = Rows(
            [r for r in rows.referrals if r.to_service in members],
            [r for r in rows.episodes if r.service in members],
            [r for r in rows.appointments if r.service in members],
        )
        computed.append((kind, name, compute(unit_rows, members, [], day)))
    funnels = {}
    for key, title, numerator, denominator in (
        ("recovery", "Recovery", "recovery", "case_at_start"),
        ("reliable_improvement", "Reliable improvement", "reliable_improvement", "eligible"),
    ):
        for kind in ("service", "institution"):
            funnels[f"{key}-{kind}"] = _funnel(
                title,
                kind,
                [
                    (
                        name,
                        getattr(f.talking_therapies, numerator),
                        getattr(f.talking_therapies, denominator),
                    )
                    for k, name, f in computed
                    if k == kind
                ],
            )
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "headlines": [h for h, _ in HEADLINES],
        "units": [
            {"kind": kind, "name": name, "values": [shown(f) for _, shown in HEADLINES]}
            for kind, name, f in computed
        ],
        "funnels": funnels,
    }


def _shown_percent(numerator: int, denominator: int) -> int | None:
    """A rate as the whole percentage disclosure control shows, or None where it hides it."""
    shown = disclose(Percentage(numerator, denominator))
    return None if shown in ("*", "—") else int(shown.split("%", 1)[0])


def _funnel(title: str, kind: str, units: list[tuple[str, int, int]]) -> dict:
    """A funnel plot's data, disclosed. A unit whose rate disclosure control hides is left
    out of the plot altogether (its row shows *): otherwise the hub rate, and the limits
    drawn around it, would let its counts be worked out from the others'. The rest are drawn
    at their rounded size and shown percentage, around the shown hub rate of those units.

    Whether a unit lies outside the limits is judged on those same published figures, against
    the limits at its drawn size, and the drawn limit lines pass through exactly those values
    (each drawn size is a point of the curve, sent unrounded). So the plot, the table beside
    it and anyone checking them from the published figures all agree: a unit marked outside
    is drawn outside, at the figures shown."""
    drawn = {}
    for label, numerator, denominator in units:
        y = _shown_percent(numerator, denominator) if denominator else None
        if y is not None:
            drawn[label] = (_chart_number(disclose(Count(denominator))), y)
    shown_units = [u for u in units if u[0] in drawn]
    pooled = _shown_percent(sum(u[1] for u in shown_units), sum(u[2] for u in shown_units))
    largest = max((int(x) for x, _ in drawn.values()), default=0)
    sizes = sorted(set(curve_sizes(largest)) | {int(x) for x, _ in drawn.values()})
    curve = [
        {
            "n": n,
            **{
                name: [100 * low, 100 * high]
                for name, (low, high) in limits_at(n, pooled / 100).items()
            },
        }
        for n in (sizes if pooled is not None and largest else [])
    ]
    at = {c["n"]: c for c in curve}
    points = []
    for label, numerator, denominator in units:
        if not denominator:
            continue  # no eligible episodes: not a unit of this plot
        x, y = drawn.get(label, (None, None))
        limits = at[int(x)] if x is not None else None
        points.append(
            {
                "label": label,
                "shown": disclose(Percentage(numerator, denominator)),
                "x": x,
                "y": y,
                "flagged": bool(limits) and not limits["99.8"][0] <= y <= limits["99.8"][1],
                "outside_95": bool(limits) and not limits["95"][0] <= y <= limits["95"][1],
            }
        )
    return {
        "title": title,
        "kind": kind,
        "pooled": pooled,
        # Units with eligible episodes whose rate disclosure control hides: named as hidden,
        # so an empty plot never reads as "no episodes".
        "hidden": sum(1 for point in points if point["x"] is None),
        "points": points,
        "curve": curve,
    }


# Who may run reports, and the audit of each run -------------------------------------------


def report_services_for(user):
    """The services `user` may report on: a researcher any service of the hub; a service
    manager the services of their own organisations; anybody else none."""
    if any(seat.role == Role.RESEARCHER for seat in seats_of(user)):
        return Service.objects.select_related("organisation")
    return calibration_services_for(user)


def _managed(user) -> set[int]:
    return {s.service_id for s in seats_of(user) if s.role == Role.SERVICE_MANAGER and s.service_id}


def manages_a_service(user) -> bool:
    return bool(_managed(user))


def may_break_down_by_practitioner(user, services) -> bool:
    """Only a manager of each of the services sees its figures by practitioner."""
    managed = _managed(user)
    return all(service.pk in managed for service in services)


def calibration_services_for(user):
    """The services whose reliable change settings `user` may set: those of the
    organisations they are a service manager in."""
    organisations = {s.organisation_id for s in seats_of(user) if s.role == Role.SERVICE_MANAGER}
    return Service.objects.filter(organisation_id__in=organisations).select_related("organisation")


def can_run_reports(user) -> bool:
    return user.is_authenticated and any(
        seat.role in (Role.RESEARCHER, Role.SERVICE_MANAGER) for seat in seats_of(user)
    )


def record_report_run(*, actor, action: str, description: str, request=None) -> None:
    """Audit one run of a report or benchmark: who, in which role, and what it covered.
    No student is named in a report, so the entry names none."""
    seat = next(
        (s for s in seats_of(actor) if s.role in (Role.RESEARCHER, Role.SERVICE_MANAGER)), None
    )
    append(
        [
            Entry(
                action=action,
                actor=actor,
                allowed=True,
                reason=description,
                actor_role=seat.role if seat else "",
                actor_service=seat.place if seat else "",
                actor_organisation=seat.organisation_name if seat else "",
                request_id=request_id_of(request),
            )
        ]
    )


def describe(parameters: ReportParameters, services: Sequence[Service]) -> str:
    """The parameters in words, for the audit log and the page."""
    words = (
        f"{parameters.start:%d %B %Y} to {parameters.end:%d %B %Y} (not including); "
        f"services: {', '.join(s.name for s in services)}"
    )
    if parameters.breakdown:
        words += f"; by {BREAKDOWNS[parameters.breakdown].lower()}"
    return words
