"""Episodes for every service: a walk-in found without an oracle, allocation to a named
practitioner of the service, and endings chosen on the episode's page."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import decide
from joinedup.referrals import episodes, services
from joinedup.referrals.models import Appointment, Episode
from joinedup.referrals.tests.factories import (
    WALK_IN_BIRTHDAY,
    book,
    day_after_tomorrow_at,
    refer,
    second_clinician,
    walk_in_student,
    walked_in,
)

# A walk-in --------------------------------------------------------------------------------


def test_a_walk_in_is_found_by_student_number_and_date_of_birth(hub):
    sam = walk_in_student(hub)
    found = episodes.find_walk_in_student(
        actor=hub.practitioner, service=hub.wellbeing, student_number=" nb2000001 ",
        date_of_birth=WALK_IN_BIRTHDAY,
    )  # fmt: skip
    assert found == sam


@pytest.mark.parametrize(
    ("number", "born"),
    [
        ("NB2000001", dt.date(2003, 1, 3)),  # the right number, another birthday
        ("NB2999999", WALK_IN_BIRTHDAY),  # no such number
        ("SG2000001", WALK_IN_BIRTHDAY),  # a number of another university
    ],
)
def test_a_miss_reads_the_same_whatever_did_not_match_and_is_audited(hub, number, born):
    walk_in_student(hub)
    from conftest import make_student

    make_student(hub.other_university, "SG2000001", date_of_birth=WALK_IN_BIRTHDAY)
    with pytest.raises(ValidationError) as refused:
        episodes.find_walk_in_student(
            actor=hub.practitioner, service=hub.wellbeing, student_number=number,
            date_of_birth=born,
        )  # fmt: skip
    assert refused.value.message_dict == {
        "student_number": [
            "No student of University of Northbridge has this student number with this date "
            "of birth. Check both with the student."
        ]
    }
    miss = AuditEvent.objects.get(action="referrals.walk_in.lookup")
    assert (miss.allowed, miss.basis, miss.actor, miss.student) == (
        False, "none", hub.practitioner, None,
    )  # fmt: skip


def test_only_a_universitys_services_find_students_by_number(hub):
    walk_in_student(hub)
    with pytest.raises(ValidationError, match="Only a university's services"):
        episodes.find_walk_in_student(
            actor=hub.crisis_practitioner, service=hub.crisis, student_number="NB2000001",
            date_of_birth=WALK_IN_BIRTHDAY,
        )  # fmt: skip


def test_opening_a_walk_in_episode_opens_the_care_relationship_and_tells_the_student(hub):
    sam = walk_in_student(hub)
    assert not decide(hub.practitioner, sam, "identity").allowed

    episode = walked_in(hub, sam)

    assert (episode.service, episode.is_open, episode.practitioner) == (hub.wellbeing, True, None)
    assert CareRelationship.objects.open().filter(student=sam, service=hub.wellbeing).exists()
    assert decide(hub.practitioner, sam, "identity").allowed
    [told] = sam.notifications.all()
    assert told.text.startswith("Wellbeing has started working with you.")
    assert AuditEvent.objects.filter(action="referrals.episode.opened", student=sam).exists()


def test_a_walk_in_with_a_referral_waiting_for_the_service_accepts_it_rather_than_double(hub):
    # Registered at Wellbeing's desk (their self-referral), then seen the same morning.
    referral = services.create_referral(
        actor=hub.practitioner, student=hub.student, from_service=None, to_service=hub.wellbeing,
        source="self", reason="Came to the desk: exam stress.", send=True,
    )  # fmt: skip
    other = refer(hub, to=hub.talking)

    episode = episodes.open_walk_in_episode(
        actor=hub.practitioner, student=hub.student, service=hub.wellbeing
    )

    referral.refresh_from_db()
    other.refresh_from_db()
    assert (referral.state, referral.episode) == ("accepted", episode)
    assert other.state == "sent"  # another service's referral waits for that service
    assert Episode.objects.filter(student=hub.student, service=hub.wellbeing).count() == 1


def test_a_second_open_episode_with_the_service_is_refused(hub):
    sam = walk_in_student(hub)
    walked_in(hub, sam)
    with pytest.raises(ValidationError, match="Sam Okafor already has an open episode"):
        walked_in(hub, sam)
    assert Episode.objects.count() == 1


def test_only_a_clinician_of_the_service_opens_its_episodes(hub):
    with pytest.raises(ValidationError, match="Only a practitioner of Wellbeing"):
        episodes.open_walk_in_episode(
            actor=hub.service_manager, student=walk_in_student(hub), service=hub.wellbeing
        )
    assert not Episode.objects.exists()


def test_a_walk_in_allocated_as_it_opens(hub):
    wes = second_clinician(hub)
    episode = walked_in(hub, practitioner=wes)
    assert episode.practitioner == wes
    assert episode.allocated_at is not None


# Allocation -------------------------------------------------------------------------------


def test_an_episode_is_allocated_then_reallocated_each_audited(hub):
    wes = second_clinician(hub)
    episode = walked_in(hub)
    episodes.allocate_episode(actor=hub.practitioner, episode=episode, practitioner=wes)
    episodes.allocate_episode(
        actor=hub.practitioner, episode=episode, practitioner=hub.practitioner
    )

    episode.refresh_from_db()
    assert episode.practitioner == hub.practitioner
    reasons = list(
        AuditEvent.objects.filter(action="referrals.episode.allocated")
        .order_by("seq")
        .values_list("reason", flat=True)
    )
    assert reasons == ["Wellbeing: unallocated → Wes", "Wellbeing: Wes → Priya"]


@pytest.mark.parametrize("who", ["counsellor", "outsider", "service_manager", "academic"])
def test_allocation_to_someone_outside_the_services_clinicians_is_refused(hub, who):
    episode = walked_in(hub)
    person = getattr(hub, who)
    with pytest.raises(ValidationError) as refused:
        episodes.allocate_episode(actor=hub.practitioner, episode=episode, practitioner=person)
    assert refused.value.message_dict == {
        "practitioner": [
            f"{person.get_full_name() or person.email} is not a practitioner of Wellbeing: "
            "choose one of its practitioners."
        ]
    }
    episode.refresh_from_db()
    assert episode.practitioner is None
    assert not AuditEvent.objects.filter(action="referrals.episode.allocated").exists()


def test_allocating_to_the_same_practitioner_again_says_so(hub):
    episode = walked_in(hub, practitioner=hub.practitioner)
    with pytest.raises(ValidationError, match="already allocated to Priya"):
        episodes.allocate_episode(
            actor=hub.practitioner, episode=episode, practitioner=hub.practitioner
        )


def test_an_ended_episode_is_not_allocated(hub):
    episode = walked_in(hub)
    episodes.close_episode(actor=hub.practitioner, episode=episode, ending="planned")
    with pytest.raises(ValidationError, match="This episode has ended"):
        episodes.allocate_episode(
            actor=hub.practitioner, episode=episode, practitioner=hub.practitioner
        )


# Endings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["planned", "unplanned", "disengaged", "transferred"])
def test_an_episode_ends_with_any_of_its_endings_and_the_care_relationship_closes(hub, ending):
    sam = walk_in_student(hub)
    episode = walked_in(hub, sam)
    episodes.close_episode(actor=hub.practitioner, episode=episode, ending=ending)

    episode.refresh_from_db()
    assert (episode.is_open, episode.ending) == (False, ending)
    relationship = CareRelationship.objects.get(student=sam, service=hub.wellbeing)
    assert relationship.ended_because == "episode_ended"
    assert decide(hub.practitioner, sam, "identity").basis == "authored"


def test_ending_an_episode_cancels_its_booked_appointments_and_answers_their_requests(hub):
    from joinedup.referrals.appointments import ask_about_appointment

    sam = walk_in_student(hub)
    episode = walked_in(hub, sam)
    later = book(hub, episode, day_after_tomorrow_at(10))
    asked = ask_about_appointment(actor=None, appointment=later, wants="rebook", reason="Exam")

    episodes.close_episode(actor=hub.practitioner, episode=episode, ending="transferred")

    later.refresh_from_db()
    asked.refresh_from_db()
    assert (later.status, later.cancelled_by, later.cancel_reason) == (
        "cancelled", "service", "The episode of care ended.",
    )  # fmt: skip
    assert asked.answer == "cancelled"
    assert sam.notifications.filter(text__contains="has finished working with you").exists()


@pytest.mark.parametrize(
    ("ending", "moment", "problem"),
    [
        ("", None, {"ending": ["Choose how the episode ended."]}),
        ("finished", None, {"ending": ["Choose how the episode ended."]}),
        ("planned", dt.timedelta(days=1), {"ended_at": ["An episode cannot end in the future."]}),
    ],
)
def test_an_ending_must_be_one_of_the_four_and_not_in_the_future(hub, ending, moment, problem):
    episode = walked_in(hub)
    with pytest.raises(ValidationError) as refused:
        episodes.close_episode(
            actor=hub.practitioner, episode=episode, ending=ending,
            ended_at=timezone.now() + moment if moment else None,
        )  # fmt: skip
    assert refused.value.message_dict == problem
    episode.refresh_from_db()
    assert episode.is_open


def test_an_episode_cannot_end_before_it_began(hub):
    episode = walked_in(hub)
    with pytest.raises(ValidationError, match="cannot end before it began"):
        episodes.close_episode(
            actor=hub.practitioner, episode=episode, ending="planned",
            ended_at=episode.started_at - dt.timedelta(minutes=1),
        )  # fmt: skip


def test_an_episode_that_came_with_a_referral_ends_by_discharging_it(hub):
    referral = refer(hub)
    referral = services.accept_referral(
        actor=hub.triage, referral=referral, version=referral.version
    )
    with pytest.raises(ValidationError, match="end it by discharging the referral"):
        episodes.close_episode(actor=hub.triage, episode=referral.episode, ending="planned")
    assert Episode.objects.get().is_open


def test_ended_episodes_are_counted_by_the_kept_table_as_before(hub):
    """The report table still counts appointments of episodes with the new endings."""
    from joinedup.referrals.models import EpisodeAppointments

    episode = walked_in(hub)
    appointment = book(hub, episode, episode.started_at)
    Appointment.objects.filter(pk=appointment.pk).update(status="attended")
    episodes.close_episode(actor=hub.practitioner, episode=episode, ending="disengaged")
    kept = EpisodeAppointments.objects.get(episode=episode)
    assert (kept.attended, kept.missed) == (1, 0)
