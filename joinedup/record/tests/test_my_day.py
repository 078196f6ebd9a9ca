"""My day: where a practitioner lands, one of each kind of item due today, each with the
page it is dealt with; what the policy withholds named, never absent; constant queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from joinedup.audit.models import AuditEvent
from joinedup.consent.services import record_consent
from joinedup.record.tests.my_day_factories import allocated_student, day_under_way, plant_day
from joinedup.referrals.appointments import (
    answer_appointment_request,
    ask_about_appointment,
    book_appointment,
)
from joinedup.referrals.tests.factories import refer, second_clinician
from joinedup.referrals.work.services import set_task
from joinedup.risk import services as risk

MY_DAY = reverse("record:my-day")


def _get(client, user) -> str:
    client.force_login(user)
    response = client.get(MY_DAY)
    assert response.status_code == 200
    return response.content.decode()


def test_clinical_staff_land_on_my_day_and_it_comes_first_in_their_menu(hub, client):
    client.force_login(hub.practitioner)
    assert client.get("/").headers["Location"] == MY_DAY
    html = client.get(MY_DAY).content.decode()
    menu = html[html.index('aria-label="Menu"') : html.index("</nav>")]
    assert menu.index(">My day<") < menu.index(">Caseload<")


@pytest.mark.parametrize("who", ["service_manager", "academic", "org_admin", "student_user"])
def test_only_clinical_staff_have_a_day_page(hub, client, who):
    client.force_login(getattr(hub, who))
    assert client.get(MY_DAY).status_code == 403


@pytest.fixture
def under_way():
    with day_under_way():
        yield


def test_each_kind_of_item_shows_with_the_page_it_is_dealt_with(under_way, hub, client):
    day = plant_day(hub)
    html = _get(client, hub.practitioner)
    student = day.student
    expected = {
        "appointment": reverse("referrals:appointment-detail", args=[day.appointment.uuid]),
        "draft": reverse("record:note-detail", args=[day.draft.uuid]),
        "questionnaire": reverse("measures:outcomes", args=[student.uuid]),
        "flag": reverse("risk:flag-acknowledge", args=[day.flag.uuid]),
        "review": reverse("risk:student-risk", args=[student.uuid]),
        "task": reverse("referrals:tasks"),
        "caseload": reverse("record:student-detail", args=[student.uuid]),
        "episode": reverse("referrals:episode-detail", args=[day.episode.uuid]),
    }
    for what, url in expected.items():
        assert f'"{url}"' in html, what
    assert "Said they had stopped eating." in html
    assert "Write to the exams office" in html
    assert "session 1: PHQ-9" in html
    # The caseload row: next appointment none (today's was at 00:30), last contact today.
    row = html[html.index(f'data-case="{day.episode.uuid}"') :]
    row = row[: row.index("</tr>")]
    assert "None booked" in row
    assert timezone.localdate().strftime("%-d %b %Y") in row
    assert "Moderate" in row


def test_a_student_asking_to_change_my_appointment_shows_until_it_is_answered(hub, client):
    day = plant_day(hub)
    tomorrow = book_appointment(
        actor=hub.practitioner, episode=day.episode, kind="treatment", clinician=hub.practitioner,
        starts_at=timezone.now() + dt.timedelta(days=1), place="Student Centre 2.14",
    )  # fmt: skip
    asked = ask_about_appointment(
        actor=hub.practitioner, appointment=tomorrow, wants="cancel", reason="I am unwell."
    )
    url = reverse("referrals:appointment-detail", args=[tomorrow.uuid])
    html = _get(client, hub.practitioner)
    requests = html[html.index('data-my-day="requests"') :]
    assert f'"{url}"' in requests
    assert "asks to cancel" in requests
    assert "I am unwell." not in html  # its reason is read where it is answered
    # Another clinician's appointment is theirs to answer.
    assert 'data-my-day="requests"' not in _get(client, second_clinician(hub))

    answer_appointment_request(
        actor=hub.practitioner, asked=asked, answer="kept", message="We will call you first."
    )

    assert "No student is asking to change an appointment." in _get(client, hub.practitioner)


def test_a_flag_past_its_time_to_acknowledge_says_it_is_overdue(hub, client):
    day = plant_day(hub)
    flags = _get(client, hub.practitioner).split('data-my-day="flags"')[1]
    assert "data-overdue" not in flags.split("</ul>")[0]

    type(day.flag).objects.filter(pk=day.flag.pk).update(
        due_at=timezone.now() - dt.timedelta(minutes=1)
    )

    flags = _get(client, hub.practitioner).split('data-my-day="flags"')[1]
    assert "Overdue" in flags.split("</ul>")[0]


def test_referrals_waiting_for_my_service_are_counted_with_the_waiting_list(hub, client):
    refer(hub, to=hub.wellbeing, frm=hub.counselling)
    refer(hub, to=hub.talking)  # another service's to decide

    html = _get(client, hub.practitioner)

    referrals = html.split('data-my-day="referrals"')[1].split("</ul>")[0]
    assert "1 referral to Wellbeing waits to be accepted or declined." in referrals
    assert "Talking" not in referrals
    assert f'"{reverse("referrals:waiting-list")}"' in html


def test_questionnaires_are_those_of_todays_sessions_and_the_rest_are_counted(hub, client):
    plant_day(hub)  # Jordan: seen today, PHQ-9 due
    later, _episode = allocated_student(hub, "NB3000002", legal_given_name="Robin")

    html = _get(client, hub.practitioner)

    today = html.split('data-my-day="questionnaires"')[1].split("</ul>")[0]
    assert "Jordan" in today
    assert later.display_name not in today
    rest = html.split('data-my-day="questionnaires-later"')[1].split("</p>")[0]
    assert "1 more is due at a later session" in rest
    assert f'"{reverse("measures:worklist")}"' in rest


def test_nothing_due_says_so(hub, client):
    html = _get(client, hub.practitioner)
    for words in (
        "No appointments today.", "No drafts waiting to be signed.",
        "No questionnaires are due at today's sessions.",
        "No flags are waiting.", "No risk reviews are due.", "No tasks are due.",
        "No episodes are allocated to you.",
    ):  # fmt: skip
        assert words in html


def test_only_todays_and_my_own_things_show(hub, client):
    wes = second_clinician(hub)
    student, _episode = allocated_student(hub, "NB3000002", practitioner=wes)
    set_task(actor=hub.practitioner, service=hub.wellbeing, assignee=hub.practitioner,
             title="Due next week", due_on=timezone.localdate() + dt.timedelta(days=7))  # fmt: skip
    set_task(actor=hub.practitioner, service=hub.wellbeing, assignee=wes, title="For Wes",
             due_on=timezone.localdate())  # fmt: skip
    set_task(actor=hub.practitioner, service=hub.wellbeing, title="For the team",
             due_on=timezone.localdate())  # fmt: skip
    html = _get(client, hub.practitioner)
    assert "Due next week" not in html
    assert "For Wes" not in html
    assert "For the team" in html
    assert student.display_name not in html  # allocated to Wes, not to me


def test_a_risk_level_another_service_holds_says_who_holds_it(hub, client):
    day = plant_day(hub)
    crisis = hub.crisis
    from joinedup.consent.services import open_care_relationship

    open_care_relationship(student=day.student, service=crisis, reason="referral")
    risk.record_assessment(
        actor=hub.crisis_practitioner, student=day.student, service=crisis,
        domain_levels={"self": 4}, factors="Overdose last night.", plan="Home treatment.",
        review_on=timezone.localdate() + dt.timedelta(days=3),
    )  # fmt: skip
    html = _get(client, hub.practitioner)
    row = html[html.index(f'data-case="{day.episode.uuid}"') :]
    row = row[: row.index("</tr>")]
    assert "assessed since by Crisis Team — not shared with you" in row
    assert "Not assessed" not in row
    # With the student's consent, the newer level itself shows.
    record_consent(
        actor=day.student.user or hub.practitioner, student=day.student, category="risk",
        purpose="direct_care", how_given="in_person", recipient_service=hub.wellbeing,
    )  # fmt: skip
    html = _get(client, hub.practitioner)
    row = html[html.index(f'data-case="{day.episode.uuid}"') :]
    assert "not shared with you" not in row[: row.index("</tr>")]


def test_students_named_are_audited(hub, client):
    day = plant_day(hub)
    _get(client, hub.practitioner)
    events = AuditEvent.objects.filter(action="record.my_day.listed", student=day.student)
    assert set(events.values_list("category", flat=True)) == {"identity", "risk"}


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(MY_DAY).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_caseload(
    hub, client, django_assert_max_num_queries
):
    plant_day(hub, "NB3000001")
    client.force_login(hub.practitioner)
    client.get(MY_DAY)  # warm per-process caches
    with_one = _queries(client)
    for n in range(2, 8):
        plant_day(hub, f"NB300000{n}", minutes=60 * n)
    with_seven = _queries(client)
    assert with_seven == with_one
    with django_assert_max_num_queries(with_one):
        client.get(MY_DAY)


def test_unread_messages_from_students_are_counted_on_my_day(hub, client):
    from joinedup.messaging.services import send_from_student

    send_from_student(actor=hub.student_user, student=hub.student, service=hub.wellbeing,
                      body="Can we talk about my deadlines?")  # fmt: skip
    client.force_login(hub.practitioner)
    page = client.get(reverse("record:my-day")).content.decode()
    assert "1 message nobody in your service has read yet" in page
    client.force_login(hub.counsellor)
    assert 'data-my-day="messages"' not in client.get(reverse("record:my-day")).content.decode()
