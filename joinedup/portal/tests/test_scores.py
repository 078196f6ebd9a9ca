"""The student's own scores page says how things have changed in plain words, and only a
reliable change counts as a change (`measures.md` §7)."""

import re

import pytest
from django.urls import reverse

from joinedup.measures.tests.factories import record, start_episode

BETTER = "Your latest answers suggest things are better than when you started."
HARDER = "Your latest answers suggest things are harder than when you started."
SAME = "Your latest answers are about the same as your first ones."
ASK = "Your practitioner can talk with you about how your answers have changed."


def phq9(total: int) -> list[int]:
    """PHQ-9 answers adding up to `total`, item 9 (the risk item) left at 0."""
    answers = [0] * 9
    for n in range(total):
        answers[n % 8] += 1
    return answers


def summary(client, code: str) -> str:
    html = client.get(reverse("portal:scores")).content.decode()
    match = re.search(rf'data-summary="{code}">(.*?)</p>', html, re.S)
    assert match, f"no summary for {code}"
    return " ".join(match.group(1).split())


@pytest.fixture
def scores_of(hub, client):
    """Record the scores (one per session) and return what the student is told."""

    def scores_of(code, *answer_lists):
        episode = start_episode(hub)
        for session, answers in enumerate(answer_lists, 1):
            record(episode, hub.practitioner, code=code, answers=answers, session=session)
        client.force_login(hub.student_user)
        return summary(client, code)

    return scores_of


@pytest.mark.parametrize(
    ("first", "last", "said"),
    [
        (7, 17, HARDER),  # a rise of 10: at least the PHQ-9's reliable change of 6
        (17, 7, BETTER),
        (10, 12, SAME),  # a rise of 2 is within the measure's own noise
        (12, 7, SAME),  # a fall of 5 too, however welcome
        (15, 9, BETTER),  # a fall of exactly 6 is reliable
    ],
)
def test_phq9_summary_follows_reliable_change(scores_of, first, last, said):
    assert scores_of("PHQ-9", phq9(first), phq9(last)).startswith(said)


def test_a_harder_summary_suggests_talking_to_the_practitioner(scores_of):
    assert "It may help to talk about this with your practitioner." in scores_of(
        "PHQ-9", phq9(7), phq9(17)
    )


@pytest.mark.parametrize(
    ("first", "last", "said"),
    [
        ([3] * 14, [4] * 7 + [3] * 7, BETTER),  # 42 to 49: higher is better on the WEMWBS
        ([4] * 7 + [3] * 7, [3] * 14, HARDER),  # 49 to 42
        ([3] * 14, [4] * 2 + [3] * 12, SAME),  # 42 to 44: less than its 3-point change
    ],
)
def test_wemwbs_summary_follows_its_meaningful_change_where_higher_is_better(
    scores_of, first, last, said
):
    assert scores_of("WEMWBS", first, last).startswith(said)


def test_a_measure_without_a_change_threshold_claims_no_direction(scores_of):
    assert scores_of("SWEMWBS", [2] * 7, [5] * 7) == ASK


def test_a_single_score_is_a_first_one(scores_of):
    assert scores_of("PHQ-9", phq9(7)).startswith("This is your first one.")
