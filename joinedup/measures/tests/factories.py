from joinedup.measures.models import Administration, RoutineMeasure
from joinedup.measures.services import record_administration
from joinedup.referrals.services import open_episode

PHQ9_MODERATE = [2, 1, 1, 1, 2, 1, 1, 1, 0]  # 10: moderate, a case, no risk
PHQ9_ITEM9 = [2, 1, 1, 1, 2, 1, 1, 1, 1]


def start_episode(hub, service=None, *, routine=("PHQ-9", "GAD-7")):
    service = service or hub.wellbeing
    for code in routine:
        RoutineMeasure.objects.get_or_create(service=service, code=code)
    return open_episode(actor=hub.practitioner, student=hub.student, service=service)


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
