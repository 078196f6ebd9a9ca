"""The diary's migrations keep `EpisodeAppointments` kept by the database, on SQLite (where
adding the diary's columns rebuilds the appointments table, and with it its triggers) and on
PostgreSQL, forwards and back; and name the clinician of each appointment booked before."""

import datetime as dt

import pytest
from django.db import connection

from conftest import make_staff, make_student
from joinedup.consent.models import CareRelationship
from joinedup.people.models import Organisation, Role, Service
from joinedup.tests.migrating import back_at, latest, migrate, models_at

BEFORE = ("referrals", "0005_referral_report_index")
DAY = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _models(at):
    """The referrals models as they stand at migration `at` (one node, or a list of them)."""
    apps = models_at(at)
    return apps.get_model("referrals", "Episode"), apps.get_model("referrals", "Appointment")


def _kept() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT episode_id, attended, missed, attended_treatment "
            "FROM referrals_episodeappointments ORDER BY episode_id"
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


@pytest.fixture
def before_the_diary(transactional_db):
    with back_at([BEFORE]):
        yield


@pytest.mark.usefixtures("before_the_diary")
def test_the_kept_counts_survive_the_diary_both_ways_and_clinicians_are_named():
    university = Organisation.objects.create(name="University of Northbridge", kind="university")
    wellbeing = Service.objects.create(organisation=university, name="Wellbeing", kind="wellbeing")
    priya = make_staff("priya@nb.ac.uk", Role.PRACTITIONER, university, service=wellbeing)
    manager = make_staff("sam@nb.ac.uk", Role.SERVICE_MANAGER, university, service=wellbeing)
    student = make_student(university, "NB1000001")
    relationship = CareRelationship.objects.create(
        student=student, service=wellbeing, reason="episode"
    )
    Episode, Appointment = _models(BEFORE)  # noqa: N806 - historical models
    episode = Episode.objects.create(
        student_id=student.pk, service_id=wellbeing.pk, relationship_id=relationship.pk,
        started_at=DAY,
    )  # fmt: skip

    def book(Appointment, days, status, by):  # noqa: N803
        return Appointment.objects.create(
            episode_id=episode.pk, starts_at=DAY + dt.timedelta(days=days), kind="treatment",
            status=status, recorded_by_id=by.pk,
        )  # fmt: skip

    by_priya = book(Appointment, 1, "attended", priya)
    by_manager = book(Appointment, 8, "missed", manager)
    book(Appointment, 15, "booked", priya)
    assert _kept() == {episode.pk: (1, 1, 1)}

    migrate(latest())

    assert _kept() == {episode.pk: (1, 1, 1)}  # recomputed, the same
    Episode, Appointment = _models(latest())  # noqa: N806
    clinicians = dict(Appointment.objects.values_list("pk", "clinician_id"))
    assert clinicians[by_priya.pk] == priya.pk
    assert clinicians[by_manager.pk] is None  # a manager is not a clinician of the service
    # The triggers fire on the rebuilt table: a change, an insert, a delete.
    Appointment.objects.filter(pk=by_manager.pk).update(status="attended")
    assert _kept() == {episode.pk: (2, 0, 2)}
    later = book(Appointment, 22, "missed", priya)
    assert _kept() == {episode.pk: (2, 1, 2)}
    Appointment.objects.filter(pk=later.pk).delete()
    assert _kept() == {episode.pk: (2, 0, 2)}

    migrate([BEFORE])

    assert _kept() == {episode.pk: (2, 0, 2)}
    Episode, Appointment = _models(BEFORE)  # noqa: N806
    book(Appointment, 29, "attended", priya)
    assert _kept() == {episode.pk: (3, 0, 3)}
