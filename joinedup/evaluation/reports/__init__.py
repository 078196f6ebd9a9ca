"""The service report and the benchmark between services: every figure, disclosed.

`build_report(ReportParameters(...))` returns a JSON-serialisable dict for one period and
one or more services, optionally broken down by one student attribute (equity). Every value
in it has been through `joinedup.evaluation.rules.disclose`, including the numbers the charts
draw. Saved report snapshots, exports and pages all use this one builder.

The rows come from three queries on the `reports` database alias (which can point at a read
replica): referrals sent in the period; each episode ended in the period's first and last
valid score per measure (which the database keeps, `measures.EpisodeScores`); and
one pass over the chosen services' episodes with their appointments counted (which the
database also keeps, `referrals.EpisodeAppointments`), giving each ended episode its
attended treatment appointments and each episode its attended and missed
appointments in the period. The rules themselves are pure functions in
`joinedup.evaluation.metrics`. On PostgreSQL a report of all students (no breakdown) has the
database count the same rows instead (`counting`), and reads the counts.

Periods: start inclusive, end exclusive, as UK calendar days. Waits are whole days between
UTC dates, as the referral clocks count them.

One module per concept: `parameters` (what a report covers, its groups and labels),
`fetching` (the rows), `counting` (the rows counted by the database), `figures` (the
metrics of a group of rows), `tables` (the figures as tables, described as data), `charts`,
`service_report` (the builder and its CSV), `benchmark` (services side by side, funnel
plots) and `access` (who may run reports, and their audit).
"""

from joinedup.evaluation.reports.access import (
    EVALUATION_ROLES,
    can_run_reports,
    evaluation_entry,
    managed_services_for,
    manages_a_service,
    may_break_down_by_practitioner,
    record_report_run,
    report_services_for,
)
from joinedup.evaluation.reports.benchmark import HEADLINES, build_benchmark, funnel_plot
from joinedup.evaluation.reports.charts import prepost
from joinedup.evaluation.reports.fetching import (
    Rows,
    fetch_rows,
    in_background,
    without_cycle_collection,
)
from joinedup.evaluation.reports.figures import (
    Figures,
    calibrations_of,
    compute,
    compute_in_database,
    rci_note,
)
from joinedup.evaluation.reports.parameters import (
    ALL_STUDENTS,
    BREAKDOWNS,
    NOT_ALLOCATED,
    NOT_DEFINED,
    NOT_RECORDED,
    PRACTITIONER_CAVEAT,
    UNCALIBRATED,
    ReportParameters,
    describe,
    group_order,
)
from joinedup.evaluation.reports.service_report import CSV_COLUMNS, build_report, csv_rows
from joinedup.evaluation.reports.tables import effect_size_label, passes_students

__all__ = [
    "ALL_STUDENTS",
    "BREAKDOWNS",
    "CSV_COLUMNS",
    "EVALUATION_ROLES",
    "HEADLINES",
    "NOT_ALLOCATED",
    "NOT_DEFINED",
    "NOT_RECORDED",
    "PRACTITIONER_CAVEAT",
    "UNCALIBRATED",
    "Figures",
    "ReportParameters",
    "Rows",
    "build_benchmark",
    "build_report",
    "calibrations_of",
    "can_run_reports",
    "compute",
    "compute_in_database",
    "csv_rows",
    "describe",
    "effect_size_label",
    "evaluation_entry",
    "fetch_rows",
    "funnel_plot",
    "group_order",
    "in_background",
    "managed_services_for",
    "manages_a_service",
    "may_break_down_by_practitioner",
    "passes_students",
    "prepost",
    "rci_note",
    "record_report_run",
    "report_services_for",
    "without_cycle_collection",
]
