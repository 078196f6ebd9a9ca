"""Demo rows for My day: whatever day the demo is loaded, the demo practitioner (Priya,
Wellbeing) and counsellor (Colin, Counselling) each find one of every kind of item today,
a student whose newer risk assessment the Crisis Team holds, and a task they set for a
colleague. Built through the services a practitioner's own actions go through."""

import datetime as dt

from django.utils import timezone

from joinedup.consent.services import open_care_relationship
from joinedup.people.models import Membership, Student, User
from joinedup.record.services import write_note
from joinedup.referrals.episodes import allocate_episode
from joinedup.referrals.models import Appointment
from joinedup.referrals.services import open_episode
from joinedup.referrals.work.services import set_task
from joinedup.risk import services as risk

# Per demo login: its service, a colleague there (who sets it a task and is set one), and
# two students: the first with a full day, the second one the Crisis Team assessed last.
DAYS = [
    {
        "handle": "practitioner", "service": "north_wellbeing",
        "place": "Wellbeing hub, level 2, room 4",
        "colleague": "dev.patel@wellbeing.northbridge.example",
        "students": [("N2498001", "Maya", "Lindqvist", "she/her"),
                     ("N2498002", "Theo", "Barnes", "he/him")],
        "draft": "Maya is sleeping four hours a night before the January exams. Agreed a wind-"
                 "down routine and to ask History about a deadline extension.",
        "flag": "Told reception she had not eaten for two days and felt she could not cope.",
        "task": "Ask the exams office about Maya's deferral",
        "for_colleague": "Phone Maya's GP practice about a medication review",
        "for_me": "Send Maya the sleep workbook we talked about",
    },
    {
        "handle": "counsellor", "service": "north_counselling",
        "place": "Counselling Service, Hollis Building, room 3",
        "colleague": "hana.ito@counselling.northbridge.example",
        "students": [("N2498003", "Kwame", "Asante", "he/him"),
                     ("N2498004", "Lucy", "Ferreira", "she/her")],
        "draft": "Kwame talked about his father's illness and the pull to go home. Explored "
                 "what staying for the term would need.",
        "flag": "Left a voicemail saying he did not see the point any more.",
        "task": "Write to Kwame's personal tutor about an interruption of studies",
        "for_colleague": "Cover Kwame's next session while I am on leave",
        "for_me": "Check Kwame has the crisis line numbers",
    },
]  # fmt: skip
COUNSELLING_COLLEAGUE = ("Hana", "Ito")


def add_demo_days(hub) -> None:
    """One of each kind of My day item, today, for the demo practitioner and counsellor."""
    now = timezone.now()
    today = timezone.localdate(now)
    _counselling_colleague(hub)
    cara = User.objects.get(email="nhs-clinician@demo.joinedup.example")
    for plan in DAYS:
        me = User.objects.get(email=f"{plan['handle']}@demo.joinedup.example")
        colleague = User.objects.get(email=plan["colleague"])
        service = hub[plan["service"]]
        first, second = (_allocated(hub, me, service, row, now) for row in plan["students"])

        student, episode = first
        noon = _today_at(today, 12)
        for days in (-7, 0, 7):  # last week's, today's, next week's
            _appointment(episode, me, noon + dt.timedelta(days=days), now, plan["place"])
        write_note(actor=me, student=student, contact_kind="session",
                   contact_at=now - dt.timedelta(days=7), body=plan["draft"])  # fmt: skip
        risk.record_assessment(
            actor=me, student=student, service=service, domain_levels={"self": 2},
            factors="Exam pressure, poor sleep, isolated in halls.",
            plan="Weekly sessions; review after the exams.", review_on=today,
        )  # fmt: skip
        risk.raise_flag(student=student, service=service, level=risk.level_of_rank(3),
                        source="practitioner", reason=plan["flag"], actor=colleague)  # fmt: skip
        set_task(actor=colleague, service=service, assignee=me, student=student,
                 title=plan["for_me"], due_on=today)  # fmt: skip
        set_task(actor=me, service=service, assignee=me, student=student,
                 title=plan["task"], due_on=today)  # fmt: skip
        set_task(actor=me, service=service, assignee=colleague, student=student,
                 title=plan["for_colleague"], due_on=today + dt.timedelta(days=2))  # fmt: skip

        # The second student: seen by the Crisis Team last night, which has not shared its
        # assessment with this service; My day names who holds the level.
        student, episode = second
        _appointment(episode, me, noon - dt.timedelta(days=3), now, plan["place"])
        open_care_relationship(student=student, service=hub["crisis"], reason="referral")
        risk.record_assessment(
            actor=cara, student=student, service=hub["crisis"], domain_levels={"self": 3},
            factors="Seen out of hours after an argument at home.",
            plan="Home treatment team for a week.", review_on=today + dt.timedelta(days=7),
        )  # fmt: skip


def _counselling_colleague(hub) -> None:
    """A second counsellor at Northbridge (not a demo login), for Colin to share work with."""
    first, last = COUNSELLING_COLLEAGUE
    user = User.objects.create_user(
        f"{first.lower()}.{last.lower()}@counselling.northbridge.example", None,
        first_name=first, last_name=last,
    )  # fmt: skip
    Membership.objects.create(
        user=user, organisation=hub["north"], service=hub["north_counselling"], role="practitioner"
    )


def _allocated(hub, me, service, row, now):
    number, given, family, pronouns = row
    student = Student.objects.create(
        university=hub["north"], department=hub["north_history"], student_number=number,
        legal_given_name=given, legal_family_name=family, pronouns=pronouns,
        date_of_birth=dt.date(2005, 2, 11), gp_practice=hub["gps"][0],
        email=f"{given.lower()}.{family.lower()}@north.demo.joinedup.example",
    )  # fmt: skip
    episode = open_episode(
        actor=me, student=student, service=service, started_at=now - dt.timedelta(days=21)
    )
    allocate_episode(actor=me, episode=episode, practitioner=me)
    return student, episode


def _today_at(today: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today, dt.time(hour)))


def _appointment(episode, clinician, starts_at, now, place):
    """An appointment at lunchtime, when the demo diaries are free: attended once it has
    started, booked until then."""
    started = starts_at <= now
    return Appointment.objects.create(
        episode=episode, clinician=clinician, starts_at=starts_at, kind="treatment",
        place=place, status="attended" if started else "booked", recorded_by=clinician,
    )  # fmt: skip
