"""What belongs to a practitioner's day. Pure functions; the day and its zone are passed in."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


def day_bounds(today: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of `today` in `zone`, and the first moment of the next day."""
    start = dt.datetime.combine(today, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def is_today(moment: dt.datetime, today: dt.date, zone: dt.tzinfo) -> bool:
    """Whether `moment` falls on `today` where the practitioner works."""
    start, end = day_bounds(today, zone)
    return start <= moment < end


def is_due_today(due_on: dt.date, today: dt.date) -> bool:
    """Whether something dated `due_on` (a task, a review) is today's work: due today, or
    earlier and still not done. Something due later is not."""
    return due_on <= today


@dataclass(frozen=True)
class Assessed:
    """A risk assessment, reduced to what the review rule needs."""

    pk: int
    student_id: int
    service_id: int
    created_at: dt.datetime
    review_on: dt.date


def reviews_due(assessments: Iterable[Assessed], today: dt.date) -> list[int]:
    """The assessments whose review is due: each service's latest assessment of each
    student, if its review date has come. An older assessment, replaced by a newer one,
    needs no review of its own."""
    latest: dict[tuple[int, int], Assessed] = {}
    for assessed in assessments:
        key = (assessed.student_id, assessed.service_id)
        if key not in latest or (assessed.created_at, assessed.pk) > (
            latest[key].created_at,
            latest[key].pk,
        ):
            latest[key] = assessed
    due = [a for a in latest.values() if is_due_today(a.review_on, today)]
    return [a.pk for a in sorted(due, key=lambda a: (a.review_on, a.pk))]
