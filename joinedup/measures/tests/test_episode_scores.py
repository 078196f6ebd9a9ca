"""The database keeps each episode's first and last valid score per measure, however its
administrations are written, changed or deleted."""

import datetime as dt
import random
import threading
import time

import pytest
from django.db import connection, connections, transaction

from joinedup.consent.models import CareRelationship
from joinedup.measures.models import Administration, EpisodeScores
from joinedup.measures.tests.factories import record, start_episode
from joinedup.referrals.models import Episode

DAY = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def kept() -> dict:
    return {
        (s.episode_id, s.code): (s.first_score, s.last_score, s.scores)
        for s in EpisodeScores.objects.all()
    }


def recomputed() -> dict:
    """The same figures worked out here from every administration."""
    valid = Administration.objects.filter(
        episode__isnull=False, is_valid=True, main_score__isnull=False
    ).order_by("completed_at", "id")
    groups: dict = {}
    for a in valid:
        groups.setdefault((a.episode_id, a.code), []).append(a.main_score)
    return {key: (scores[0], scores[-1], len(scores)) for key, scores in groups.items()}


def add(episode, code, days, score, *, valid=True):
    return Administration.objects.create(
        student=episode.student, service=episode.service, episode=episode, code=code,
        completed_at=DAY + dt.timedelta(days=days), method="in_session", is_valid=valid,
        main_score=score if valid else None, total=score,
    )  # fmt: skip


def test_recording_a_questionnaire_keeps_its_episode_scores(hub):
    episode = start_episode(hub, started_at=DAY)
    record(episode, hub.practitioner, session=1, completed_at=DAY)
    assert kept() == {(episode.pk, "PHQ-9"): (10.0, 10.0, 1)}
    record(episode, hub.practitioner, session=2, answers=[0] * 9,
           completed_at=DAY + dt.timedelta(days=7))  # fmt: skip
    assert kept() == {(episode.pk, "PHQ-9"): (10.0, 0.0, 2)}


def test_invalid_scores_and_administrations_outside_an_episode_are_not_kept(hub):
    episode = start_episode(hub)
    add(episode, "GAD-7", 0, 9, valid=False)
    Administration.objects.create(
        student=hub.student, service=hub.wellbeing, code="PHQ-9", completed_at=DAY,
        method="imported", is_valid=True, main_score=12, total=12,
    )  # fmt: skip
    assert kept() == {}


def test_changes_moves_and_deletions_are_followed(hub):
    first, second = start_episode(hub), start_episode(hub, hub.counselling)
    early, late = add(first, "PHQ-9", 0, 18), add(first, "PHQ-9", 14, 6)
    assert kept() == {(first.pk, "PHQ-9"): (18.0, 6.0, 2)}

    Administration.objects.filter(pk=early.pk).update(completed_at=DAY + dt.timedelta(days=30))
    assert kept() == {(first.pk, "PHQ-9"): (6.0, 18.0, 2)}

    Administration.objects.filter(pk=late.pk).update(episode=second)  # moved between episodes
    assert kept() == {(first.pk, "PHQ-9"): (18.0, 18.0, 1), (second.pk, "PHQ-9"): (6.0, 6.0, 1)}

    Administration.objects.filter(pk=early.pk).update(is_valid=False, main_score=None)
    Administration.objects.filter(pk=late.pk).delete()
    assert kept() == {}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whatever_is_written_the_kept_scores_agree_with_every_administration(hub, seed):
    chance = random.Random(seed)  # noqa: S311 - a repeatable test, not a secret
    episodes = [start_episode(hub), start_episode(hub, hub.counselling)]
    written = []
    for _ in range(40):
        action = chance.random()
        if action < 0.6 or not written:
            # Few distinct days, so several scores share a completion time (then id decides).
            written.append(add(chance.choice(episodes), chance.choice(["PHQ-9", "GAD-7"]),
                               chance.randrange(4), chance.randrange(28),
                               valid=chance.random() > 0.2))  # fmt: skip
        elif action < 0.8:
            Administration.objects.filter(
                pk=written.pop(chance.randrange(len(written))).pk
            ).delete()
        else:
            Administration.objects.filter(pk=chance.choice(written).pk).update(
                completed_at=DAY + dt.timedelta(days=chance.randrange(4)),
                episode=chance.choice(episodes),
            )
    Administration.objects.bulk_create(
        Administration(student=hub.student, service=hub.wellbeing, episode=episodes[0],
                       code="PHQ-9", completed_at=DAY, method="in_session", is_valid=True,
                       main_score=score, total=score)
        for score in (3, 4)
    )  # fmt: skip
    assert kept() == recomputed()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two concurrent writers need PostgreSQL; the SQLite test database has one connection",
)
@pytest.mark.django_db(transaction=True)
def test_two_writers_to_one_episode_at_once_take_turns_and_both_count(hub):
    episode = start_episode(hub)
    first_written, errors = threading.Event(), []

    def write(days, score, *, first):
        try:
            if not first:
                first_written.wait(10)
            with transaction.atomic():
                add(episode, "PHQ-9", days, score)
                if first:
                    first_written.set()
                    _wait_for_a_writer_waiting_on_the_episode()
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=write, args=(0, 20), kwargs={"first": True}),
        threading.Thread(target=write, args=(7, 5), kwargs={"first": False}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert kept() == {(episode.pk, "PHQ-9"): (20.0, 5.0, 2)}


def _wait_for_a_writer_waiting_on_the_episode():
    """Hold this transaction open until another connection waits for the episode's lock, so
    the second write really happens while the first is uncommitted."""
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for the first")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="only PostgreSQL takes locks per row or key; SQLite locks the whole database",
)
def test_one_transaction_writes_for_any_number_of_episodes_without_a_lock_each(hub):
    """A bulk import writes for thousands of episodes at once: taking a lock per episode in
    the server's lock table would run out of room, so the locks live in the rows."""
    relationship = CareRelationship.objects.create(
        student=hub.student, service=hub.wellbeing, reason="episodes"
    )
    episodes = Episode.objects.bulk_create(
        Episode(student=hub.student, service=hub.wellbeing, relationship=relationship)
        for _ in range(60)
    )
    with transaction.atomic():
        for episode in episodes:
            add(episode, "PHQ-9", 0, 12)
        with connection.cursor() as cursor:
            # Locks on tables and indexes (the audit log's monthly partitions among them) are
            # as many for one episode as for thousands: count the others.
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                "AND locktype <> 'relation'"
            )
            held = cursor.fetchone()[0]
    assert held < len(episodes)
    assert len(kept()) == len(episodes)
