"""The database keeps each episode's attended and missed appointments counted, however they
are written, changed or deleted."""

import datetime as dt
import random

import pytest

from joinedup.measures.tests.factories import start_episode
from joinedup.referrals.models import Appointment, EpisodeAppointments

DAY = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def kept() -> dict:
    return {
        k.episode_id: (k.attended, k.missed, k.attended_treatment, k.first_at, k.last_at)
        for k in EpisodeAppointments.objects.all()
    }


def recounted() -> dict:
    """The same counts worked out here from every appointment."""
    counts: dict = {}
    for a in Appointment.objects.filter(status__in=["attended", "missed"]):
        attended, missed, treatment, first, last = counts.get(a.episode_id, (0, 0, 0, None, None))
        counts[a.episode_id] = (
            attended + (a.status == "attended"),
            missed + (a.status == "missed"),
            treatment + (a.status == "attended" and a.kind == "treatment"),
            min(first or a.starts_at, a.starts_at),
            max(last or a.starts_at, a.starts_at),
        )
    return counts


def book(hub, episode, days, *, kind="treatment", status="attended"):
    return Appointment.objects.create(
        episode=episode, starts_at=DAY + dt.timedelta(days=days), kind=kind, status=status,
        cancelled_by="student" if status == "cancelled" else "", recorded_by=hub.practitioner,
    )  # fmt: skip


def test_attended_and_missed_appointments_are_counted_and_dated(hub):
    episode = start_episode(hub)
    book(hub, episode, 0, kind="assessment")
    book(hub, episode, 7)
    book(hub, episode, 14, status="missed")
    book(hub, episode, 21, status="booked")
    book(hub, episode, 28, status="cancelled")
    assert kept() == {episode.pk: (2, 1, 1, DAY, DAY + dt.timedelta(days=14))}


def test_changes_moves_and_deletions_are_followed(hub):
    first, second = start_episode(hub), start_episode(hub, hub.counselling)
    booked = book(hub, first, 7, status="booked")
    assert kept() == {}
    Appointment.objects.filter(pk=booked.pk).update(status="attended")
    assert kept() == {first.pk: (1, 0, 1, DAY + dt.timedelta(days=7), DAY + dt.timedelta(days=7))}
    Appointment.objects.filter(pk=booked.pk).update(episode=second, kind="review")
    assert kept() == {second.pk: (1, 0, 0, DAY + dt.timedelta(days=7), DAY + dt.timedelta(days=7))}
    Appointment.objects.filter(pk=booked.pk).delete()
    assert kept() == {}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whatever_is_written_the_kept_counts_agree_with_every_appointment(hub, seed):
    chance = random.Random(seed)  # noqa: S311 - a repeatable test, not a secret
    episodes = [start_episode(hub), start_episode(hub, hub.counselling)]
    written = []
    for _ in range(40):
        action = chance.random()
        if action < 0.6 or not written:
            kind = chance.choice(["assessment", "treatment", "review"])
            status = chance.choice(["booked", "attended", "missed"])
            written.append(
                book(hub, chance.choice(episodes), chance.randrange(30), kind=kind, status=status)
            )
        elif action < 0.8:
            Appointment.objects.filter(pk=written.pop(chance.randrange(len(written))).pk).delete()
        else:
            Appointment.objects.filter(pk=chance.choice(written).pk).update(
                starts_at=DAY + dt.timedelta(days=chance.randrange(30)),
                status=chance.choice(["booked", "attended", "missed"]),
                episode=chance.choice(episodes),
            )
    assert kept() == recounted()
