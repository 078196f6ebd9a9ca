"""Pure rules of referrals: the state machine, the waiting clocks and the gap rules.

No database, request or clock: callers pass plain values and `now`.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "send": (frozenset({"draft"}), "sent"),
    "accept": (frozenset({"sent"}), "accepted"),
    "decline": (frozenset({"sent"}), "declined"),
    "withdraw": (frozenset({"draft", "sent", "accepted", "waiting"}), "withdrawn"),
    "add_to_waiting_list": (frozenset({"accepted"}), "waiting"),
    "start_treatment": (frozenset({"accepted", "waiting"}), "in_treatment"),
    "discharge": (frozenset({"accepted", "waiting", "in_treatment"}), "discharged"),
}
STATE_WORDS = {
    "draft": "is still a draft",
    "sent": "has been sent and not yet decided",
    "accepted": "has been accepted",
    "declined": "was declined",
    "withdrawn": "was withdrawn",
    "waiting": "is on the waiting list",
    "in_treatment": "is in treatment",
    "discharged": "has ended with a discharge",
}
ACTION_WORDS = {
    "send": "sent",
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrawn",
    "add_to_waiting_list": "put on the waiting list",
    "start_treatment": "started in treatment",
    "discharge": "discharged",
}


class TransitionError(ValueError):
    """An action the referral's state does not allow; the message says why."""


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`, or `TransitionError` saying why not."""
    if action not in TRANSITIONS:
        raise TransitionError(f"Unknown action {action!r}.")
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise TransitionError(
            f"This referral {STATE_WORDS[state]}, so it cannot be {ACTION_WORDS[action]}."
        )
    return target


def allowed_actions(state: str) -> list[str]:
    return [action for action, (sources, _) in TRANSITIONS.items() if state in sources]


# A wait at or beyond this share of the standard shows amber: near the standard.
AMBER_SHARE = 0.8


def days_against_standard(sent: dt.date, first_contact: dt.date | None, today: dt.date) -> int:
    """What a service's waiting standard measures ("days from referral to first contact",
    as the service's own setting says): days from sent to first contact, or to today while
    there has been none."""
    return ((first_contact or today) - sent).days


def past_standard(days: int, standard: int | None) -> bool:
    """The one breach rule: a referral breaches its service's standard when the days the
    standard measures (`days_against_standard`) exceed it. The referral's clock, the waiting
    list's counts (their SQL twin, `selectors._colour_counts`), the service report and the
    gap rule all ask this."""
    return standard is not None and days > standard


@dataclass(frozen=True)
class Clock:
    """The waiting clocks of one referral, in whole days, against the service's standard."""

    to_first_contact: int | None
    to_treatment: int | None
    waited: int  # days from sent to treatment start, or to `now` while still waiting
    against_standard: int  # days from sent to first contact, or to `now` while there is none
    standard: int | None
    still_waiting: bool

    @property
    def colour(self) -> str:
        """red past the standard; amber near it while first contact has not come; else
        green (and green without a standard)."""
        if past_standard(self.against_standard, self.standard):
            return "red"
        if self.standard is None or self.to_first_contact is not None:
            return "green"
        return "amber" if self.against_standard >= AMBER_SHARE * self.standard else "green"


def clock(
    sent_at: dt.datetime,
    first_contact_at: dt.datetime | None,
    treatment_started_at: dt.datetime | None,
    standard_days: int | None,
    now: dt.datetime,
) -> Clock:
    """Days from sent to first contact and to treatment start (spec evaluation.md); while
    still waiting, the wait so far counts against the standard."""

    def days(end: dt.datetime | None) -> int | None:
        return None if end is None else (end.date() - sent_at.date()).days

    waited = days(treatment_started_at)
    return Clock(
        to_first_contact=days(first_contact_at),
        to_treatment=waited,
        waited=waited if waited is not None else (now.date() - sent_at.date()).days,
        against_standard=days_against_standard(
            sent_at.date(), first_contact_at.date() if first_contact_at else None, now.date()
        ),
        standard=standard_days,
        still_waiting=treatment_started_at is None,
    )


# Gap rules -------------------------------------------------------------------------------
# Each rule takes plain facts and returns findings; thresholds are arguments with defaults
# that settings can override. A finding names the service that should act.


@dataclass(frozen=True)
class ReferralFact:
    id: int
    student_id: int
    from_service_id: int | None
    to_service_id: int
    to_nhs: bool
    to_university: bool
    state: str
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None
    discharged_at: dt.datetime | None


@dataclass(frozen=True)
class EpisodeFact:
    id: int
    student_id: int
    service_id: int
    university_service: bool
    started_at: dt.datetime
    ended_at: dt.datetime | None
    last_contact_at: dt.datetime | None  # the latest attended appointment


@dataclass(frozen=True)
class Finding:
    rule: str
    key: str
    student_id: int
    service_id: int
    detail: str
    referral_id: int | None = None


def declined_with_no_other_service(
    referrals: list[ReferralFact], episodes: list[EpisodeFact], now: dt.datetime, days: int = 7
) -> list[Finding]:
    """A referral declined at least `days` ago, and the student has no open referral or
    episode anywhere else since: nobody is holding them."""
    open_students = {r.student_id for r in referrals if r.state in OPEN} | {
        e.student_id for e in episodes if e.ended_at is None
    }
    return [
        Finding(
            "declined_no_other_service",
            f"declined:{r.id}",
            r.student_id,
            r.from_service_id or r.to_service_id,
            f"Declined {(now - r.decided_at).days} days ago and not open to any other service.",
            r.id,
        )
        for r in referrals
        if r.state == "declined"
        and r.decided_at
        and now - r.decided_at >= dt.timedelta(days=days)
        and r.student_id not in open_students
    ]


def nhs_discharge_without_university_contact(
    referrals: list[ReferralFact],
    episodes: list[EpisodeFact],
    university_service_of: dict[int, int],
    now: dt.datetime,
    days: int = 7,
) -> list[Finding]:
    """Discharged from an NHS service at least `days` ago with no university contact since
    (no attended appointment in a university service's episode after the discharge)."""
    last_university_contact: dict[int, dt.datetime] = {}
    for e in episodes:
        if e.university_service and e.last_contact_at:
            seen = last_university_contact.get(e.student_id)
            last_university_contact[e.student_id] = max(filter(None, [seen, e.last_contact_at]))
    findings = []
    for r in referrals:
        if not (r.to_nhs and r.state == "discharged" and r.discharged_at):
            continue
        if now - r.discharged_at < dt.timedelta(days=days):
            continue
        contact = last_university_contact.get(r.student_id)
        if contact and contact >= r.discharged_at:
            continue
        service = university_service_of.get(r.student_id)
        if service is None:
            continue
        findings.append(
            Finding(
                "nhs_discharge_no_contact",
                f"discharge:{r.id}",
                r.student_id,
                service,
                f"Discharged from the NHS {(now - r.discharged_at).days} days ago; no university "
                "contact since.",
                r.id,
            )
        )
    return findings


def held_while_waiting_for_nhs(
    referrals: list[ReferralFact], episodes: list[EpisodeFact], now: dt.datetime, weeks: int = 6
) -> list[Finding]:
    """Seen by a university service in an open episode while waiting more than `weeks` for
    an NHS service that has not started treatment."""
    holding: dict[int, int] = {}
    for e in episodes:
        if e.university_service and e.ended_at is None:
            holding.setdefault(e.student_id, e.service_id)
    return [
        Finding(
            "held_waiting_for_nhs",
            f"held:{r.id}",
            r.student_id,
            holding[r.student_id],
            f"Held by a university service while waiting {(now - r.sent_at).days // 7} weeks "
            "for an NHS service.",
            r.id,
        )
        for r in referrals
        if r.to_nhs
        and r.state in WAITING
        and r.sent_at
        and now - r.sent_at > dt.timedelta(weeks=weeks)
        and r.student_id in holding
    ]


def no_contact_in_open_episode(
    episodes: list[EpisodeFact], now: dt.datetime, weeks: int = 4
) -> list[Finding]:
    """An open episode with no attended appointment for `weeks` (or ever, once it is that
    old)."""
    limit = dt.timedelta(weeks=weeks)
    return [
        Finding(
            "no_contact_open_episode",
            f"no_contact:{e.id}:{(e.last_contact_at or e.started_at).date().isoformat()}",
            e.student_id,
            e.service_id,
            f"No contact for {(now - (e.last_contact_at or e.started_at)).days // 7} weeks in "
            "an open episode.",
        )
        for e in episodes
        if e.ended_at is None and now - (e.last_contact_at or e.started_at) >= limit
    ]


@dataclass(frozen=True)
class WaitingFact:
    id: int
    student_id: int
    to_service_id: int
    sent_at: dt.datetime
    first_contact_at: dt.datetime | None
    standard_days: int | None
    risk_rank: int | None  # the student's latest assessed level (1 Low … 4 Immediate)

    def days(self, now: dt.datetime) -> int:
        first = self.first_contact_at.date() if self.first_contact_at else None
        return days_against_standard(self.sent_at.date(), first, now.date())


def waiting_past_standard_with_risk(
    waiting: list[WaitingFact], now: dt.datetime, min_rank: int = 2
) -> list[Finding]:
    """Past the service's standard (`past_standard`) and still waiting, while the latest
    risk is moderate or higher: the waiting list must not hold someone at risk."""
    return [
        Finding(
            "waiting_past_standard_at_risk",
            f"waiting_risk:{w.id}",
            w.student_id,
            w.to_service_id,
            (
                f"First contact came {w.days(now)} days after referral"
                if w.first_contact_at
                else f"Waiting {w.days(now)} days for first contact"
            )
            + f" (standard {w.standard_days}), still waiting, with risk at moderate or higher.",
            w.id,
        )
        for w in waiting
        if past_standard(w.days(now), w.standard_days)
        and w.risk_rank is not None
        and w.risk_rank >= min_rank
    ]


@dataclass(frozen=True)
class ConcernFact:
    id: int
    student_id: int
    service_id: int
    raised_at: dt.datetime
    has_outcome: bool


def concern_without_triage_outcome(
    concerns: list[ConcernFact], now: dt.datetime, hours: int = 48
) -> list[Finding]:
    """A concern with no triage outcome `hours` after it was raised."""
    return [
        Finding(
            "concern_no_outcome",
            f"concern:{c.id}",
            c.student_id,
            c.service_id,
            f"A concern raised {int((now - c.raised_at).total_seconds() // 3600)} hours ago "
            "has no triage outcome.",
        )
        for c in concerns
        if not c.has_outcome and now - c.raised_at >= dt.timedelta(hours=hours)
    ]


OPEN = frozenset({"sent", "accepted", "waiting", "in_treatment"})
WAITING = frozenset({"sent", "accepted", "waiting"})


# Episodes --------------------------------------------------------------------------------

# How each ending of an episode counts in service reports (shared/spec/evaluation.md,
# "Endings": planned = an agreed end, unplanned = dropped out or no contact). A transfer is
# an agreed move to another service, which NHS Talking Therapies counts as a planned ending
# ("referred to another service by mutual agreement"); a student who disengaged stopped
# coming, an unplanned ending.
ENDING_IS_PLANNED: dict[str, bool] = {
    "planned": True,
    "transferred": True,
    "unplanned": False,
    "disengaged": False,
}


def ending_is_planned(ending: str) -> bool:
    """Whether an episode's ending counts as planned; `ValueError` for an unknown one."""
    if ending not in ENDING_IS_PLANNED:
        raise ValueError(f"Unknown ending {ending!r}.")
    return ENDING_IS_PLANNED[ending]


# The roles whose members a service's episodes are allocated to, and who hold a diary.
CLINICIAN_ROLES = frozenset({"practitioner", "triage", "liaison"})


def is_clinician_of(service_id: int, seats: Iterable[tuple[int | None, str]]) -> bool:
    """Whether someone with these (service id, role) memberships is a clinician of the
    service: one an episode may be allocated to and an appointment booked with."""
    return any(service == service_id and role in CLINICIAN_ROLES for service, role in seats)


# Appointments -----------------------------------------------------------------------------

SHORTEST_APPOINTMENT = dt.timedelta(minutes=5)
LONGEST_APPOINTMENT = dt.timedelta(hours=4)


@dataclass(frozen=True)
class Slot:
    """A stretch of a clinician's time: one booked appointment."""

    id: int | None
    starts_at: dt.datetime
    length: dt.timedelta

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + self.length


def overlap(one: Slot, other: Slot) -> bool:
    """Whether two slots share any time: one that ends as the other starts does not."""
    return one.starts_at < other.ends_at and other.starts_at < one.ends_at


def clashes(new: Slot, booked: Iterable[Slot]) -> list[Slot]:
    """The clinician's booked slots that `new` would overlap (itself aside, when it is a
    booked appointment being moved), earliest first."""
    return sorted(
        (slot for slot in booked if (new.id is None or slot.id != new.id) and overlap(new, slot)),
        key=lambda slot: slot.starts_at,
    )


def length_problem(length: dt.timedelta) -> str:
    """Why an appointment cannot last this long, or ""."""
    if length < SHORTEST_APPOINTMENT:
        return "An appointment lasts at least 5 minutes."
    if length > LONGEST_APPOINTMENT:
        return "An appointment lasts at most 4 hours."
    return ""


def inside_episode(
    starts_at: dt.datetime, started_at: dt.datetime, ended_at: dt.datetime | None
) -> bool:
    """Whether an appointment at `starts_at` falls inside the episode."""
    return starts_at >= started_at and (ended_at is None or starts_at <= ended_at)


# What a student may ask about a booked appointment, and how the service may answer each.
ANSWERS: dict[str, tuple[str, ...]] = {
    "cancel": ("cancelled", "kept"),
    "rebook": ("rebooked", "cancelled", "kept"),
}


def may_answer(wants: str, answer: str) -> bool:
    """Whether `answer` answers a request of kind `wants` (to cancel, or to rebook)."""
    return answer in ANSWERS.get(wants, ())


def week_of(day: dt.date) -> list[dt.date]:
    """The seven days, Monday to Sunday, of the week holding `day`."""
    monday = day - dt.timedelta(days=day.weekday())
    return [monday + dt.timedelta(days=n) for n in range(7)]
