"""Every figure of a report of all students, counted by the database: the SQL twin of
counting the rows of `fetching` in Python (`figures.compute`), for a report with no
breakdown on PostgreSQL (SQLite groups more slowly than Python counts). A hub report then
reads a few thousand grouped counts rather than a row for every referral and episode;
the figures are worked out from the counts by the same functions of
`joinedup.evaluation.metrics` (`activity_of`, `waiting_of`, ...). `test_counting` checks
that both give the same figures.

Every count is of what `fetch_rows` reads: referrals sent in the period (received by a
chosen service, or between one and another service); episodes of the chosen services ended
in the period, with their scores (`measures.EpisodeScores`) and attended treatment
appointments (`referrals.EpisodeAppointments`); and every episode's attended and missed
appointments in the period. Distinct students are counted with COUNT(DISTINCT ...)."""

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from joinedup.evaluation import metrics
from joinedup.evaluation.reports.fetching import Sql, in_background, in_list, in_period

WAITING = ", ".join(f"'{state}'" for state in sorted(metrics.WAITING_STATES))


class Counts(NamedTuple):
    received: Counter  # (source, from service, state, decline reason) -> referrals
    received_students: int
    waits: metrics.WaitCounts
    flows: dict[tuple[int, int], int]  # (from service, to service) -> students
    endings: Counter  # (ending, service, paired on some measure) -> episodes
    ended_students: int
    finished: int  # ended with at least two attended treatment appointments
    scored: Counter  # (measure, service) -> ended episodes with a score on it
    pairs: Counter  # (measure, service, first, last) -> ended episodes with both
    paired_students: dict[str, int]  # measure -> students with paired scores on it
    talking_therapies: Counter  # as `metrics.talking_therapies_of` counts them
    talking_therapies_students: int
    appointments: metrics.Appointments


def count(
    start: date, end: date, service_ids: Sequence[int], today: int, *, using: str = "reports"
) -> Counts:
    """Every count a report of all students of the services needs, in nine queries: the
    episode ones in four reads in the background (on PostgreSQL, at once: see
    `fetching.in_background`) while the referral ones run here. `today` (a day number)
    dates the still-waiting referrals' wait so far."""
    sql = Sql(using)
    ids = in_list(service_ids)
    period = [sql.instant(start), sql.instant(end)]
    sent = "r.sent_at >= %s AND r.sent_at < %s"
    received = f"FROM referrals_referral r WHERE {sent} AND r.to_service_id IN ({ids})"

    def ended(joins: str = "", where: str = "") -> str:
        """The episodes of the services ended in the period, with `joins`."""
        return f"""FROM referrals_episode e {joins} WHERE {where} e.ended_at >= %s
            AND e.ended_at < %s AND e.service_id IN ({ids})"""

    def paired(alias: str, code: str = "") -> str:
        """Join an ended episode's scores with a first and a last (on `code`)."""
        return f"""JOIN measures_episodescores {alias} ON {alias}.episode_id = e.id
            AND {alias}.scores >= 2 {f"AND {alias}.code = '{code}'" if code else ""}"""

    counted = "LEFT JOIN referrals_episodeappointments c ON c.episode_id = e.id"

    def read(query: str, params: list | None = None) -> list[tuple]:
        return sql.fetch(query, period if params is None else params)

    def endings() -> dict:
        """How the episodes ended, whether with paired scores on some measure."""
        counted_endings = read(
            f"""SELECT e.ending, e.service_id, CASE WHEN e.id IN (SELECT s.episode_id
                FROM measures_episodescores s WHERE s.scores >= 2) THEN 1 ELSE 0 END,
                COUNT(*) {ended()} GROUP BY 1, 2, 3"""  # noqa: S608
        )
        return {
            "endings": Counter({(e, service, bool(paired)): n
                                for e, service, paired, n in counted_endings}),
        }  # fmt: skip

    def scores() -> dict:
        """The ended episodes' scores on each measure, and the students with a pair."""
        scored: Counter = Counter()
        pairs: Counter = Counter()
        for code, service, is_paired, first, last, n in read(
            f"""SELECT s.code, e.service_id, s.scores >= 2,
                CASE WHEN s.scores >= 2 THEN s.first_score END,
                CASE WHEN s.scores >= 2 THEN s.last_score END, COUNT(*)
                {ended("JOIN measures_episodescores s ON s.episode_id = e.id")}
                GROUP BY 1, 2, 3, 4, 5"""
        ):
            scored[code, service] += n
            if is_paired:
                pairs[code, service, first, last] += n
        students = read(
            f"SELECT s.code, COUNT(DISTINCT e.student_id) {ended(paired('s'))} GROUP BY 1"
        )
        return {"scored": scored, "pairs": pairs, "paired_students": dict(students)}

    def talking_therapies() -> dict:
        """The finished episodes with paired PHQ-9 and GAD-7 scores, and their students:
        a few in a hub's hundred, so read one by one rather than counted twice."""
        counted_pairs: Counter = Counter()
        students = set()
        for student, *pair in read(
            f"""SELECT e.student_id, CASE WHEN c.attended_treatment > 3 THEN 3
                ELSE c.attended_treatment END, p.first_score, p.last_score, g.first_score,
                g.last_score {
                ended(
                    f"{counted} {paired('p', 'PHQ-9')} {paired('g', 'GAD-7')}",
                    "c.attended_treatment >= 2 AND",
                )
            }"""
        ):
            counted_pairs[tuple(pair)] += 1
            students.add(student)
        return {"talking_therapies": counted_pairs, "talking_therapies_students": len(students)}

    def episodes() -> dict:
        """In one pass over every episode of the services: the students of those ended in
        the period and how many of those finished a course of treatment; every episode's
        attended and missed appointments in the period, and their students."""
        ended_students, finished, attended, missed, students = read(
            f"""SELECT COUNT(DISTINCT CASE WHEN ended = 1 THEN student_id END),
                COUNT(CASE WHEN ended = 1 AND treated >= 2 THEN 1 END),
                CAST(COALESCE(SUM(attended), 0) AS BIGINT),
                CAST(COALESCE(SUM(missed), 0) AS BIGINT),
                COUNT(DISTINCT CASE WHEN attended + missed > 0 THEN student_id END)
                FROM (SELECT e.student_id, c.attended_treatment AS treated,
                             CASE WHEN e.ended_at >= %s AND e.ended_at < %s THEN 1 END AS ended,
                             {in_period("attended")} AS attended,
                             {in_period("missed")} AS missed
                      FROM referrals_episode e {counted} WHERE e.service_id IN ({ids})) a""",  # noqa: S608
            period * 7,
        )[0]
        return {
            "ended_students": ended_students,
            "finished": finished,
            "appointments": metrics.Appointments(attended, missed, students),
        }

    episode_counts = [
        in_background(using, part) for part in (endings, scores, talking_therapies, episodes)
    ]

    activity = Counter({tuple(row[:4]): row[4] for row in read(
        f"SELECT r.source, r.from_service_id, r.state, r.decline_reason, COUNT(*) {received} "
        "GROUP BY 1, 2, 3, 4"
    )})  # fmt: skip
    waits: list[Counter] = [Counter(), Counter(), Counter()]
    for kind, service, days, n in read(
        f"""SELECT 0, r.to_service_id, {sql.day("r.first_contact_at")} - {sql.day("r.sent_at")},
                COUNT(*) {received} AND r.first_contact_at IS NOT NULL GROUP BY 2, 3
            UNION ALL
            SELECT 1, r.to_service_id, {sql.day("r.treatment_started_at")} -
                {sql.day("r.sent_at")}, COUNT(*) {received}
                AND r.treatment_started_at IS NOT NULL GROUP BY 2, 3
            UNION ALL
            SELECT 2, 0, {sql.day("r.sent_at")}, COUNT(*) {received}
                AND r.treatment_started_at IS NULL AND r.state IN ({WAITING}) GROUP BY 3""",
        period * 3,
    ):
        if kind == 2:
            waits[2][today - days] += n
        else:
            waits[kind][service, days] += n
    students = read(
        f"""SELECT COUNT(DISTINCT r.student_id),
            COUNT(DISTINCT CASE WHEN r.first_contact_at IS NOT NULL THEN r.student_id END),
            COUNT(DISTINCT CASE WHEN r.treatment_started_at IS NOT NULL THEN r.student_id END),
            COUNT(DISTINCT CASE WHEN r.treatment_started_at IS NULL AND r.state IN ({WAITING})
                  THEN r.student_id END) {received}"""
    )[0]
    flows = {
        (a, b): n
        for a, b, n in read(
            f"""SELECT r.from_service_id, r.to_service_id, COUNT(DISTINCT r.student_id)
            FROM referrals_referral r WHERE {sent} AND r.from_service_id IS NOT NULL
            AND (r.to_service_id IN ({ids}) OR r.from_service_id IN ({ids}))
            GROUP BY 1, 2"""  # noqa: S608
        )
    }
    return Counts(
        received=activity,
        received_students=students[0],
        waits=metrics.WaitCounts(*waits, *students[1:]),
        flows=flows,
        **{name: value for done in episode_counts for name, value in done.result().items()},
    )
