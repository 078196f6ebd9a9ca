"""The pages of a service's working day: who may open them, bad input answered next to its
field with nothing saved, and the diary naming students only as the policy allows, in a
constant number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.referrals import appointments, episodes
from joinedup.referrals.models import Appointment, AppointmentRequest, Episode
from joinedup.referrals.tests.factories import (
    WALK_IN_BIRTHDAY,
    book,
    day_after_tomorrow_at,
    second_clinician,
    walk_in_student,
    walked_in,
)


def get(client, user, name, *args, query=""):
    client.force_login(user)
    response = client.get(reverse(name, args=args) + query)
    return response.status_code, response.content.decode()


def post(client, user, name, *args, **data):
    client.force_login(user)
    return client.post(reverse(name, args=args), data)


def error_of(html: str, field_id: str) -> str:
    """The text of the error shown next to a field (the NHS.UK error message)."""
    start = html.index(f'id="{field_id}_error"')
    return html[html.index(">", start) + 1 : html.index("</span>\n", start)]


@pytest.fixture
def episode(hub):
    return walked_in(hub, practitioner=hub.practitioner)


# A walk-in --------------------------------------------------------------------------------


def test_a_walk_in_is_found_and_the_episode_opens(hub, client):
    sam = walk_in_student(hub)
    assert get(client, hub.practitioner, "referrals:episode-create")[0] == 200
    response = post(
        client, hub.practitioner, "referrals:episode-create", service=hub.wellbeing.pk,
        student_number="NB2000001", date_of_birth=WALK_IN_BIRTHDAY.isoformat(),
    )  # fmt: skip
    episode = Episode.objects.get(student=sam)
    assert response.url == reverse("referrals:episode-detail", args=[episode.uuid])


def test_a_walk_in_that_matches_no_one_is_told_so_next_to_the_number(hub, client):
    walk_in_student(hub)
    response = post(
        client, hub.practitioner, "referrals:episode-create", service=hub.wellbeing.pk,
        student_number="NB2000001", date_of_birth="2003-01-03",
    )  # fmt: skip
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_student_number").endswith(
        "No student of University of Northbridge has this student number with this date of "
        "birth. Check both with the student."
    )
    assert not Episode.objects.exists()


@pytest.mark.parametrize("who", ["academic", "researcher", "org_admin", "service_manager"])
def test_only_clinicians_open_episodes(hub, client, who):
    assert get(client, getattr(hub, who), "referrals:episode-create")[0] == 403


def test_an_episode_opens_from_a_record_the_practitioner_reads(hub, client):
    url = "referrals:student-episode-create"
    assert get(client, hub.practitioner, url, hub.student.uuid)[0] == 200
    response = post(client, hub.practitioner, url, hub.student.uuid, service=hub.wellbeing.pk)
    episode = Episode.objects.get()
    assert response.url == reverse("referrals:episode-detail", args=[episode.uuid])
    assert get(client, hub.outsider, url, hub.student.uuid)[0] == 404


def test_the_record_links_to_the_services_episodes(hub, client):
    episode = walked_in(hub, hub.student)
    _, html = get(client, hub.practitioner, "record:student-detail", hub.student.uuid)
    assert reverse("referrals:episode-detail", args=[episode.uuid]) in html
    assert "Open an episode" in html
    _, html = get(client, hub.liaison, "record:student-detail", hub.student.uuid)
    assert str(episode.uuid) not in html  # another service's episode is not linked


# The episode page -------------------------------------------------------------------------


def test_the_episode_page_shows_allocation_appointments_and_no_referral(hub, client, episode):
    book(hub, episode, day_after_tomorrow_at(10))
    status, html = get(client, hub.practitioner, "referrals:episode-detail", episode.uuid)
    assert status == 200
    assert "No referral: opened by the service" in html
    assert "Sam Okafor" in html
    assert "Student Centre 2.14" in html
    assert "Book appointment" in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("counsellor", 404), ("crisis_practitioner", 404), ("liaison", 404),
     ("academic", 403), ("researcher", 403), ("service_manager", 403)],
)  # fmt: skip
def test_people_outside_the_service_cannot_open_the_episode_or_its_appointments(
    hub, client, episode, who, status
):
    appointment = book(hub, episode, day_after_tomorrow_at(10))
    user = getattr(hub, who)
    assert get(client, user, "referrals:episode-detail", episode.uuid)[0] == status
    assert get(client, user, "referrals:appointment-detail", appointment.uuid)[0] == status
    response = post(client, user, "referrals:appointment-cancel", appointment.uuid,
                    cancelled_by="service", reason="Mine now.")  # fmt: skip
    assert response.status_code == status
    assert Appointment.objects.get().status == "booked"


def test_allocation_to_someone_outside_the_service_is_refused_next_to_the_field(
    hub, client, episode
):
    response = post(
        client, hub.practitioner, "referrals:episode-allocate", episode.uuid,
        practitioner=hub.counsellor.pk,
    )  # fmt: skip
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_practitioner").endswith(
        "That person is not a practitioner of this service: choose one of its practitioners."
    )
    wes = second_clinician(hub)
    response = post(
        client, hub.practitioner, "referrals:episode-allocate", episode.uuid, practitioner=wes.pk
    )
    assert response.status_code == 302
    assert Episode.objects.get().practitioner == wes


def test_a_clash_is_refused_next_to_the_time_and_nothing_is_booked(hub, client, episode):
    book(hub, episode, day_after_tomorrow_at(10))
    response = post(
        client, hub.practitioner, "referrals:episode-appointment-create", episode.uuid,
        starts_at=day_after_tomorrow_at(10, 20).strftime("%Y-%m-%dT%H:%M"), length=50,
        kind="treatment", clinician=hub.practitioner.pk, place="Room 1",
    )  # fmt: skip
    assert response.status_code == 400
    assert "Priya already has an appointment from 10:00 to 10:50" in error_of(
        response.content.decode(), "id_starts_at"
    )
    assert Appointment.objects.count() == 1


def test_a_booking_from_the_episode_page(hub, client, episode):
    at = day_after_tomorrow_at(11)
    response = post(
        client, hub.practitioner, "referrals:episode-appointment-create", episode.uuid,
        starts_at=timezone.localtime(at).strftime("%Y-%m-%dT%H:%M"), length=30,
        kind="assessment", clinician=hub.practitioner.pk,
        video_link="https://video.example/wellbeing/priya",
    )  # fmt: skip
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.starts_at, appointment.minutes, appointment.video_link) == (
        at, 30, "https://video.example/wellbeing/priya",
    )  # fmt: skip


def test_the_end_of_an_episode_needs_its_ending(hub, client, episode):
    response = post(client, hub.practitioner, "referrals:episode-end", episode.uuid)
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_ending").endswith(
        "Choose how the episode ended."
    )
    response = post(client, hub.practitioner, "referrals:episode-end", episode.uuid,
                    ending="transferred")  # fmt: skip
    assert response.status_code == 302
    assert Episode.objects.get().ending == "transferred"


def test_an_ended_episode_is_read_and_changed_no_more(hub, client, episode):
    episodes.close_episode(actor=hub.practitioner, episode=episode, ending="planned")
    status, html = get(client, hub.practitioner, "referrals:episode-detail", episode.uuid)
    assert status == 200
    assert "Book appointment" not in html
    assert "Ended on" in html
    response = client.post(
        reverse("referrals:episode-allocate", args=[episode.uuid]),
        {"practitioner": hub.practitioner.pk},
        follow=True,
    )
    assert "This episode can no longer be changed." in response.content.decode()
    assert Episode.objects.get().allocated_at == episode.allocated_at


# The appointment page ---------------------------------------------------------------------


def test_moving_into_the_past_is_refused_next_to_the_time(hub, client, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(10))
    past = timezone.localtime() - dt.timedelta(hours=2)
    response = post(
        client, hub.practitioner, "referrals:appointment-move", appointment.uuid,
        starts_at=past.strftime("%Y-%m-%dT%H:%M"), length=50, clinician=hub.practitioner.pk,
        by="student", reason="Asked by phone.",
    )  # fmt: skip
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_move_starts_at").endswith(
        "An appointment can only move to a time still to come."
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == day_after_tomorrow_at(10)


def test_a_cancellation_without_a_reason_is_refused_next_to_the_reason(hub, client, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(10))
    response = post(client, hub.practitioner, "referrals:appointment-cancel", appointment.uuid,
                    cancelled_by="student")  # fmt: skip
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_cancel_reason").endswith(
        "Say why the appointment is cancelled."
    )
    assert Appointment.objects.get().status == "booked"


def test_attended_from_the_episode_page_goes_back_there(hub, client, episode):
    appointment = book(hub, episode, episode.started_at)
    page = reverse("referrals:episode-detail", args=[episode.uuid])
    response = post(client, hub.practitioner, "referrals:appointment-record", appointment.uuid,
                    status="attended", next=page)  # fmt: skip
    assert response.url == page
    assert Appointment.objects.get().status == "attended"


def test_the_service_answers_a_request_from_the_appointment_page(hub, client, episode):
    appointment = book(hub, episode, day_after_tomorrow_at(10))
    asked = appointments.ask_about_appointment(
        actor=None, appointment=appointment, wants="rebook", reason="Exam that morning."
    )
    _, html = get(client, hub.practitioner, "referrals:appointment-detail", appointment.uuid)
    assert "Exam that morning." in html
    url = "referrals:appointment-request-answer"
    response = post(client, hub.practitioner, url, asked.uuid, answer="kept")
    assert response.status_code == 400
    assert error_of(response.content.decode(), "id_answer_message").endswith(
        "Tell the student why the appointment stays as it is."
    )
    new = day_after_tomorrow_at(16)
    response = post(client, hub.practitioner, url, asked.uuid, answer="rebooked",
                    starts_at=timezone.localtime(new).strftime("%Y-%m-%dT%H:%M"))  # fmt: skip
    assert response.status_code == 302
    assert AppointmentRequest.objects.get().answer == "rebooked"
    assert Appointment.objects.get().starts_at == new
    assert post(client, hub.counsellor, url, asked.uuid, answer="kept").status_code == 404


# The diary --------------------------------------------------------------------------------


@pytest.fixture
def week(hub, episode):
    """Priya and Wes each with appointments this week, and a student asking to change one."""
    wes = second_clinician(hub)
    other = walked_in(hub, walk_in_student(hub, "NB2000002"), practitioner=wes)
    first = book(hub, episode, day_after_tomorrow_at(10))
    book(hub, other, day_after_tomorrow_at(10), clinician=wes, place="Room 3")
    appointments.ask_about_appointment(
        actor=None, appointment=first, wants="cancel", reason="Going home early."
    )
    return wes


def diary_query(days_ahead=2, span="day") -> str:
    on = timezone.localdate() + dt.timedelta(days=days_ahead)
    return f"?on={on.isoformat()}&span={span}"


def test_the_service_diary_shows_each_clinicians_row_with_the_students_named(hub, client, week):
    status, html = get(client, hub.practitioner, "referrals:diary", query=diary_query())
    assert status == 200
    assert html.count("data-clinician=") == 2
    assert "Sam Okafor" in html
    assert "Room 3" in html
    assert "Going home early." in html
    assert AuditEvent.objects.filter(action="referrals.diary.listed").count() == 4
    for appointment in Appointment.objects.all():  # each opens its own page
        assert f'href="{reverse("referrals:appointment-detail", args=[appointment.uuid])}"' in html
    assert html.count("10:00–10:50") == 2
    assert html.count("· Assessment") == 2


def test_the_diary_says_how_an_appointment_went(hub, client, episode):
    held = book(hub, episode, day_after_tomorrow_at(9))
    yesterday = held.starts_at - dt.timedelta(days=3)
    Appointment.objects.filter(pk=held.pk).update(
        starts_at=yesterday, status="attended", kind="review"
    )
    _, html = get(client, hub.practitioner, "referrals:diary", query=diary_query(-1))
    assert "· Review · Attended" in html


def test_a_service_manager_sees_the_time_taken_but_no_student(hub, client, week):
    status, html = get(client, hub.service_manager, "referrals:diary", query=diary_query())
    assert status == 200
    assert "Booked (not shown to you)" in html
    assert "Sam Okafor" not in html
    assert "Going home early." not in html
    assert "Room 3" not in html


def test_the_week_shows_seven_days(hub, client, week):
    _, html = get(client, hub.practitioner, "referrals:diary", query=diary_query(span="week"))
    assert html.count('role="columnheader"') == 8


def test_a_clinicians_diary_is_theirs_alone_and_only_for_their_services_members(hub, client, week):
    url = "referrals:diary-clinician"
    status, html = get(client, hub.practitioner, url, week.uuid, query=diary_query())
    assert status == 200
    assert html.count("data-clinician=") == 1
    assert "Room 3" in html
    assert get(client, hub.outsider, url, week.uuid)[0] == 404
    assert get(client, hub.counsellor, url, week.uuid)[0] == 404
    assert get(client, hub.practitioner, url, hub.counsellor.uuid)[0] == 404  # not Wellbeing's


@pytest.mark.parametrize("who", ["academic", "researcher", "org_admin"])
def test_no_diary_without_a_service(hub, client, who):
    assert get(client, getattr(hub, who), "referrals:diary")[0] in (403, 404)


def test_the_diary_takes_the_same_queries_however_full(hub, client, episode):
    client.force_login(hub.practitioner)
    url = reverse("referrals:diary") + diary_query(span="week")

    def counted() -> int:
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    book(hub, episode, day_after_tomorrow_at(9))
    one = counted()
    for n in range(5):
        student = walk_in_student(hub, f"NB30000{n}")
        other = walked_in(hub, student)
        booked = book(hub, other, day_after_tomorrow_at(11 + n))
        appointments.ask_about_appointment(
            actor=None, appointment=booked, wants="cancel", reason="Away."
        )
    assert counted() == one
