"""Episodes end planned, unplanned, with the student disengaged, or transferred: the reports
count a transfer as planned and a disengaged student as unplanned (shared/spec/evaluation.md,
"Endings"), and say how many of each."""

import datetime as dt

from joinedup.evaluation import metrics
from joinedup.evaluation.metrics import EpisodeRow
from joinedup.evaluation.tests.test_report import add_episode, figure, run, students


def test_a_transfer_counts_as_planned_and_a_disengaged_student_as_unplanned():
    rows = [
        EpisodeRow(1, 1, "planned", 2),
        EpisodeRow(2, 1, "transferred", 1),
        EpisodeRow(3, 1, "disengaged", 0),
        EpisodeRow(4, 1, "unplanned", 0),
    ]
    assert metrics.endings(rows) == metrics.Endings(
        ended=4, planned=2, unplanned=2, students=4, transferred=1, disengaged=1
    )


def test_an_ending_the_reports_do_not_know_is_never_counted_as_planned():
    assert metrics.endings([EpisodeRow(1, 1, "", 0)]).planned == 0


def test_the_service_report_shows_each_kind_of_ending(hub):
    endings = ["planned"] * 4 + ["transferred"] * 4 + ["disengaged"] * 8 + ["unplanned"] * 4
    for student, ending in zip(students(hub, len(endings)), endings, strict=True):
        add_episode(hub, student, hub.talking, dt.date(2025, 4, 1), dt.date(2025, 6, 1),
                    ending=ending)  # fmt: skip
    report = run(hub)
    assert figure(report, "endings", "Episodes ended") == "20"
    assert figure(report, "endings", "Planned endings") == "40% of 20"
    assert figure(report, "endings", "Unplanned endings") == "60% of 20"
    assert figure(report, "endings", "The student disengaged (unplanned)") == "40% of 20"
    # 4 transfers: a count of 1 to 7 is never shown, so neither is its share.
    assert figure(report, "endings", "Transferred to another service (planned)") == "*"
