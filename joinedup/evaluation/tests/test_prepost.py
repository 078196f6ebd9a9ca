"""The pre/post chart counts paired episodes in cells of first and last score, draws only
cells of 8 or more (rounded), says how many it leaves out, and carries the lines it is read
by."""

from collections import Counter

from joinedup.evaluation import metrics
from joinedup.evaluation.reports import prepost

NOTHING = dict.fromkeys(
    ("students", "mean_first", "mean_last", "effect_size", "reliable_improvement",
     "no_reliable_change", "reliable_deterioration", "case_at_start", "recovery",
     "reliable_recovery", "clinically_significant"),
)  # fmt: skip


def outcome(pairs: dict) -> metrics.MeasureOutcome:
    n = sum(pairs.values())
    return metrics.MeasureOutcome(code="PHQ-9", ended=n, paired=n, pairs=Counter(pairs), **NOTHING)


def test_cells_of_six_points_drawn_at_their_means_the_highest_score_in_the_last():
    chart = prepost(
        "PHQ-9",
        # 18 and 20 share the cell 18 to under 24; 27 is in the top cell, 24 to 27.
        outcome({(18, 6): 5, (20, 8): 6, (27, 27): 9, (12, 3): 3}),
        6.0,
    )
    assert chart["cells"] == [
        # 11 episodes: mean first (5 × 18 + 6 × 20) / 11 = 19.09, mean last 7.09.
        {"x": 19.1, "y": 7.1, "first": "18 to under 24", "last": "6 to under 12",
         "mean_first": "19.1", "mean_last": "7.1", "n": 10},
        {"x": 27.0, "y": 27.0, "first": "24 to 27", "last": "24 to 27",
         "mean_first": "27.0", "mean_last": "27.0", "n": 10},
    ]  # fmt: skip
    assert chart["hidden"] == "*"  # 3 episodes in a cell of fewer than 8
    assert (chart["min"], chart["max"], chart["cutoff"], chart["rci"]) == (0, 27, 10, 6.0)
    assert chart["improvement"] == "decrease"


def test_no_cell_is_drawn_below_the_threshold():
    chart = prepost("PHQ-9", outcome({(15, 12): 7, (3, 3): 20}), None)
    assert [c["n"] for c in chart["cells"]] == [20]
    assert chart["hidden"] == "*"
    assert chart["rci"] is None
