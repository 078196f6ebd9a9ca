"""The service report: its builder and its CSV."""

import re
from datetime import date

from django.db import connections
from django.utils import timezone

from joinedup.evaluation import metrics
from joinedup.evaluation.reports.charts import charts_of
from joinedup.evaluation.reports.fetching import fetch_rows, without_cycle_collection
from joinedup.evaluation.reports.figures import (
    calibrations_of,
    compute,
    compute_in_database,
    load_services,
    routine_of,
    split_rows,
)
from joinedup.evaluation.reports.parameters import (
    ALL_STUDENTS,
    BREAKDOWNS,
    PRACTITIONER_CAVEAT,
    ReportParameters,
    group_order,
)
from joinedup.evaluation.reports.tables import tables_of
from joinedup.evaluation.rules import (
    SMALLEST_SHOWN,
    SUPPRESSED,
)
from joinedup.people.models import Service


@without_cycle_collection
def build_report(
    parameters: ReportParameters, *, using: str = "reports", today: date | None = None
) -> dict:
    """The service report for `parameters`: tables of disclosed figures (one column per
    student group, "All students" first), the charts' data, and what produced it.
    `today` (default: today) dates the still-waiting referrals' current wait."""
    today = today or timezone.localdate()
    services = load_services(parameters.service_ids, using)
    if set(services) != set(parameters.service_ids):
        raise ValueError("Some of the chosen services do not exist.")
    names = dict(Service.objects.using(using).values_list("pk", "name"))
    day = metrics.day_number(today)
    calibrations = calibrations_of(list(services), using)
    routine = routine_of(list(services), using)
    if not parameters.breakdown and connections[using].vendor == "postgresql":
        # All students only, on PostgreSQL: the database counts the rows rather than sending
        # them (measured at hub scale: twice as fast; SQLite counts slower than Python).
        everyone = compute_in_database(
            parameters.start, parameters.end, services, day, calibrations, routine, using=using
        )
        per_group = {ALL_STUDENTS: everyone}
    else:
        rows = fetch_rows(
            parameters.start, parameters.end, list(services), parameters.breakdown, using=using
        )
        per_group = {ALL_STUDENTS: compute(rows, services, None, day, calibrations, routine)}
    codes = list(per_group[ALL_STUDENTS].measures)
    if parameters.breakdown:
        order = group_order(parameters.breakdown, rows)
        for group, group_rows in split_rows(rows, order).items():
            per_group[group] = compute(group_rows, services, codes, day, calibrations, routine)
    return {
        "parameters": {
            "start": parameters.start.isoformat(),
            "end": parameters.end.isoformat(),
            "service_ids": list(parameters.service_ids),
            "breakdown": parameters.breakdown,
        },
        "services": [
            {
                "id": pk,
                "name": s.name,
                "organisation": s.organisation.name,
                "waiting_standard_days": s.waiting_standard_days,
            }
            for pk, s in services.items()
        ],
        "breakdown_label": BREAKDOWNS.get(parameters.breakdown, ""),
        "caveat": PRACTITIONER_CAVEAT if parameters.breakdown == "practitioner" else "",
        "groups": list(per_group),
        "tables": tables_of(per_group, services, names, codes, calibrations),
        "charts": charts_of(per_group, names, codes, services, calibrations),
    }


CSV_COLUMNS = ["section", "table", "figure", "group", "shown", "number", "of"]
_RATE = re.compile(r"^(\d+)% of (\d+)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def csv_rows(report: dict) -> list[list[str]]:
    """The report as a CSV file: a block saying what it covers and how figures are hidden,
    then one row per figure and student group. `shown` is the figure as the page shows it;
    `number` is it as a number a spreadsheet can sum or chart (a rate's percentage), blank
    where it is hidden or not defined; `of` is the number of people a rate is of."""
    period = report["parameters"]
    services = "; ".join(f"{s['name']} ({s['organisation']})" for s in report["services"])
    rows = [
        ["JoinedUp service report"],
        ["Period", f"{period['start']} up to (not including) {period['end']}"],
        ["Services", services],
        ["Broken down by", report.get("breakdown_label") or "Not broken down"],
        *([["Read with care", report["caveat"]]] if report.get("caveat") else []),
        ["Disclosure control", "Counts of people are rounded to the nearest 5; a count, rate or "
         f"statistic from 1 to {SMALLEST_SHOWN - 1} people is shown as {SUPPRESSED} and has no "
         "number; — is not defined."],
        *[[f"Note: {table['title']}", table["note"]] for table in report["tables"]
          if table.get("note")],
        [],
        CSV_COLUMNS,
    ]  # fmt: skip

    def figure(section: str, title: str, label: str, group: str, shown: str) -> list[str]:
        rate = _RATE.match(shown)
        number, of = (
            (rate[1], rate[2]) if rate else (shown, "") if _NUMBER.match(shown) else ("", "")
        )
        return [section, title, label, group, shown, number, of]

    for table in report["tables"]:
        for row in table["rows"]:
            for group, shown in zip(report["groups"], row["values"], strict=True):
                rows.append(figure(table["section"], table["title"], row["label"], group, shown))
    # The pre/post charts' cells, as the page's table beside each chart shows them.
    for chart in report["charts"].get("prepost", []):
        title = f"{chart['code']}: episodes by first and last score, all students"
        for cell in chart["cells"]:
            where = f"First {cell['first']}, last {cell['last']}"
            for label, shown in (
                ("episodes", cell["n"]),
                ("mean first score", cell["mean_first"]),
                ("mean last score", cell["mean_last"]),
            ):
                shown = SUPPRESSED if shown is None else str(shown)
                rows.append(figure("Outcomes", title, f"{where}: {label}", ALL_STUDENTS, shown))
        rows.append(figure("Outcomes", title, "In cells of fewer than 8 episodes, not drawn",
                           ALL_STUDENTS, str(chart["hidden"])))  # fmt: skip
    return rows
