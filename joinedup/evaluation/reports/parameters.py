"""What a report covers and how its figures are grouped: the period, services and breakdown,
the labels of groups and rows, and the parameters in words."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING

from joinedup.evaluation import metrics
from joinedup.measures import instruments
from joinedup.measures.instruments import CODES
from joinedup.measures.models import Calibration
from joinedup.people.models import Service, Student, User
from joinedup.referrals.models import Episode, Referral

if TYPE_CHECKING:
    from joinedup.evaluation.reports.fetching import Rows


ALL_STUDENTS = "All students"
NOT_RECORDED = "Not recorded"
NOT_DEFINED = "—"  # a figure the measure does not define (no reliable change index)
# Measures with no published reliable change index: each service sets what it is worked out
# from (`measures.models.Calibration`).
UNCALIBRATED = tuple(code for code in CODES if instruments.get(code).reliable_change is None)
NO_CALIBRATIONS: Mapping[str, Mapping[int, Calibration]] = MappingProxyType({})

# Student attributes a report can be broken down by (spec "Equity"), with their labels.
# Said wherever a report broken down by practitioner goes: its page, PDF and CSV.
PRACTITIONER_CAVEAT = (
    "Practitioners' caseloads differ in size and in who is referred to them, so differences "
    "between their columns may be chance or case mix rather than how well anyone works. Use "
    "them to ask questions with your team, not to rank people. A referral a service received "
    "is counted under the practitioner of the episode it led to; one it sent on, under the "
    "person who sent it."
)

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


def labeller(breakdown: str, using: str) -> Callable[[object, int], str]:
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


def describe(parameters: ReportParameters, services: Sequence[Service]) -> str:
    """The parameters in words, for the audit log and the page."""
    words = (
        f"{parameters.start:%d %B %Y} to {parameters.end:%d %B %Y} (not including); "
        f"services: {', '.join(s.name for s in services)}"
    )
    if parameters.breakdown:
        words += f"; by {BREAKDOWNS[parameters.breakdown].lower()}"
    return words
