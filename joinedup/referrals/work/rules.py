"""The rules of tasks: when one is overdue, who may be given one, who may mark it done,
and when it may be due. Pure functions over plain values; the clock is passed in."""

import datetime as dt
from collections.abc import Collection, Mapping

from django.utils.translation import gettext as _

# A task set for a date is due by the end of that day, where the service is.
END_OF_DAY = dt.time(23, 59)


def is_overdue(due_at: dt.datetime, completed_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A task not done by its due moment is overdue; a done one never is."""
    return completed_at is None and due_at < now


def due_at_for(due_on: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The moment a task due on `due_on` becomes overdue: the end of that day in `zone`."""
    return dt.datetime.combine(due_on, END_OF_DAY, tzinfo=zone)


def due_on_problem(due_on: dt.date, today: dt.date) -> str | None:
    """Why a task cannot be due on `due_on` (in the past), or None."""
    if due_on < today:
        return _("The due date must be today or later.")
    return None


def assignment_problem(
    author_services: Mapping[int, str],
    service_id: int,
    assignee_name: str | None = None,
    assignee_services: Collection[int] = (),
) -> str | None:
    """Why a task cannot go to this team (`service_id`) or to this person in it, or None.

    A task goes to a service the author works in (`author_services`: id → name), and to a
    person only if they work in that service too: a task must land where its reader can
    act, and its text is read as that service's case note."""
    if service_id not in author_services:
        return _("You can set tasks only for a service you work in.")
    if assignee_name is not None and service_id not in assignee_services:
        return _("%(person)s does not work in %(service)s. Choose someone who does.") % {
            "person": assignee_name,
            "service": author_services[service_id],
        }
    return None


def may_complete(
    user_id: int, assignee_id: int | None, service_id: int, clinical_services: Collection[int]
) -> bool:
    """The person a task is for marks it done, or anyone in its team (a clinician of its
    service), covering for them."""
    return user_id == assignee_id or service_id in clinical_services


def needs_outcome(is_follow_up: bool) -> bool:
    """A follow-up after NHS crisis care records what was done; a colleague's task may simply
    be marked done."""
    return is_follow_up
