"""A report's figures as tables of rows by student group, every value disclosed."""

from collections.abc import Mapping, Sequence

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


def tables_of(
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
                    lambda f, p=p: statistic(
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
            ("Missed appointment rate", lambda f: missed_rate(f.appointments)),
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
                    lambda f, c=code: statistic(f.measures[c].mean_first, f.measures[c].students),
                ),
                (
                    "Mean last score",
                    lambda f, c=code: statistic(f.measures[c].mean_last, f.measures[c].students),
                ),
                (
                    effect_size_label(code),
                    lambda f, c=code: statistic(
                        f.measures[c].effect_size, f.measures[c].students, 2
                    ),
                ),
                *[
                    (
                        label,
                        lambda f, c=code, a=attribute, d=denominator: percentage_or_undefined(
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


def missed_rate(appointments: metrics.Appointments) -> str:
    """Missed ÷ offered, per appointment; hidden when it comes from 1 to 7 students."""
    if appointments.students and not passes_students(appointments.students):
        return disclose(Statistic(0.0, appointments.students))
    return disclose(Percentage(appointments.missed, appointments.offered))


def passes_students(n: int) -> bool:
    return disclose(Count(n)) != "*"
