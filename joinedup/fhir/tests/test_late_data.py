"""A QuestionnaireResponse is filed by its authored date: under the episode of the sending
service whose dates cover it, or under none, never as the first score of a later episode."""

import pytest
from django.utils import timezone

from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, fhir_client
from joinedup.fhir.tests.test_create import _post, partner_phq9
from joinedup.measures.models import Administration
from joinedup.measures.tests.factories import (
    LATER_FIGURES,
    PHQ9_3,
    earlier_and_later_episodes,
    figures,
)


@pytest.fixture
def episodes(hub):
    return earlier_and_later_episodes(hub)


@pytest.fixture
def writer(hub):
    return fhir_client(hub.wellbeing, f"{ALL_READ} {ALL_WRITE}")


def post_phq9(client, student, authored: str) -> Administration:
    response = partner_phq9(student, PHQ9_3, authored=authored)
    created = _post(client, "/fhir/QuestionnaireResponse", response, 201)
    return Administration.objects.get(uuid=created["id"])


def test_a_2023_phq9_is_filed_under_the_2023_episode_not_the_open_one(hub, writer, episodes):
    recorded = post_phq9(writer, hub.student, "2023-03-01T10:00:00Z")
    assert recorded.episode == episodes.earlier
    assert figures(episodes.later) == LATER_FIGURES
    assert figures(episodes.earlier) == (3.0, 3.0, 1, False, False, False)


def test_a_phq9_dated_in_no_episode_is_kept_outside_them(hub, writer, episodes):
    recorded = post_phq9(writer, hub.student, "2024-05-01")
    assert recorded.episode is None
    assert figures(episodes.later) == LATER_FIGURES


def test_a_phq9_dated_in_the_open_episode_is_its_latest_score(hub, writer, episodes):
    recorded = post_phq9(writer, hub.student, timezone.now().isoformat())
    assert recorded.episode == episodes.later
    assert figures(episodes.later)[:3] == (15.0, 3.0, 3)
