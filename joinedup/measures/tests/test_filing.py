"""Late data never rewrites an episode: every writer files a questionnaire under the episode
whose dates cover its completion, or under none, never as a later episode's first score."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from joinedup.api.tests.conftest import Api, make_client, make_token
from joinedup.measures import rules
from joinedup.measures.importing import import_history
from joinedup.measures.models import Administration
from joinedup.measures.services import (
    complete_from_link,
    link_from_token,
    record_administration,
    send_completion_link,
)
from joinedup.measures.tests.factories import (
    BETWEEN_EPISODES,
    IN_EARLIER_EPISODE,
    LATER_FIGURES,
    PHQ9_3,
    PHQ9_MODERATE,
    earlier_and_later_episodes,
    figures,
    start_episode,
)
from joinedup.referrals.services import end_episode


@pytest.fixture
def episodes(hub):
    return earlier_and_later_episodes(hub)


def episode_of(**filters):
    return Administration.objects.get(**filters).episode


# The service, as FHIR and any caller without a session of its own use it ----------------


@pytest.mark.parametrize(
    ("completed_at", "filed_under"),
    [(IN_EARLIER_EPISODE, "earlier"), (BETWEEN_EPISODES, None)],
)
def test_a_back_dated_score_is_filed_by_its_date(hub, episodes, completed_at, filed_under):
    recorded = record_administration(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing, code="PHQ-9",
        answers=PHQ9_3, method="imported", completed_at=completed_at,
    )  # fmt: skip
    assert recorded.episode == (getattr(episodes, filed_under) if filed_under else None)
    assert figures(episodes.later) == LATER_FIGURES
    if filed_under:
        assert figures(episodes.earlier) == (3.0, 3.0, 1, False, False, False)


def test_a_score_from_another_service_is_never_filed_under_this_ones_episode(hub, episodes):
    recorded = record_administration(
        actor=hub.counsellor, student=hub.student, service=hub.counselling, code="PHQ-9",
        answers=PHQ9_3, method="imported", completed_at=timezone.now(),
    )  # fmt: skip
    assert recorded.episode is None
    assert figures(episodes.later) == LATER_FIGURES


def test_a_score_at_an_episodes_first_or_last_moment_is_filed_under_it(hub, episodes):
    for moment in (episodes.earlier.started_at, episodes.earlier.ended_at):
        recorded = record_administration(
            actor=hub.practitioner, student=hub.student, service=hub.wellbeing, code="GAD-7",
            answers=[1] * 7, method="imported", completed_at=moment,
        )  # fmt: skip
        assert recorded.episode == episodes.earlier


# In a session: the session's episode is stated, so a date outside it is refused -----------


@pytest.mark.parametrize("completed_at", [IN_EARLIER_EPISODE, BETWEEN_EPISODES])
def test_a_session_dated_outside_its_episode_is_refused_in_words(hub, episodes, completed_at):
    with pytest.raises(ValidationError, match="before this episode of care began on"):
        record_administration(
            actor=hub.practitioner, student=hub.student, service=hub.wellbeing, code="PHQ-9",
            answers=PHQ9_3, method="in_session", episode=episodes.later, session_number=3,
            completed_at=completed_at,
        )  # fmt: skip
    assert Administration.objects.filter(session_number=3).count() == 0
    assert figures(episodes.later) == LATER_FIGURES


def test_a_session_dated_after_its_episode_ended_is_refused_in_words(hub, episodes):
    with pytest.raises(ValidationError, match="which ran from 9 January 2023 to 30 June 2023"):
        record_administration(
            actor=hub.practitioner, student=hub.student, service=hub.wellbeing, code="PHQ-9",
            answers=PHQ9_3, method="in_session", episode=episodes.earlier, session_number=1,
            completed_at=BETWEEN_EPISODES,
        )  # fmt: skip
    assert figures(episodes.earlier) is None


def test_the_session_page_refuses_a_date_before_the_episode(hub, client, episodes):
    client.force_login(hub.practitioner)
    url = reverse("measures:administration-create", args=[episodes.later.uuid, "PHQ-9"])
    data = {"session_number": 3, "completed_on": "2023-03-01"}
    data |= {f"item_{n}": str(v) for n, v in enumerate(PHQ9_3, 1)}
    page = client.post(url, data).content.decode()
    assert "The questionnaire is dated 1 March 2023, before this episode of care began" in page
    assert Administration.objects.count() == 2
    assert figures(episodes.later) == LATER_FIGURES


def test_the_api_refuses_a_session_dated_before_the_episode(hub, client, episodes):
    api = Api(client, make_token(make_client(hub.wellbeing)))
    response = api.post("/administrations", {
        "episode": str(episodes.later.uuid), "code": "PHQ-9", "session_number": 3,
        "completed_on": "2023-03-01", "answers": PHQ9_3,
    })  # fmt: skip
    assert response.status_code == 400
    assert "before this episode of care began" in response.content.decode()
    assert figures(episodes.later) == LATER_FIGURES


# From a link: answered after the link's episode ended ----------------------------------


def test_a_link_answered_after_its_episode_ended_does_not_rewrite_it(hub, episodes):
    token = send_completion_link(
        actor=hub.practitioner, episode=episodes.later, session_number=3, codes=["PHQ-9"]
    )
    end_episode(actor=hub.practitioner, episode=episodes.later, ending="planned")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        [recorded] = complete_from_link(
            link=link_from_token(token), answers_by_code={"PHQ-9": PHQ9_3}
        )
    assert (recorded.episode, recorded.session_number) == (None, None)
    assert figures(episodes.later) == LATER_FIGURES


def test_a_link_answered_in_a_new_episode_is_filed_under_it_without_the_old_session(hub):
    first = start_episode(hub, started_at=timezone.now() - dt.timedelta(days=30))
    token = send_completion_link(
        actor=hub.practitioner, episode=first, session_number=4, codes=["PHQ-9"]
    )
    end_episode(actor=hub.practitioner, episode=first, ending="unplanned")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        second = start_episode(hub)
        [recorded] = complete_from_link(
            link=link_from_token(token), answers_by_code={"PHQ-9": PHQ9_MODERATE}
        )
    assert (recorded.episode, recorded.session_number) == (second, None)
    assert figures(first) is None


# Imported from a CSV file ----------------------------------------------------------------


def import_rows(hub, *rows):
    header = "student_number,date,measure,session," + ",".join(
        f"item_{n}" for n in range(1, 10)
    ) + "\n"  # fmt: skip
    lines = io.StringIO(header + "".join(row + "\n" for row in rows)).readlines()
    return import_history(actor=hub.practitioner, service=hub.wellbeing, lines=lines)


PHQ9_3_ITEMS = ",".join(map(str, PHQ9_3))


def test_imported_back_dated_scores_are_filed_by_their_dates(hub, episodes):
    report = import_rows(
        hub,
        f"NB1000001,2023-03-01,PHQ-9,1,{PHQ9_3_ITEMS}",
        f"NB1000001,2024-05-01,PHQ-9,,{PHQ9_3_ITEMS}",
    )
    assert (report.ok, report.imported) == (True, 2)
    assert episode_of(completed_at__date=dt.date(2023, 3, 1)) == episodes.earlier
    assert episode_of(completed_at__date=dt.date(2024, 5, 1)) is None
    assert figures(episodes.later) == LATER_FIGURES
    assert figures(episodes.earlier) == (3.0, 3.0, 1, False, False, False)


def test_an_imported_session_already_recorded_in_its_episode_is_refused(hub, episodes):
    day = (episodes.later.started_at + dt.timedelta(days=2)).date()
    report = import_rows(hub, f"NB1000001,{day},PHQ-9,1,{PHQ9_3_ITEMS}")
    assert not report.ok
    assert report.errors == [(2, (
        f"PHQ-9 is already recorded for session 1 of the episode of care its date ({day}) "
        "falls in."
    ))]  # fmt: skip
    assert Administration.objects.count() == 2
    assert figures(episodes.later) == LATER_FIGURES


# One rule: every writer asks it ---------------------------------------------------------


def _by_service(hub, episodes):
    return record_administration(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing, code="PHQ-9",
        answers=PHQ9_3, method="imported",
    )  # fmt: skip


def _by_import(hub, episodes):
    import_rows(hub, f"NB1000001,{timezone.localdate()},PHQ-9,,{PHQ9_3_ITEMS}")
    return Administration.objects.get(method="imported")


def _by_link(hub, episodes):
    token = send_completion_link(
        actor=hub.practitioner, episode=episodes.later, session_number=3, codes=["PHQ-9"]
    )
    return complete_from_link(link=link_from_token(token), answers_by_code={"PHQ-9": PHQ9_3})[0]


@pytest.mark.parametrize("write", [_by_service, _by_import, _by_link])
def test_every_writer_takes_the_episode_from_the_one_date_rule(hub, episodes, monkeypatch, write):
    """A score dated today belongs to the open episode; a rule that says only the earlier
    episode covers anything must move it there, whichever path writes it."""
    monkeypatch.setattr(rules, "covers", lambda episode, moment: episode == episodes.earlier)
    assert write(hub, episodes).episode == episodes.earlier
