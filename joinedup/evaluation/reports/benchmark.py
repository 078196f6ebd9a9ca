"""Benchmarking: the headline figures of every service and institution side by side, and
funnel plots of their rates."""

from datetime import date

from django.utils import timezone

from joinedup.evaluation import metrics
from joinedup.evaluation.funnel import curve_sizes, limits_at
from joinedup.evaluation.reports.fetching import Rows, fetch_rows, without_cycle_collection
from joinedup.evaluation.reports.figures import compute, load_services
from joinedup.evaluation.reports.tables import chart_number, missed_rate, statistic
from joinedup.evaluation.rules import (
    Count,
    Percentage,
    disclose,
)
from joinedup.people.models import Service

HEADLINES = (
    ("Referrals", lambda f: disclose(Count(f.activity.referrals))),
    (
        "Median days to first contact",
        lambda f: statistic(
            f.waiting.to_first_contact.percentiles[50], f.waiting.to_first_contact.students, 0
        ),
    ),
    (
        "First contact within standard",
        lambda f: disclose(Percentage(f.waiting.within_standard, f.waiting.with_standard)),
    ),
    ("Missed appointments", lambda f: missed_rate(f.appointments)),
    ("Planned endings", lambda f: disclose(Percentage(f.endings.planned, f.endings.ended))),
    (
        "Reliable improvement",
        lambda f: disclose(
            Percentage(f.talking_therapies.reliable_improvement, f.talking_therapies.eligible)
        ),
    ),
    (
        "Recovery",
        lambda f: disclose(
            Percentage(f.talking_therapies.recovery, f.talking_therapies.case_at_start)
        ),
    ),
)


@without_cycle_collection
def build_benchmark(
    start: date, end: date, *, using: str = "reports", today: date | None = None
) -> dict:
    """The headline figures side by side for every service and every institution of the hub,
    and funnel plots for NHS Talking Therapies recovery and reliable improvement."""
    today = today or timezone.localdate()
    services = load_services(list(Service.objects.using(using).values_list("pk", flat=True)), using)
    if not services:
        return {"units": [], "headlines": [h for h, _ in HEADLINES], "funnels": {}}
    rows = fetch_rows(start, end, list(services), using=using)
    day = metrics.day_number(today)
    units: list[tuple[str, str, dict[int, Service]]] = [
        ("service", s.name, {pk: s}) for pk, s in services.items()
    ]
    organisations: dict[str, dict[int, Service]] = {}
    for pk, s in services.items():
        organisations.setdefault(s.organisation.name, {})[pk] = s
    units += [("institution", name, members) for name, members in organisations.items()]
    computed = []
    for kind, name, members in units:
        unit_rows = Rows(
            [r for r in rows.referrals if r.to_service in members],
            [r for r in rows.episodes if r.service in members],
            [r for r in rows.appointments if r.service in members],
        )
        computed.append((kind, name, compute(unit_rows, members, [], day)))
    funnels = {}
    for key, title, numerator, denominator in (
        ("recovery", "Recovery", "recovery", "case_at_start"),
        ("reliable_improvement", "Reliable improvement", "reliable_improvement", "eligible"),
    ):
        for kind in ("service", "institution"):
            funnels[f"{key}-{kind}"] = funnel_plot(
                title,
                kind,
                [
                    (
                        name,
                        getattr(f.talking_therapies, numerator),
                        getattr(f.talking_therapies, denominator),
                    )
                    for k, name, f in computed
                    if k == kind
                ],
            )
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "headlines": [h for h, _ in HEADLINES],
        "units": [
            {
                "kind": kind,
                "name": name,
                "standard": standards_of(members),
                "values": [shown(f) for _, shown in HEADLINES],
            }
            for (kind, name, f), (_, _, members) in zip(computed, units, strict=True)
        ],
        "funnels": funnels,
    }


def standards_of(services: dict[int, Service]) -> str:
    """The waiting standards (days to first contact) a unit's share within standard is of:
    services set their own, so the shares are not like for like."""
    days = [str(d) for d in sorted({s.waiting_standard_days for s in services.values()} - {None})]
    if len(days) > 1:
        return f"{', '.join(days[:-1])} and {days[-1]}"
    return days[0] if days else "—"


def shown_percent(numerator: int, denominator: int) -> int | None:
    """A rate as the whole percentage disclosure control shows, or None where it hides it."""
    shown = disclose(Percentage(numerator, denominator))
    return None if shown in ("*", "—") else int(shown.split("%", 1)[0])


def funnel_plot(title: str, kind: str, units: list[tuple[str, int, int]]) -> dict:
    """A funnel plot's data, disclosed. A unit whose rate disclosure control hides is left
    out of the plot altogether (its row shows *): otherwise the hub rate, and the limits
    drawn around it, would let its counts be worked out from the others'. The rest are drawn
    at their rounded size and shown percentage, around the shown hub rate of those units.

    Whether a unit lies outside the limits is judged on those same published figures, against
    the limits at its drawn size, and the drawn limit lines pass through exactly those values
    (each drawn size is a point of the curve, sent unrounded). So the plot, the table beside
    it and anyone checking them from the published figures all agree: a unit marked outside
    is drawn outside, at the figures shown."""
    drawn = {}
    for label, numerator, denominator in units:
        y = shown_percent(numerator, denominator) if denominator else None
        if y is not None:
            drawn[label] = (chart_number(disclose(Count(denominator))), y)
    shown_units = [u for u in units if u[0] in drawn]
    pooled = shown_percent(sum(u[1] for u in shown_units), sum(u[2] for u in shown_units))
    largest = max((int(x) for x, _ in drawn.values()), default=0)
    sizes = sorted(set(curve_sizes(largest)) | {int(x) for x, _ in drawn.values()})
    curve = [
        {
            "n": n,
            **{
                name: [100 * low, 100 * high]
                for name, (low, high) in limits_at(n, pooled / 100).items()
            },
        }
        for n in (sizes if pooled is not None and largest else [])
    ]
    at = {c["n"]: c for c in curve}
    points = []
    for label, numerator, denominator in units:
        if not denominator:
            continue  # no eligible episodes: not a unit of this plot
        x, y = drawn.get(label, (None, None))
        limits = at[int(x)] if x is not None else None
        points.append(
            {
                "label": label,
                "shown": disclose(Percentage(numerator, denominator)),
                "x": x,
                "y": y,
                "flagged": bool(limits) and not limits["99.8"][0] <= y <= limits["99.8"][1],
                "outside_95": bool(limits) and not limits["95"][0] <= y <= limits["95"][1],
            }
        )
    return {
        "title": title,
        "kind": kind,
        "pooled": pooled,
        # Units with eligible episodes whose rate disclosure control hides: named as hidden,
        # so an empty plot never reads as "no episodes".
        "hidden": sum(1 for point in points if point["x"] is None),
        # Units with no eligible episodes at all: named, so that a short plot never reads
        # as a hub of three services.
        "without": [label for label, _, denominator in units if not denominator],
        "points": points,
        "curve": curve,
    }
