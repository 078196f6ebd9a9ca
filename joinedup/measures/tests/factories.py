import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from joinedup.measures import instruments
from joinedup.measures.models import Administration, EpisodeScores, RoutineMeasure
from joinedup.measures.outcomes import reliable_change
from joinedup.measures.services import record_administration
from joinedup.referrals.models import Episode
from joinedup.referrals.services import end_episode, open_episode

PHQ9_MODERATE = [2, 1, 1, 1, 2, 1, 1, 1, 0]  # 10: moderate, a case, no risk
PHQ9_ITEM9 = [2, 1, 1, 1, 2, 1, 1, 1, 1]


def start_episode(hub, service=None, *, routine=("PHQ-9", "GAD-7"), started_at=None):
    service = service or hub.wellbeing
    for code in routine:
        RoutineMeasure.objects.get_or_create(service=service, code=code)
    return open_episode(
        actor=hub.practitioner, student=hub.student, service=service, started_at=started_at
    )


def record(episode, actor, code="PHQ-9", answers=None, session=1, **kwargs) -> Administration:
    return record_administration(
        actor=actor,
        student=episode.student,
        service=episode.service,
        code=code,
        answers=answers or PHQ9_MODERATE,
        method="in_session",
        episode=episode,
        session_number=session,
        **kwargs,
    )


PHQ9_15 = [2, 2, 2, 2, 2, 2, 2, 1, 0]
PHQ9_8 = [1, 1, 1, 1, 1, 1, 1, 1, 0]
PHQ9_3 = [1, 1, 1, 0, 0, 0, 0, 0, 0]
# An earlier episode's dates, and a date between it and the later one: both long past.
IN_EARLIER_EPISODE = dt.datetime(2023, 3, 1, 12, tzinfo=dt.UTC)
BETWEEN_EPISODES = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)


@dataclass
class TwoEpisodes:
    earlier: Episode
    later: Episode


def earlier_and_later_episodes(hub) -> TwoEpisodes:
    """An ended 2023 episode at the wellbeing service, and an open one begun 60 days ago
    whose PHQ-9 went from 15 to 8: reliable improvement and recovery on that measure."""
    earlier = open_episode(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing,
        started_at=dt.datetime(2023, 1, 9, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    end_episode(actor=hub.practitioner, episode=earlier, ending="planned",
                ended_at=dt.datetime(2023, 6, 30, 17, tzinfo=dt.UTC))  # fmt: skip
    now = timezone.now()
    later = start_episode(hub, started_at=now - dt.timedelta(days=60))
    for session, answers in enumerate([PHQ9_15, PHQ9_8], 1):
        record(later, hub.practitioner, answers=answers, session=session,
               completed_at=now - dt.timedelta(days=60 - 7 * session))  # fmt: skip
    return TwoEpisodes(earlier, later)


def figures(episode, code="PHQ-9") -> tuple:
    """What reports read of an episode on a measure: its kept first and last scores and
    how many, recovery on the measure, reliable improvement and deterioration."""
    kept = EpisodeScores.objects.filter(episode=episode, code=code).first()
    if kept is None:
        return None
    change = reliable_change(code, kept.first_score, kept.last_score)
    instrument = instruments.get(code)
    recovered = instrument.is_case(kept.first_score) and not instrument.is_case(kept.last_score)
    return (
        kept.first_score,
        kept.last_score,
        kept.scores,
        recovered,
        change.reliable_improvement,
        change.reliable_deterioration,
    )


LATER_FIGURES = (15.0, 8.0, 2, True, True, False)
