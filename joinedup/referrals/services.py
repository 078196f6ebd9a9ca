"""Changes to episodes of care. Each one is audited."""

from django.db import transaction
from django.utils import timezone

from joinedup.audit.services import Entry, append
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import close_care_relationship, open_care_relationship
from joinedup.referrals.models import Episode


def open_episode(*, actor, student, service, started_at=None) -> Episode:
    """Start an episode of care, opening the service's care relationship with the student."""
    with transaction.atomic():
        relationship = open_care_relationship(
            student=student, service=service, reason=CareRelationship.Reason.EPISODE, actor=actor
        )
        episode = Episode.objects.create(
            student=student,
            service=service,
            relationship=relationship,
            started_at=started_at or timezone.now(),
        )
        append(
            [
                Entry(
                    "referrals.episode.opened",
                    actor=actor,
                    student=student,
                    category="engagement",
                    reason=str(service),
                )
            ]
        )
    return episode


def end_episode(*, actor, episode: Episode, ending: str, ended_at=None) -> Episode:
    """End an episode; the care relationship closes unless another episode still needs it."""
    with transaction.atomic():
        episode.ended_at = ended_at or timezone.now()
        episode.ending = Episode.Ending(ending)
        episode.save(update_fields=["ended_at", "ending"])
        append(
            [
                Entry(
                    "referrals.episode.ended",
                    actor=actor,
                    student=episode.student,
                    category="engagement",
                    reason=f"{episode.service}: {ending}",
                )
            ]
        )
        still_open = Episode.objects.open().filter(relationship=episode.relationship).exists()
        if not still_open and episode.relationship.closed_at is None:
            close_care_relationship(relationship=episode.relationship, actor=actor)
    return episode
