"""What a report's charts draw: only disclosed figures, parsed back to numbers."""

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from joinedup.evaluation import metrics
from joinedup.evaluation.reports.figures import Figures
from joinedup.evaluation.reports.parameters import NO_CALIBRATIONS, WAIT_BAND_LABELS
from joinedup.evaluation.reports.tables import chart_number, passes_students, statistic
from joinedup.evaluation.rules import (
    SUPPRESSED,
    Count,
    disclose,
)
from joinedup.measures import instruments
from joinedup.people.models import Service

CELLS = 5  # a side of the pre/post chart: few enough that most cells hold 8 episodes or more


def prepost(code: str, outcome: metrics.MeasureOutcome, rci: float | None) -> dict:
    """A CORE Net-style pre/post chart of one measure, through disclosure control: the paired
    episodes counted in square cells of first and last score (five a side), each cell of 8
    or more episodes drawn as a bubble of its rounded count at its episodes' mean first and
    mean last score; how many sit in smaller cells, not drawn; and the lines it is read by:
    no change, reliable change either side (`rci`, None when not one for all), and the
    clinical cut-off."""
    instrument = instruments.get(code)
    low, high = instrument.score_min, instrument.score_max
    width = math.ceil((high - low) / CELLS)
    top = math.ceil((high - low) / width) - 1  # the last cell holds the highest score too

    def cell(score: float) -> int:
        return min(int((score - low) // width), top)

    def words(i: int) -> str:
        start = low + i * width
        return f"{start:g} to {high:g}" if i == top else f"{start:g} to under {start + width:g}"

    cells: dict[tuple[int, int], list[float]] = {}
    for (first, last), k in outcome.pairs.items():
        sums = cells.setdefault((cell(first), cell(last)), [0, 0.0, 0.0])
        sums[0] += k
        sums[1] += k * first
        sums[2] += k * last
    drawn = []
    for (i, j), (n, firsts, lasts) in sorted(cells.items()):
        if passes_students(int(n)):
            mean_first, mean_last = statistic(firsts / n, int(n)), statistic(lasts / n, int(n))
            count = chart_number(disclose(Count(int(n))))
            drawn.append({"x": chart_number(mean_first), "y": chart_number(mean_last),
                          "first": words(i), "last": words(j), "mean_first": mean_first,
                          "mean_last": mean_last,
                          "n": None if count is None else int(count)})  # fmt: skip
    hidden = sum(int(n) for n, _, _ in cells.values() if not passes_students(int(n)))
    return {
        "code": code,
        "min": low,
        "max": high,
        "cutoff": instrument.caseness_cutoff,
        "rci": rci,
        "improvement": instrument.improvement,
        "cells": drawn,
        "hidden": disclose(Count(hidden)),
    }


def one_index(code: str, services, calibrations: Mapping) -> float | None:
    """The reliable change index every chosen service uses for `code`, if it is one."""
    published = instruments.get(code).reliable_change
    if published is not None:
        return published
    indexes = {
        c.reliable_change_index for pk, c in calibrations.get(code, {}).items() if pk in services
    }
    everyone = set(calibrations.get(code, {})) >= set(services)
    return indexes.pop() if everyone and len(indexes) == 1 else None


def charts_of(
    per_group: dict[str, Figures],
    names: dict[int, str],
    codes: Sequence[str],
    services: Mapping[int, Service] = MappingProxyType({}),
    calibrations: Mapping = NO_CALIBRATIONS,
) -> dict:
    """What the charts draw: only disclosed figures, parsed back to numbers."""
    overall = next(iter(per_group.values()))
    bands = {
        group: [disclose(Count(n)) for n in f.waiting.to_first_contact.bands]
        for group, f in per_group.items()
    }
    first = [statistic(overall.measures[c].mean_first, overall.measures[c].students) for c in codes]
    last = [statistic(overall.measures[c].mean_last, overall.measures[c].students) for c in codes]
    return {
        "waiting": {
            "labels": list(WAIT_BAND_LABELS),
            "datasets": [
                {
                    "label": group,
                    "data": [chart_number(shown) for shown in bands[group]],
                    "suppressed": [shown == SUPPRESSED for shown in bands[group]],
                }
                for group in per_group
            ],
        },
        "scores": {
            "labels": list(codes),
            "first": [chart_number(shown) for shown in first],
            "last": [chart_number(shown) for shown in last],
            "first_suppressed": [shown == SUPPRESSED for shown in first],
            "last_suppressed": [shown == SUPPRESSED for shown in last],
        },
        "prepost": [
            prepost(c, overall.measures[c], one_index(c, services, calibrations))
            for c in codes
            if overall.measures[c].paired
        ],
        "flows": [
            {"from": names.get(a, "?"), "to": names.get(b, "?"), "flow": width}
            for (a, b), students in sorted(overall.flows.items())
            if (width := chart_number(disclose(Count(students))))
        ],
        # Flows of 1 to 7 students are not drawn: the page says how many, as the table's *.
        "flows_hidden": sum(
            disclose(Count(students)) == SUPPRESSED for students in overall.flows.values()
        ),
    }
