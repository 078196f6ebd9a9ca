"""A report's figures as tables of rows by student group, every value disclosed."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from joinedup.evaluation import metrics
from joinedup.evaluation.reports.figures import Figures, rci_note
from joinedup.evaluation.reports.parameters import (
    DECLINE_LABELS,
    ENDING_LABELS,
    NO_CALIBRATIONS,
    NOT_DEFINED,
    SOURCE_LABELS,
    WAIT_BAND_LABELS,
)
from joinedup.evaluation.rules import (
    Count,
    Percentage,
    Statistic,
    Uncontrolled,
    disclose,
)
from joinedup.measures import instruments
from joinedup.people.models import Service


def statistic(value: float | None, individuals: int, places: int = 1) -> str:
    """A statistic of `individuals` people, disclosed; None when it cannot be worked out
    from them (an effect size needs two different first scores) shows as a dash."""
    if value is None and passes_students(individuals):
        return disclose(Uncontrolled(NOT_DEFINED))
    return disclose(Statistic(0.0 if value is None else value, individuals, places))


def percentage_or_undefined(numerator: int | None, denominator: int | None) -> str:
    if numerator is None or denominator is None:
        return disclose(Uncontrolled(NOT_DEFINED))
    return disclose(Percentage(numerator, denominator))


def chart_number(shown: str) -> float | None:
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


# Each figure is described by where it is found in a group's `Figures` (a path of attribute
# names and mapping keys) and how it is disclosed.
Path = tuple[object, ...]


def at(figures: Figures, path: Path):
    """The value at `path`: attributes, mapping keys (a missing key is 0, none of it) and
    positions in sequences."""
    value: object = figures
    for step in path:
        if isinstance(value, Mapping):
            value = value.get(step, 0)
        elif isinstance(step, int):
            value = value[step]  # type: ignore[index]
        else:
            value = getattr(value, str(step))
    return value


@dataclass(frozen=True)
class People:
    """A count of people."""

    path: Path

    def shown(self, figures: Figures) -> str:
        value = at(figures, self.path)
        return disclose(Count(value))


@dataclass(frozen=True)
class Share:
    """A rate: numerator of denominator; a dash where the measure does not define it."""

    numerator: Path
    denominator: Path

    def shown(self, figures: Figures) -> str:
        return percentage_or_undefined(at(figures, self.numerator), at(figures, self.denominator))


@dataclass(frozen=True)
class Pair:
    """A rate kept as its (numerator, denominator) pair."""

    path: Path

    def shown(self, figures: Figures) -> str:
        return disclose(Percentage(*(at(figures, self.path) or (0, 0))))


@dataclass(frozen=True)
class Mean:
    """A statistic of the people at `students`, to `places` decimal places."""

    path: Path
    students: Path
    places: int = 1

    def shown(self, figures: Figures) -> str:
        return statistic(at(figures, self.path), at(figures, self.students), self.places)


@dataclass(frozen=True)
class MissedRate:
    def shown(self, figures: Figures) -> str:
        return missed_rate(figures.appointments)


Figure = People | Share | Pair | Mean | MissedRate
Rows = Sequence[tuple[str, Figure]]


def _outcomes(of: Path) -> Rows:
    return [
        ("Reliable improvement", Share((*of, "reliable_improvement"), (*of, "paired"))),
        ("No reliable change", Share((*of, "no_reliable_change"), (*of, "paired"))),
        ("Reliable deterioration", Share((*of, "reliable_deterioration"), (*of, "paired"))),
        ("Recovery (of those in the clinical range at first)",
         Share((*of, "recovery"), (*of, "case_at_start"))),
        ("Reliable recovery (of those in the clinical range at first)",
         Share((*of, "reliable_recovery"), (*of, "case_at_start"))),
        ("Clinically significant change (as reliable recovery, of those clinical at first)",
         Share((*of, "clinically_significant"), (*of, "case_at_start"))),
    ]  # fmt: skip


def _measure(code: str) -> Rows:
    of = ("measures", code)
    return [
        ("Episodes ended (where it is used)", People((*of, "ended"))),
        ("With paired first and last scores", People((*of, "paired"))),
        ("Outcomes not available (no paired scores)", People((*of, "not_available"))),
        ("Mean first score", Mean((*of, "mean_first"), (*of, "students"))),
        ("Mean last score", Mean((*of, "mean_last"), (*of, "students"))),
        (effect_size_label(code), Mean((*of, "effect_size"), (*of, "students"), 2)),
        *_outcomes(of),
    ]


def _asked_of(code: str) -> str:
    return (
        f"Over the episodes ended in services that ask for the {code} at every session, and "
        f"any other episode ended with a score on it."
    )


def _waits(name: str, clock: str) -> Rows:
    return [
        (f"{name}: referrals", People(("waiting", clock, "count"))),
        *[
            (f"{name}: {'median' if p == 50 else f'{p}th percentile'} (days)",
             Mean(("waiting", clock, "percentiles", p), ("waiting", clock, "students"), 0))
            for p in metrics.PERCENTILES
        ],
    ]  # fmt: skip


def _of_referrals(outcome: str) -> Share:
    return Share(("activity", "by_outcome", outcome), ("activity", "referrals"))


def _of_endings(kind: str) -> Share:
    return Share(("endings", kind), ("endings", "ended"))


TT = "talking_therapies"
# The tables whose rows never vary, as data: key, section, title and rows.
APPOINTMENTS = ("appointments", "Appointments", "Missed appointments", [
    ("Appointments attended", People(("appointments", "attended"))),
    ("Appointments missed", People(("appointments", "missed"))),
    ("Missed appointment rate", MissedRate()),
])  # fmt: skip
ENDINGS = ("endings", "Endings", "Endings", [
    ("Episodes ended", People(("endings", "ended"))),
    ("Planned endings", _of_endings("planned")),
    ("Unplanned endings", _of_endings("unplanned")),
    ("Transferred to another service (planned)", _of_endings("transferred")),
    ("The student disengaged (unplanned)", _of_endings("disengaged")),
])  # fmt: skip
TALKING_THERAPIES = ("talking-therapies", "Outcomes",
                     "NHS Talking Therapies outcomes (PHQ-9 and GAD-7)", [
    ("Episodes ended", People((TT, "ended"))),
    ("Finished a course of treatment (two or more treatment appointments)",
     People((TT, "finished"))),
    ("Outcomes not available (not finished, or no paired scores)", People((TT, "not_available"))),
    ("Reliable improvement", Share((TT, "reliable_improvement"), (TT, "eligible"))),
    ("Reliable deterioration", Share((TT, "reliable_deterioration"), (TT, "eligible"))),
    ("Recovery (of those at caseness at the start)",
     Share((TT, "recovery"), (TT, "case_at_start"))),
    ("Reliable recovery (of those at caseness at the start)",
     Share((TT, "reliable_recovery"), (TT, "case_at_start"))),
])  # fmt: skip


def tables_of(
    per_group: dict[str, Figures],
    services: dict[int, Service],
    names: dict[int, str],
    codes: Sequence[str],
    calibrations: Mapping = NO_CALIBRATIONS,
) -> list[dict]:
    """Every figure as tables of rows × groups, each value disclosed: the fixed tables
    above, and those whose rows depend on what the period holds (sources, decline reasons,
    onward flows, waiting standards, services and measures)."""
    groups = list(per_group.values())

    def table(key: str, section: str, title: str, rows: Rows, note: str = "") -> dict:
        return {
            "key": key,
            "section": section,
            "title": title,
            "note": note,
            "rows": [
                {"label": label, "values": [figure.shown(f) for f in groups]}
                for label, figure in rows
            ],
        }

    def by_name(keys):
        return sorted(keys, key=lambda k: names.get(k, "") if isinstance(k, int) else
                      (names.get(k[0], ""), names.get(k[1], "")))  # fmt: skip

    from_services = by_name({s for f in groups for s in f.activity.from_services})
    reasons = sorted({r for f in groups for r in f.activity.declined_by_reason})
    flows = by_name({pair for f in groups for pair in f.flows})
    standards = sorted(
        {s.waiting_standard_days for s in services.values() if s.waiting_standard_days is not None}
    )
    talking_therapies = any(s.kind == "talking_therapies" for s in services.values())
    return [
        table("activity", "Activity", "Referrals received", [
            ("Referrals", People(("activity", "referrals"))),
            ("Students referred", People(("activity", "students"))),
        ]),
        table("sources", "Activity", "Referrals by source", [
            *[(str(label), People(("activity", "by_source", value)))
              for value, label in SOURCE_LABELS.items()],
            *[(f"From {names.get(pk, 'another service')}",
               People(("activity", "from_services", pk))) for pk in from_services],
        ]),
        table("outcomes", "Activity", "Referrals by outcome", [
            ("Accepted", _of_referrals("accepted")),
            ("Declined", _of_referrals("declined")),
            *[(f"Declined: {str(DECLINE_LABELS.get(r, r)).lower()}",
               People(("activity", "declined_by_reason", r))) for r in reasons],
            ("Withdrawn", _of_referrals("withdrawn")),
            ("Still open (not yet decided)", _of_referrals("open")),
        ]),
        table("flows", "Activity", "Onward referrals between services (students)", [
            (f"{names.get(a, '?')} → {names.get(b, '?')}", People(("flows", (a, b))))
            for a, b in flows
        ]),
        table("waiting", "Waiting times", "Waiting times", [
            *_waits("To first contact", "to_first_contact"),
            *([("First contact within the service's standard "
                f"({', '.join(str(d) for d in standards)} days)",
                Share(("waiting", "within_standard"), ("waiting", "with_standard")))]
              if standards else []),
            *_waits("To treatment start", "to_treatment"),
            *[(f"NHS Talking Therapies: treatment within {days // 7} weeks",
               Share(("waiting", "talking_therapies_within", i),
                     ("waiting", "talking_therapies_started")))
              for i, days in enumerate(metrics.TALKING_THERAPIES_STANDARDS_DAYS)
              if talking_therapies],
            *_waits("Still waiting", "still_waiting"),
        ]),
        table("wait-bands", "Waiting times", "Waits to first contact, by length", [
            (band, People(("waiting", "to_first_contact", "bands", i)))
            for i, band in enumerate(WAIT_BAND_LABELS)
        ]),
        table(*APPOINTMENTS),
        table(*ENDINGS),
        table("coverage", "Outcomes",
              "Outcomes for all: endings with first and last scores on at least one measure", [
            ("All endings", Share(("coverage", "paired"), ("coverage", "ended"))),
            *[(label, Pair(("coverage", "by_ending", ending)))
              for ending, label in ENDING_LABELS.items()],
            *[(f"At {names.get(pk, '')}", Pair(("coverage", "by_service", pk)))
              for pk in by_name(services) if len(services) > 1],
        ]),
        *[table(f"measure-{code}", "Outcomes", f"Outcomes on the {code}", _measure(code),
                " ".join(filter(None, [_asked_of(code), rci_note(code, services, calibrations)])))
          for code in codes],
        *([table(*TALKING_THERAPIES)] if talking_therapies else []),
    ]  # fmt: skip


def missed_rate(appointments: metrics.Appointments) -> str:
    """Missed ÷ offered, per appointment; hidden when it comes from 1 to 7 students."""
    if appointments.students and not passes_students(appointments.students):
        return disclose(Statistic(0.0, appointments.students))
    return disclose(Percentage(appointments.missed, appointments.offered))


def passes_students(n: int) -> bool:
    return disclose(Count(n)) != "*"
