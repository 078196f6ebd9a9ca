"""The rows every figure is computed from, read in three queries (see the package's
docstring), some of them in the background while others are read."""

import datetime as dt
import functools
import gc
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

from django.db import connections
from django.utils import timezone

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import AppointmentRow, EpisodeRow, ReferralRow
from joinedup.evaluation.reports.parameters import ALL_STUDENTS, labeller
from joinedup.people.models import Student


class Sql:
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

    def group(self, breakdown: str, table: str, ids: str) -> str:
        """The breakdown's raw value in the query of `table` ("r" referrals, "e" episodes):
        a referral a chosen service (of `ids`) received is its episode's practitioner's; one
        it sent on is the referrer's."""
        if not breakdown:
            return "''"
        if breakdown == "practitioner":
            if table == "e":
                return "e.practitioner_id"
            return f"""CASE WHEN r.to_service_id IN ({ids}) THEN (SELECT p.practitioner_id
                FROM referrals_episode p WHERE p.id = r.episode_id) ELSE r.created_by_id END"""  # noqa: S608 - ids are whole numbers (`_in`)
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


def in_list(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)  # ints only: safe to inline


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
    sql = Sql(using)
    ids = in_list(service_ids)
    of_student = breakdown and breakdown != "practitioner"
    join = "JOIN people_student s ON s.id = {}.student_id" if of_student else ""
    # Without a breakdown, the group label is a parameter and rows are used as they come.
    group = (lambda table: sql.group(breakdown, table, ids)) if breakdown else (lambda table: "%s")
    group_params = [] if breakdown else [ALL_STUDENTS]
    period = [sql.instant(start), sql.instant(end)]
    label = labeller(breakdown, using)

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

    started = sql.day("e.started_at") if breakdown == "age_band" else "NULL"  # ages only
    episode_sql = f"""
        SELECT e.id, e.student_id, e.service_id, e.ending, {group("e")}, {started},
               CASE WHEN e.ended_at >= %s AND e.ended_at < %s THEN 1 ELSE 0 END,
               COALESCE(c.attended_treatment, 0), {in_period("attended")}, {in_period("missed")}
        FROM referrals_episode e {join.format("e")}
        LEFT JOIN referrals_episodeappointments c ON c.episode_id = e.id
        WHERE e.service_id IN ({ids})"""  # noqa: S608
    scores = in_background(using, lambda: sql.first_and_last_scores(ids, period))

    def episode_rows() -> tuple[list[EpisodeRow], list[AppointmentRow]]:
        fetched = sql.fetch(episode_sql, group_params + period * 7)
        return _episode_rows(fetched, scores.result(), label if breakdown else None)

    arriving = in_background(using, episode_rows)
    return Rows(fetch_referrals(), arriving=arriving)


def in_period(status: str) -> str:
    """SQL of an episode `e`'s appointments of `status` in the period, from its counts `c`
    (`EpisodeAppointments`): none if all of them fall outside it, all of them if all fall
    inside, and counted one by one only if they straddle its start or end. Its parameters
    are the period's start and end, three times over."""
    return f"""CASE WHEN c.episode_id IS NULL OR c.last_at < %s OR c.first_at >= %s THEN 0
        WHEN c.first_at >= %s AND c.last_at < %s THEN c.{status}
        ELSE (SELECT COUNT(*) FROM referrals_appointment a WHERE a.episode_id = e.id
              AND a.status = '{status}' AND a.starts_at >= %s AND a.starts_at < %s) END"""  # noqa: S608


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
