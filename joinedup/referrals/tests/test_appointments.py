"""The diary's changes: booking with a clinician, clashes refused, moving, cancelling,
attended and did-not-attend, and students' requests with the service's answers. Whatever
is refused saves nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.referrals import appointments, episodes
from joinedup.referrals.models import Appointment, AppointmentRequest, EpisodeAppointments
from joinedup.referrals.tests.factories import (
    book,
    day_after_tomorrow_at,
    second_clinician,
    walked_in,
)

TEN = 10


@pytest.fixture
def episode(hub):
    return walked_in(hub, practitioner=hub.practitioner)


def snapshot() -> list:
    return list(
        Appointment.objects.order_by("pk").values_list(
            "pk", "starts_at", "length", "clinician", "status", "cancelled_by", "cancel_reason"
        )
    )


# Booking ----------------------------------------------------------------------------------


def test_a_booking_names_its_clinician_length_and_place_and_tells_the_student(hub, episode):
    at = day_after_tomorrow_at(TEN)
    appointment = appointments.book_appointment(
        actor=hub.practitioner, episode=episode, starts_at=at, kind="assessment",
        length=dt.timedelta(minutes=30), video_link="https://video.example/room/7",
    )  # fmt: skip
    assert (appointment.clinician, appointment.minutes, appointment.ends_at) == (
        hub.practitioner, 30, at + dt.timedelta(minutes=30),
    )  # fmt: skip
    assert appointment.video_link == "https://video.example/room/7"
    assert episode.student.notifications.filter(
        text__startswith="Wellbeing booked an appointment for you on"
    ).exists()
    assert AuditEvent.objects.filter(action="referrals.appointment.booked").exists()


def test_a_clash_in_the_clinicians_diary_is_refused_naming_it_and_nothing_is_saved(hub, episode):
    book(hub, episode, day_after_tomorrow_at(TEN), minutes=50)
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        book(hub, walked_in(hub, _other(hub)), day_after_tomorrow_at(TEN, 30))
    when = timezone.localtime(day_after_tomorrow_at(TEN)).strftime("%A %-d %B")
    assert refused.value.message_dict == {
        "starts_at": [
            f"Priya already has an appointment from 10:00 to 10:50 on {when}, which this would "
            "overlap. Choose another time or clinician."
        ]
    }
    assert snapshot() == before


def _other(hub):
    from joinedup.referrals.tests.factories import walk_in_student

    return walk_in_student(hub, "NB2000002")


def test_back_to_back_appointments_of_one_clinician_are_booked(hub, episode):
    book(hub, episode, day_after_tomorrow_at(TEN), minutes=50)
    book(hub, episode, day_after_tomorrow_at(TEN, 50))
    book(hub, episode, day_after_tomorrow_at(9, 10), minutes=50)  # ends at 10:00
    assert Appointment.objects.count() == 3


def test_another_clinician_or_a_cancelled_appointment_leaves_the_time_free(hub, episode):
    wes = second_clinician(hub)
    first = book(hub, episode, day_after_tomorrow_at(TEN))
    book(hub, episode, day_after_tomorrow_at(TEN), clinician=wes)
    appointments.cancel_appointment(
        actor=hub.practitioner, appointment=first, by="student", reason="Exam."
    )
    book(hub, episode, day_after_tomorrow_at(TEN))
    assert Appointment.objects.filter(status="booked").count() == 2


def test_a_walk_ins_first_session_earlier_on_the_day_it_opened_is_recorded(hub, episode):
    opened = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    episode.started_at = opened
    episode.save(update_fields=["started_at"])
    book(hub, episode, opened.replace(hour=9))
    with pytest.raises(ValidationError, match="must be inside the episode"):
        book(hub, episode, opened.replace(hour=9) - dt.timedelta(days=1))
    assert Appointment.objects.count() == 1


def test_a_booking_outside_the_episode_is_refused(hub, episode):
    with pytest.raises(ValidationError, match="must be inside the episode"):
        book(hub, episode, episode.started_at - dt.timedelta(days=1))
    episodes.close_episode(actor=hub.practitioner, episode=episode, ending="planned")
    with pytest.raises(ValidationError, match="must be inside the episode, which runs from"):
        book(hub, episode, day_after_tomorrow_at(TEN))
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("who", ["counsellor", "service_manager", "outsider"])
def test_a_booking_with_someone_outside_the_services_clinicians_is_refused(hub, episode, who):
    with pytest.raises(ValidationError, match="is not a practitioner of Wellbeing"):
        book(hub, episode, day_after_tomorrow_at(TEN), clinician=getattr(hub, who))
    assert not Appointment.objects.exists()


def test_a_length_out_of_bounds_is_refused(hub, episode):
    with pytest.raises(ValidationError, match="at most 4 hours"):
        book(hub, episode, day_after_tomorrow_at(TEN), minutes=300)


# Moving -----------------------------------------------------------------------------------


def test_moving_keeps_where_it_came_from_and_why_and_tells_the_student(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    new = day_after_tomorrow_at(14)
    appointments.reschedule_appointment(
        actor=hub.practitioner, appointment=appointment, starts_at=new,
        reason="Clinician at training.", by="service",
    )  # fmt: skip
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.moved_from, appointment.move_reason) == (
        new, day_after_tomorrow_at(TEN), "Clinician at training.",
    )  # fmt: skip
    assert episode.student.notifications.filter(
        text__startswith="Wellbeing moved your appointment on"
    ).exists()
    assert AuditEvent.objects.filter(action="referrals.appointment.moved").exists()


def test_moving_a_little_does_not_clash_with_itself(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    appointments.reschedule_appointment(
        actor=hub.practitioner, appointment=appointment, starts_at=day_after_tomorrow_at(TEN, 15),
        reason="Room free later.",
    )  # fmt: skip


def test_moving_onto_another_appointment_is_refused_and_nothing_moves(hub, episode):
    book(hub, episode, day_after_tomorrow_at(14))
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    before = snapshot()
    with pytest.raises(ValidationError, match="already has an appointment from 14:00 to 14:50"):
        appointments.reschedule_appointment(
            actor=hub.practitioner, appointment=appointment,
            starts_at=day_after_tomorrow_at(14, 30), reason="Asked for the afternoon.",
        )  # fmt: skip
    assert snapshot() == before


@pytest.mark.parametrize(
    ("moment", "reason", "by", "problem"),
    [
        (-dt.timedelta(hours=1), "Late.", "service",
         {"starts_at": ["An appointment can only move to a time still to come."]}),
        (dt.timedelta(days=3), "  ", "service", {"reason": ["Say why the appointment is moving."]}),
        (dt.timedelta(days=3), "Late.", "tutor", {"by": ["Say who asked for the change."]}),
    ],
)  # fmt: skip
def test_moving_into_the_past_or_without_a_reason_is_refused(
    hub, episode, moment, reason, by, problem
):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        appointments.reschedule_appointment(
            actor=hub.practitioner, appointment=appointment, starts_at=timezone.now() + moment,
            reason=reason, by=by,
        )  # fmt: skip
    assert refused.value.message_dict == problem
    assert snapshot() == before


# Cancelling and recording -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "reason", "problem"),
    [
        ("service", "", {"reason": ["Say why the appointment is cancelled."]}),
        ("", "Ill.", {"cancelled_by": ["Say who cancelled."]}),
    ],
)
def test_a_cancellation_says_who_and_why(hub, episode, by, reason, problem):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    with pytest.raises(ValidationError) as refused:
        appointments.cancel_appointment(
            actor=hub.practitioner, appointment=appointment, by=by, reason=reason
        )
    assert refused.value.message_dict == problem
    assert Appointment.objects.get().status == "booked"


def test_the_service_cancelling_in_advance_tells_the_student(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    appointments.cancel_appointment(
        actor=hub.practitioner, appointment=appointment, by="service", reason="Clinician ill."
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == ("cancelled", "Clinician ill.")
    assert appointment.cancelled_at is not None
    assert episode.student.notifications.filter(
        text__startswith="Wellbeing cancelled your appointment on"
    ).exists()
    with pytest.raises(ValidationError, match="only a booked one can be cancelled"):
        appointments.cancel_appointment(
            actor=hub.practitioner, appointment=appointment, by="service", reason="Again."
        )


@pytest.mark.parametrize("status", ["attended", "missed"])
def test_attended_or_did_not_attend_once_its_time_has_come(hub, episode, status):
    appointment = book(hub, episode, episode.started_at)
    appointments.record_appointment(actor=hub.practitioner, appointment=appointment, status=status)
    kept = EpisodeAppointments.objects.get(episode=episode)
    assert (kept.attended, kept.missed) == (status == "attended", status == "missed")
    future = book(hub, episode, day_after_tomorrow_at(TEN))
    with pytest.raises(ValidationError, match="has not happened yet"):
        appointments.record_appointment(actor=hub.practitioner, appointment=future, status=status)


# The student's requests -------------------------------------------------------------------


def ask(hub, appointment, wants="rebook", reason="I have an exam that morning."):
    return appointments.ask_about_appointment(
        actor=hub.student_user, appointment=appointment, wants=wants, reason=reason,
        better_times="Afternoons",
    )  # fmt: skip


def test_a_student_asks_once_with_a_reason(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    with pytest.raises(ValidationError) as refused:
        ask(hub, appointment, reason=" ")
    assert refused.value.message_dict == {"reason": ["Say why, so the service can help."]}
    asked = ask(hub, appointment)
    assert (asked.wants, asked.better_times, asked.is_waiting) == ("rebook", "Afternoons", True)
    with pytest.raises(ValidationError, match="You have already asked about this appointment"):
        ask(hub, appointment, wants="cancel")
    assert AppointmentRequest.objects.count() == 1


def test_a_past_or_cancelled_appointment_cannot_be_asked_about(hub, episode):
    past = book(hub, episode, episode.started_at)
    with pytest.raises(ValidationError, match="can no longer be changed here"):
        ask(hub, past)


def test_the_service_rebooks_as_asked_and_the_student_is_told(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment)
    new = day_after_tomorrow_at(15)
    appointments.answer_appointment_request(
        actor=hub.practitioner, asked=asked, answer="rebooked", starts_at=new,
        message="See you then.",
    )  # fmt: skip
    asked.refresh_from_db()
    appointment.refresh_from_db()
    assert (asked.answer, asked.message, asked.answered_by) == (
        "rebooked", "See you then.", hub.practitioner,
    )  # fmt: skip
    assert (appointment.starts_at, appointment.move_reason) == (new, asked.reason)
    [told] = episode.student.notifications.filter(text__contains="answered your request")
    assert told.text.endswith(
        f"it has moved to {timezone.localtime(new).strftime('%A %-d %B at %H:%M')}."
    )
    # The answer told the student once: moving it as asked sent no second message.
    assert not episode.student.notifications.filter(text__contains="moved your appointment")


def test_a_rebooking_onto_a_clash_saves_nothing_and_the_request_still_waits(hub, episode):
    book(hub, episode, day_after_tomorrow_at(15))
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment)
    before = snapshot()
    with pytest.raises(ValidationError, match="already has an appointment from 15:00"):
        appointments.answer_appointment_request(
            actor=hub.practitioner, asked=asked, answer="rebooked",
            starts_at=day_after_tomorrow_at(15, 20),
        )  # fmt: skip
    asked.refresh_from_db()
    assert asked.is_waiting
    assert snapshot() == before


def test_the_service_cancels_as_asked(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment, wants="cancel", reason="Feeling better.")
    appointments.answer_appointment_request(actor=hub.practitioner, asked=asked, answer="cancelled")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by, appointment.cancel_reason) == (
        "cancelled", "student", "Feeling better.",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("wants", "answer", "problem"),
    [
        ("rebook", "kept", {"message": ["Tell the student why the appointment stays as it is."]}),
        ("rebook", "rebooked", {"starts_at": ["Give the new date and time."]}),
        ("cancel", "rebooked", {"answer": ["Choose an answer."]}),
        ("cancel", "", {"answer": ["Choose an answer."]}),
    ],
)
def test_an_answer_must_fit_the_request(hub, episode, wants, answer, problem):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment, wants=wants)
    with pytest.raises(ValidationError) as refused:
        appointments.answer_appointment_request(actor=hub.practitioner, asked=asked, answer=answer)
    assert refused.value.message_dict == problem
    asked.refresh_from_db()
    assert asked.is_waiting


def test_kept_with_a_reason_and_answered_only_once(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment, wants="cancel")
    appointments.answer_appointment_request(
        actor=hub.practitioner, asked=asked, answer="kept", message="Please come: it's a review."
    )
    assert Appointment.objects.get().status == "booked"
    with pytest.raises(ValidationError, match="already been answered"):
        appointments.answer_appointment_request(
            actor=hub.practitioner, asked=asked, answer="cancelled"
        )


def test_moving_or_cancelling_another_way_answers_a_waiting_request(hub, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(TEN))
    asked = ask(hub, appointment)
    appointments.cancel_appointment(
        actor=hub.practitioner, appointment=appointment, by="student", reason="Phoned in."
    )
    asked.refresh_from_db()
    assert asked.answer == "cancelled"
