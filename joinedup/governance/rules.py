"""Governance rules: when an override review is overdue and what a review must say; the
audit search's period; cells of a CSV download."""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import holidays
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# An override not reviewed within this long after it was opened is overdue.
REVIEW_WITHIN = timedelta(days=7)
APPROPRIATE, NOT_APPROPRIATE = "appropriate", "not_appropriate"
OUTCOMES = (APPROPRIATE, NOT_APPROPRIATE)


def is_overdue(opened_at: datetime, now: datetime, *, reviewed: bool) -> bool:
    return not reviewed and now - opened_at > REVIEW_WITHIN


def review_problem(outcome: str, note: str) -> dict[str, str]:
    """What is missing from a review, by field; empty when it can be recorded. A finding
    that an override was not appropriate must say why."""
    problems = {}
    if outcome not in OUTCOMES:
        problems["outcome"] = _("Say whether the emergency access was appropriate.")
    elif outcome == NOT_APPROPRIATE and not note.strip():
        problems["note"] = _("Say why it was not appropriate, and what happens next.")
    return problems


# The audit search shows the last week unless asked for another period, and no more than a
# year at once: a longer period is two searches.
SEARCH_DAYS = 7
LONGEST_SEARCH = timedelta(days=366)


def period_problem(start: date, end: date) -> str:
    """What is wrong with a search period, or "" when it can be searched."""
    if end < start:
        return _("The end of the period is before its start. Put the earlier date first.")
    if end - start >= LONGEST_SEARCH:
        return _("Search a year or less at a time.")
    return ""


def spreadsheet_safe(value: str) -> str:
    """A CSV cell that a spreadsheet will show as text, never run as a formula: a value
    starting with = + - @ (or a tab or carriage return) is given a leading apostrophe."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# Words for an audit action where its own ("consent.break_glass.opened") would mislead a
# reader; every other action is said from its last two parts ("referrals.task.set": "Task set").
ACTION_WORDS = {
    "break glass": "emergency override",
    "audit": "audit log",
    "http refused": "page refused",
    "record read": "record opened",
}
# Actions through another door than the pages say which.
ACTION_DOORS = {"fhir": "FHIR", "api": "API", "admin": "Site administration"}


def action_in_words(action: str) -> str:
    """An audit action as a data protection officer reads it: "consent.break_glass.opened"
    is "Emergency override opened"; "record.read" is "Record opened"."""
    door, *rest = action.split(".")
    parts = rest if door in ACTION_DOORS else action.split(".")
    words = " ".join(parts[-2:]).replace("_", " ")
    for said, meant in ACTION_WORDS.items():
        words = re.sub(rf"\b{said}\b", meant, words)
    words = words[:1].upper() + words[1:]
    return f"{ACTION_DOORS[door]}: {words}" if door in ACTION_DOORS else words


def shows_reason(*, allowed: bool | None, category: str, action: str) -> bool:
    """Whether an organisation admin reads an audit entry's reason. An access decision's
    reason is the policy's why (a care relationship, a consent, an override) and an
    override's opening carries the reason its reviewer must read; but the reason of a change
    to a student's record may summarise it (a risk level, a letter's subject): clinical
    content, which an admin never sees."""
    return allowed is not None or not category or action == "consent.break_glass.opened"


# A check of the audit chain not finished in this long was stopped (its worker died).
CHAIN_CHECK_LASTS = timedelta(hours=1)

# Agreements warn this long before they end or fall due for review.
WARN_AHEAD = timedelta(days=30)
LONGEST_FOLLOW_UP_HOURS = 24 * 14


# An agreement's terms, as drafted and as changed while it is not in force on every side,
# each as its history names it.
AGREEMENT_TERMS = {
    "title": "title", "lawful_basis": "lawful basis",
    "condition": "condition for health data", "categories": "kinds of record",
    "purposes": "purposes", "starts_on": "start", "ends_on": "end", "review_on": "review date",
    "follow_up_hours": "follow-up time",
}  # fmt: skip


def agreement_problems(
    *, own: int, partner: int | None, categories: list[str], purposes: list[str],
    starts_on: date | None, ends_on: date | None, review_on: date | None, follow_up_hours: int,
    lawful_basis: str, condition: str,
) -> dict[str, str]:  # fmt: skip
    """What stops an agreement being drafted (or its terms changed), by field; empty when it
    can be."""
    problems = {}
    if partner is None or partner == own:
        problems["partner"] = _(
            "An agreement is between two organisations: choose the other organisation."
        )
    if not lawful_basis:  # one of `DataSharingAgreement.LawfulBasis`, else ""
        problems["lawful_basis"] = _("Choose the lawful basis of the sharing (UK GDPR Article 6).")
    if not condition:  # one of `DataSharingAgreement.Condition`, else ""
        problems["condition"] = _("Choose the condition for sharing health data (UK GDPR "
                                  "Article 9).")  # fmt: skip
    if not categories:
        problems["categories"] = _("Choose the kinds of record the agreement covers.")
    if not purposes:
        problems["purposes"] = _("Choose what the records may be used for.")
    if starts_on and ends_on and ends_on < starts_on:
        problems["ends_on"] = _("The agreement ends before it starts. Check the dates.")
    if starts_on and review_on and review_on < starts_on:
        problems["review_on"] = _("The review is before the agreement starts. Check the dates.")
    if not 1 <= follow_up_hours <= LONGEST_FOLLOW_UP_HOURS:
        problems["follow_up_hours"] = _(
            "Give the follow-up time in hours, from 1 to %(most)d (two weeks)."
        ) % {"most": LONGEST_FOLLOW_UP_HOURS}
    return problems


# The ICO's Data sharing code of practice (2021, "Data sharing agreements") asks that an
# agreement be reviewed regularly; NHS data sharing agreements are reviewed every year. A
# next review further off than this is refused as a slip, not a plan.
LONGEST_REVIEW_GAP_YEARS = 3


def next_review_problem(next_review_on: date | None, ends_on: date | None, today: date) -> str:
    """What is wrong with the date of an agreement's next review, or ""."""
    if next_review_on is None:
        return _("Enter the date of the next review.")
    if next_review_on <= today:
        return _("Enter a date after today for the next review.")
    latest = add_months(today, 12 * LONGEST_REVIEW_GAP_YEARS)
    if next_review_on > latest:
        return _("Review it at least every %(years)d years: enter a date by %(day)s.") % {
            "years": LONGEST_REVIEW_GAP_YEARS, "day": f"{latest:%-d %B %Y}"}  # fmt: skip
    if ends_on is not None and next_review_on > ends_on:
        return _("The agreement ends before then: review it by its end, or renew it.")
    return ""


def agreement_warnings(ends_on: date | None, review_on: date | None, today: date) -> list[str]:
    """What an admin should act on soon: an end or a review within `WARN_AHEAD`, or past."""
    warnings = []
    if ends_on is not None:
        if ends_on < today:
            warnings.append(_("Ended on %(day)s.") % {"day": f"{ends_on:%-d %b %Y}"})
        elif ends_on - today <= WARN_AHEAD:
            warnings.append(_("Ends on %(day)s: renew it or let it end.") % {
                "day": f"{ends_on:%-d %b %Y}"})  # fmt: skip
    if review_on is not None and (ends_on is None or ends_on >= today):
        if review_on < today:
            warnings.append(_("Review overdue since %(day)s.") % {"day": f"{review_on:%-d %b %Y}"})
        elif review_on - today <= WARN_AHEAD:
            warnings.append(_("Review due on %(day)s.") % {"day": f"{review_on:%-d %b %Y}"})
    return warnings


# An invitation to join is good for a week; resending it starts the week again.
INVITATION_LASTS = timedelta(days=7)
# Where each role is held: clinical staff and managers in a service, academics in a
# department, admins and researchers in the organisation itself.
SERVICE_ROLES = frozenset({"practitioner", "triage", "liaison", "service_manager"})
DEPARTMENT_ROLES = frozenset({"academic"})


def place_problem(role: str, *, service: bool, department: bool) -> str:
    """What is wrong with where a role is to be held, or ""."""
    if role in SERVICE_ROLES and not service:
        return _("Choose the service this role works in.")
    if role in DEPARTMENT_ROLES and not department:
        return _("Choose the department this role works in.")
    if role not in SERVICE_ROLES | DEPARTMENT_ROLES and (service or department):
        return _("This role is held in the whole organisation: choose the organisation "
                 "itself, not a service or department.")  # fmt: skip
    return ""


def invitation_problem(
    *, now: datetime, expires_at: datetime, accepted: bool, withdrawn: bool
) -> str:
    """Why an invitation can no longer be accepted, or "" while it can."""
    if accepted:
        return _("This invitation has been used already. Sign in with the account made with it.")
    if withdrawn:
        return _("This invitation was withdrawn. Ask the person who invited you.")
    if now >= expires_at:
        return _("This invitation expired on %(day)s. Ask the person who invited you to "
                 "send it again.") % {"day": f"{expires_at:%-d %B %Y}"}  # fmt: skip
    return ""


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later; the month's last day where it is shorter
    (31 January + 1 month = 28 or 29 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# The bank holidays of England and Wales (the Banking and Financial Dealings Act 1971, as
# the `holidays` package keeps them), where the hub's organisations are.
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG")


def working_day_from(day: date) -> date:
    """`day`, or the next working day when it is a weekend or a bank holiday."""
    while day.weekday() >= 5 or day in BANK_HOLIDAYS:
        day += timedelta(days=1)
    return day


def response_due(received_on: date, *, extended: bool = False) -> date:
    """When a data protection rights request must be answered: one calendar month from the
    day it was received, or three where the time was extended because the request is complex
    or one of many (UK GDPR Article 12(3)). The ICO's guidance "Time limits for responding to
    data protection rights requests" counts from the day of receipt to the corresponding
    calendar date (the month's last day where there is none), and, where that is not a
    working day, to the next working day."""
    return working_day_from(add_months(received_on, 3 if extended else 1))


@dataclass(frozen=True)
class Clock:
    """Where an open request stands against its due day, as a tag says it."""

    words: str
    colour: str  # an NHS.UK tag colour


SOON = 7  # days: a request due within a week is flagged


def clock_of(due_on: date, today: date) -> Clock:
    """How long an open request has left: overdue, due today, due within a week, or not yet."""
    left = (due_on - today).days
    if left < 0:
        return Clock(ngettext("Overdue by %(n)d day", "Overdue by %(n)d days", -left)
                     % {"n": -left}, "red")  # fmt: skip
    if left == 0:
        return Clock(_("Due today"), "orange")
    return Clock(ngettext("%(n)d day left", "%(n)d days left", left) % {"n": left},
                 "yellow" if left <= SOON else "grey")  # fmt: skip


def received_problem(received_on: date, today: date) -> str:
    """What is wrong with the day a rights request was received, or ""."""
    if received_on > today:
        return _("A request cannot be received in the future: enter the day it came in.")
    return ""


def rights_response_problems(
    *, received_on: date, outcome: str, responded_on: date | None, response: str, today: date
) -> dict[str, str]:
    """What a recorded answer to a rights request lacks, by field; empty when complete."""
    problems = {}
    if not outcome:
        problems["outcome"] = _("Say how the request was answered.")
    if responded_on is None:
        problems["responded_on"] = _("Enter the day the answer was sent.")
    elif responded_on < received_on:
        problems["responded_on"] = _("The answer cannot be sent before the request came in.")
    elif responded_on > today:
        problems["responded_on"] = _("Record the answer once it has been sent.")
    if outcome in ("partly", "refused") and not response.strip():
        problems["response"] = _("Say which exemption or reason applies: the requester must "
                                 "be told, and may complain to the ICO.")  # fmt: skip
    return problems


# How long the answer of a national data opt-out check may be used before the check is run
# again. NHS England's national data opt-out operational policy lets the result be held as a
# cache for a fixed period only, re-checked regularly, never recorded on the record itself.
OPT_OUT_CHECK_LASTS = timedelta(days=21)


@dataclass(frozen=True)
class ReturnedList:
    """The NHS numbers in a file the Check for National Data Opt-outs service returned, and
    what is wrong with its lines (each by its line number)."""

    numbers: frozenset[str]
    problems: list[str]


def read_returned_list(text: str, is_valid: Callable[[str], bool]) -> ReturnedList:
    """The service's file: NHS numbers, one per line, each optionally followed by a comma.
    A line that is not one valid NHS number is a problem (`is_valid` checks the number)."""
    numbers, problems = set(), []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip().rstrip(",").strip()
        if not value:
            continue
        if not (value.isdigit() and len(value) == 10 and is_valid(value)):
            problems.append(_("Line %(line)d: “%(value)s” is not a valid NHS number.")
                            % {"line": number, "value": value[:40]})  # fmt: skip
            continue
        numbers.add(value)
    return ReturnedList(frozenset(numbers), problems)


# --- Retention ------------------------------------------------------------------------------

# How many years after the student's last contact with an organisation its records are kept,
# by the kind of organisation, with the source of each default. An organisation's admin may
# set another period per kind of record (`RetentionRule`).
NHS_MENTAL_HEALTH_YEARS = 20  # NHS England, Records Management Code of Practice 2023,
# Appendix II (retention schedule), "Mental health records": 20 years after the date of the
# last contact between the patient and the mental health provider (or 8 years after death).
COUNSELLING_YEARS = 6  # BACP, Good Practice in Action 105 (Recording and record keeping):
# client records kept for six years after the end of contact, the time within which a claim
# in contract or tort may be brought (Limitation Act 1980, sections 2 and 5).
DEFAULT_RETENTION_YEARS = {
    "nhs_trust": (NHS_MENTAL_HEALTH_YEARS,
                  "NHS Records Management Code of Practice 2023, mental health records"),
    "gp_practice": (NHS_MENTAL_HEALTH_YEARS,
                    "NHS Records Management Code of Practice 2023, mental health records"),
    "university": (COUNSELLING_YEARS, "BACP Good Practice in Action 105; Limitation Act 1980"),
    "third_sector": (COUNSELLING_YEARS, "BACP Good Practice in Action 105; Limitation Act 1980"),
}  # fmt: skip
LONGEST_RETENTION_YEARS = 100
# What a free text kept for reports says once its retention has passed: shown wherever the
# text was, so that a reader sees it was erased, not that nothing was written.
ERASED_TEXT = "(Erased at the end of its retention period.)"


def retention_problem(years: int | None) -> str:
    """What is wrong with a retention period in years, or ""."""
    if years is None or years < 1:
        return _("Keep records for at least 1 year after the last contact: a shorter period "
                 "would erase them as soon as care ends.")  # fmt: skip
    if years > LONGEST_RETENTION_YEARS:
        return _("Give a period of %(most)d years or fewer.") % {"most": LONGEST_RETENTION_YEARS}
    return ""


def kept_until(last_contact: date, years: int) -> date:
    """The last day a record is kept: `years` after the last contact."""
    return add_months(last_contact, 12 * years)


def is_due_for_erasure(*, last_contact: date, years: int, today: date, in_care: bool) -> bool:
    """Whether records pass their retention: never while the student is still in the
    organisation's care, else once the day after `kept_until` has come."""
    return not in_care and today > kept_until(last_contact, years)
