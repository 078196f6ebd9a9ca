"""Every metric of a group of rows, before disclosure, the measures the services ask for
at every session, and their calibrations of the measures with no published reliable change
index."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import EpisodeRow
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
    flows: dict[tuple[int, int], set]


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
    waiting = metrics.waiting(
        received,
        {
            pk: s.waiting_standard_days
            for pk, s in services.items()
            if s.waiting_standard_days is not None
        },
        frozenset(pk for pk, s in services.items() if s.kind == "talking_therapies"),
        today,
    )
    flows = metrics.flows(rows.referrals, chosen)
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
                rows.episodes,
                code,
                {pk: c.reliable_change_index for pk, c in calibrations.get(code, {}).items()},
                routine.get(code, frozenset()),
            )
            for code in codes
        },
        talking_therapies=metrics.talking_therapies(rows.episodes),
        flows=flows,
    )


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
