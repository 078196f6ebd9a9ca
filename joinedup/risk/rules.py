"""Pure rules of the shared risk language: overall levels, response deadlines and the
escalation route. No database, request or clock."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

DOMAINS = ("self", "self_neglect", "from_others", "to_others", "academic")


@dataclass(frozen=True)
class Level:
    rank: int
    name: str
    response_hours: int


def overall(levels_by_domain: Mapping[str, Level | None]) -> Level | None:
    """The overall level is the highest level of any domain (None when none is rated)."""
    rated = [level for level in levels_by_domain.values() if level is not None]
    return max(rated, key=lambda level: level.rank) if rated else None


def due_at(raised_at: dt.datetime, level: Level) -> dt.datetime:
    """When a flag of `level` must have been acknowledged."""
    return raised_at + dt.timedelta(hours=level.response_hours)


# Stages of the escalation route: first the duty (triage) workers of the services in the
# student's care, then their service managers.
NOT_DUE, DUTY, MANAGER = 0, 1, 2


def escalation_stage(raised_at: dt.datetime, level: Level, now: dt.datetime) -> int:
    """Where an unacknowledged flag stands on the route: past its deadline it goes to the
    duty worker; a further response period later, to the service manager."""
    deadline = due_at(raised_at, level)
    if now < deadline:
        return NOT_DUE
    if now < deadline + dt.timedelta(hours=max(level.response_hours, 1)):
        return DUTY
    return MANAGER


def withheld_label(services: list[str], shown: str = "") -> str:
    """The current level when the latest assessments are other services' and not shared:
    who holds them, after the latest level the user may see (`shown`), if any."""
    if shown:
        return f"{shown} · assessed since by {', '.join(services)} — not shared with you"
    return f"Assessed by {', '.join(services)} — not shared with you"


def label(level: Level | None, service_name: str = "", service_label: str = "") -> str:
    """The shared level with the service's own word for it: "High — Crisis Team: Amber"."""
    if level is None:
        return "Not assessed"
    if service_label:
        return f"{level.name} — {service_name}: {service_label}"
    return level.name


# Hours within which triage must respond to a concern, by urgency.
CONCERN_RESPONSE_HOURS = {"urgent": 4, "soon": 24, "routine": 72}


def concern_due_at(raised_at: dt.datetime, urgency: str) -> dt.datetime:
    """When triage must have responded to a concern: faster when urgent."""
    return raised_at + dt.timedelta(hours=CONCERN_RESPONSE_HOURS[urgency])


# A case stays visible to the panel's members until the panel closes, and at most this long
# after the meeting.
PANEL_WINDOW = dt.timedelta(hours=24)


def case_visible(
    now: dt.datetime,
    *,
    is_member: bool,
    added_at: dt.datetime,
    meets_at: dt.datetime,
    closed_at: dt.datetime | None,
) -> bool:
    """A member sees a case from when it is put on the agenda until the panel closes, or a
    day after the meeting, whichever is first."""
    end = meets_at + PANEL_WINDOW
    if closed_at is not None:
        end = min(end, closed_at)
    return is_member and added_at <= now <= end
