"""Every metric of a group of rows, before disclosure, the measures the services ask for
at every session, and their calibrations of the measures with no published reliable change
index."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import EpisodeRow
from joinedup.evaluation.reports import counting
from joinedup.evaluation.reports.fetching import Rows
from joinedup.evaluation.reports.parameters import NO_CALIBRATIONS, UNCALIBRATED
from joinedup.measures.instruments import CODES
from joinedup.measures.models import Calibration, RoutineMeasure
from joinedup.people.models import Service


@dataclass(frozen=True)
class Figures:
    """Every metric of one group of students (or one service), before disclosure."""

    activity: metrics.Activity
    waiting: metrics.Waiting
    appointments: metrics.Appointments
    endings: metrics.Endings
    coverage: metrics.Coverage
    measures: dict[str, metrics.MeasureOutcome]
    talking_therapies: metrics.TalkingTherapiesOutcome
    flows: dict[tuple[int, int], int]  # (from service, to service) -> students


def compute(
    rows: Rows,
    services: dict[int, Service],
    codes: Sequence[str] | None,
    today: int,
    calibrations: Mapping[str, Mapping[int, Calibration]] = NO_CALIBRATIONS,
    routine: Mapping[str, frozenset[int]] = NO_CALIBRATIONS,
) -> Figures:
    """All the metrics of the rows, for the chosen `services`; outcomes on the measures
    `codes` (None: every measure the episodes have scores on or a service asks for at every
    session, by `routine`), each over the endings of episodes it was asked of, a measure
    with no published reliable change index by the services' `calibrations` of it. The
    referral figures come first, while the episodes may still be arriving."""
    chosen = frozenset(services)
    received = [r for r in rows.referrals if r.to_service in chosen]
    activity = metrics.activity(received, chosen)
    waiting = metrics.waiting(received, *_standards(services), today)
    flows = {pair: len(who) for pair, who in metrics.flows(rows.referrals, chosen).items()}
    if codes is None:
        codes = codes_in(rows.episodes, routine)
    return Figures(
        activity=activity,
        waiting=waiting,
        appointments=metrics.appointments(rows.appointments),
        endings=metrics.endings(rows.episodes),
        coverage=metrics.coverage(rows.episodes),
        measures={
            code: metrics.measure_outcome(
                rows.episodes, code, _rci_of(code, calibrations), routine.get(code, frozenset())
            )
            for code in codes
        },
        talking_therapies=metrics.talking_therapies(rows.episodes),
        flows=flows,
    )


def compute_in_database(
    start: date,
    end: date,
    services: dict[int, Service],
    today: int,
    calibrations: Mapping[str, Mapping[int, Calibration]] = NO_CALIBRATIONS,
    routine: Mapping[str, frozenset[int]] = NO_CALIBRATIONS,
    *,
    using: str = "reports",
) -> Figures:
    """`compute` of every row `fetch_rows` would read for all students, every measure
    included, from the counts the database makes of them (`counting`)."""
    counts = counting.count(start, end, list(services), today, using=using)
    ended_in: Counter[int] = Counter()
    by_ending: Counter[str] = Counter()
    for (ending, service, _), n in counts.endings.items():
        ended_in[service] += n
        by_ending[ending] += n
    codes = [code for code in CODES if code in {c for c, _ in counts.scored} | set(routine)]
    measures = {}
    for code in codes:
        asked_by = routine.get(code, frozenset())
        scored = {service: n for (c, service), n in counts.scored.items() if c == code}
        rci_of = _rci_of(code, calibrations)
        pairs: Counter[tuple[float, float, float | None]] = Counter()
        for (c, service, first, last), n in counts.pairs.items():
            if c == code:
                pairs[first, last, rci_of.get(service)] += n
        measures[code] = metrics.measure_outcome_of(
            code,
            sum(scored.values())
            + sum(ended_in[s] - scored.get(s, 0) for s in asked_by if s in services),
            pairs,
            counts.paired_students.get(code, 0),
        )
    return Figures(
        activity=metrics.activity_of(counts.received, counts.received_students),
        waiting=metrics.waiting_of(counts.waits, *_standards(services)),
        appointments=counts.appointments,
        endings=metrics.endings_of(by_ending, counts.ended_students),
        coverage=metrics.coverage_of(counts.endings),
        measures=measures,
        talking_therapies=metrics.talking_therapies_of(
            by_ending.total(),
            counts.finished,
            counts.talking_therapies,
            counts.talking_therapies_students,
        ),
        flows=counts.flows,
    )


def _standards(services: Mapping[int, Service]) -> tuple[dict[int, int], frozenset[int]]:
    """The services' own waiting standards, in days, and which are NHS Talking Therapies."""
    return (
        {
            pk: s.waiting_standard_days
            for pk, s in services.items()
            if s.waiting_standard_days is not None
        },
        frozenset(pk for pk, s in services.items() if s.kind == "talking_therapies"),
    )


def _rci_of(code: str, calibrations: Mapping[str, Mapping[int, Calibration]]) -> dict:
    """Each service's own reliable change index of the measure, where it has set one."""
    return {pk: c.reliable_change_index for pk, c in calibrations.get(code, {}).items()}


def calibrations_of(service_ids: Sequence[int], using: str) -> dict[str, dict[int, Calibration]]:
    """The services' calibrations of the measures with no published reliable change index,
    by measure and service."""
    found: dict[str, dict[int, Calibration]] = {}
    for calibration in Calibration.objects.using(using).filter(
        service_id__in=service_ids, code__in=UNCALIBRATED
    ):
        found.setdefault(calibration.code, {})[calibration.service_id] = calibration
    return found


def rci_note(code: str, services: Mapping[int, Service], calibrations: Mapping) -> str:
    """For a measure with no published reliable change index: each service's, with the
    values it is worked out from, and which services have not set them."""
    if code not in UNCALIBRATED:
        return ""
    set_for = calibrations.get(code, {})
    words = [
        f"The {code} has no published reliable change index: each service's is worked out as "
        "1.96 × SD × √(2 × (1 - reliability)) from the standard deviation of first scores and "
        "the reliability its manager set."
    ]
    words += [
        f"{services[pk].name}: {c.reliable_change_index:.1f} points (SD {c.first_score_sd:g}, "
        f"reliability {c.reliability:g})."
        for pk, c in set_for.items()
        if pk in services
    ]
    if missing := [s.name for pk, s in services.items() if pk not in set_for]:
        words.append(
            f"Not set for {', '.join(missing)}: until it is, reliable and clinically "
            "significant change are left blank in any report with paired scores from there."
        )
    return " ".join(words)


def routine_of(service_ids: Sequence[int], using: str) -> dict[str, frozenset[int]]:
    """The services that ask for each measure at every session."""
    asking: dict[str, set[int]] = {}
    for service, code in (
        RoutineMeasure.objects.using(using)
        .filter(service_id__in=service_ids)
        .values_list("service_id", "code")
    ):
        asking.setdefault(code, set()).add(service)
    return {code: frozenset(services) for code, services in asking.items()}


def codes_in(episodes: Sequence[EpisodeRow], routine: Mapping[str, frozenset[int]]) -> list[str]:
    seen = {code for row in episodes for code in row.scores} | set(routine)
    return [code for code in CODES if code in seen]


def split_rows(rows: Rows, groups: Sequence[str]) -> dict[str, Rows]:
    split = {group: Rows([], [], []) for group in groups}
    for name in ("referrals", "episodes", "appointments"):
        for row in getattr(rows, name):
            if row.group in split:
                getattr(split[row.group], name).append(row)
    return split


def load_services(service_ids: Sequence[int], using: str) -> dict[int, Service]:
    return {
        s.pk: s
        for s in Service.objects.using(using)
        .select_related("organisation")
        .filter(pk__in=service_ids)
        .order_by("organisation__name", "name")
    }
