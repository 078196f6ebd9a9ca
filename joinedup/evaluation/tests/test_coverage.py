"""Outcomes for all: a report says what share of the episodes that ended had a first and a
last score, by how they ended and by service, so missing outcomes of unplanned endings show."""

import datetime as dt

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import EpisodeRow
from joinedup.evaluation.reports import ReportParameters, build_report
from joinedup.evaluation.tests.test_report import END, START, TODAY, add_episode, students

ENDED = dt.date(2025, 6, 1)


def test_coverage_counts_an_episode_once_whatever_measures_it_has():
    rows = [
        EpisodeRow(1, 10, "planned", 3, {"PHQ-9": (18, 6, 3), "GAD-7": (12, 4, 3)}),
        EpisodeRow(2, 10, "unplanned", 1, {"PHQ-9": (20, 20, 1)}),
        EpisodeRow(3, 11, "unplanned", 2, {"GAD-7": (15, 9, 2)}),
        EpisodeRow(4, 11, "disengaged", 0),
    ]
    found = metrics.coverage(rows)
    assert (found.paired, found.ended) == (2, 4)
    assert found.by_ending == {"planned": (1, 1), "unplanned": (1, 2), "disengaged": (0, 1)}
    assert found.by_service == {10: (1, 2), 11: (1, 2)}


def _shown(report) -> dict:
    table = next(t for t in report["tables"] if t["key"] == "coverage")
    return {row["label"]: row["values"][0] for row in table["rows"]}


def test_a_report_shows_the_share_of_each_kind_of_ending_with_paired_scores(hub, reports_alias):
    start = dt.date(2025, 3, 1)
    for student in students(hub, 10):
        add_episode(hub, student, hub.wellbeing, start, ENDED, scores={"PHQ-9": [18, 8]})
    for student in students(hub, 10, start=100):
        add_episode(hub, student, hub.counselling, start, ENDED, ending="unplanned",
                    scores={"CORE-10": [20]})  # fmt: skip
    for student in students(hub, 8, start=200):
        add_episode(hub, student, hub.counselling, start, ENDED, ending="disengaged")

    report = build_report(
        ReportParameters(START, END, (hub.wellbeing.pk, hub.counselling.pk)),
        using="default",
        today=TODAY,
    )

    assert _shown(report) == {
        "All endings": "36% of 30",  # 10 of 28
        "Planned ending": "100% of 10",
        "Unplanned ending (stopped attending)": "0% of 10",
        "The student disengaged": "0% of 10",  # 0 of 8
        "Transferred to another service": "—",
        "At Counselling": "0% of 20",  # 0 of 18
        "At Wellbeing": "100% of 10",
    }
