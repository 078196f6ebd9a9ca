"""One of each kind of thing My day shows, planted for a practitioner's allocated student."""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

import time_machine
from django.utils import timezone

from conftest import make_student
from joinedup.measures.models import RoutineMeasure
from joinedup.record.tests.factories import draft_note, signed_note
from joinedup.referrals.appointments import book_appointment
from joinedup.referrals.episodes import allocate_episode
from joinedup.referrals.services import open_episode
from joinedup.referrals.work.services import set_task
from joinedup.risk import services as risk


@dataclass
class Day:
    student: object
    episode: object
    appointment: object
    draft: object
    flag: object
    assessment: object
    task: object


def start_of_today() -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time.min))


@contextmanager
def day_under_way():
    """The day's 00:30 appointment (`plant_day`) is over: an hour into the day, whenever the
    test runs. Time only moves forward (a session cookie set now stays valid)."""
    under_way = start_of_today() + dt.timedelta(hours=1)
    if timezone.now() >= under_way:
        yield
        return
    with time_machine.travel(under_way):
        yield


def allocated_student(hub, number: str, practitioner=None, **fields):
    """A student of Northbridge in an open Wellbeing episode allocated to Priya (or
    `practitioner`), started yesterday, with PHQ-9 routine (session 1 is due)."""
    student = make_student(hub.university, number, **fields)
    RoutineMeasure.objects.get_or_create(service=hub.wellbeing, code="PHQ-9")
    episode = open_episode(
        actor=hub.practitioner, student=student, service=hub.wellbeing,
        started_at=start_of_today() - dt.timedelta(days=1),
    )  # fmt: skip
    allocate_episode(
        actor=hub.practitioner, episode=episode, practitioner=practitioner or hub.practitioner
    )
    return student, episode


def plant_day(hub, number="NB3000001", minutes=30) -> Day:
    """Jordan Reyes, allocated to Priya: an appointment today, a draft note, a flag to
    acknowledge, a risk review due today, a task due today; PHQ-9 is due."""
    student, episode = allocated_student(
        hub, number, legal_given_name="Jordan", legal_family_name="Reyes", preferred_name=""
    )
    appointment = book_appointment(
        actor=hub.practitioner, episode=episode, kind="treatment", clinician=hub.practitioner,
        starts_at=start_of_today() + dt.timedelta(minutes=minutes), place="Student Centre 2.14",
    )  # fmt: skip
    signed_note(hub.practitioner, student, "Second session: sleep better.")
    draft = draft_note(hub.practitioner, student, "Talked about the resit.")
    flag = risk.raise_flag(
        student=student, service=hub.wellbeing, level=risk.level_of_rank(3),
        source="practitioner", reason="Said they had stopped eating.", actor=hub.practitioner,
    )  # fmt: skip
    assessment = risk.record_assessment(
        actor=hub.practitioner, student=student, service=hub.wellbeing,
        domain_levels={"self": 2}, factors="Exam stress.", plan="Weekly sessions.",
        review_on=timezone.localdate(),
    )  # fmt: skip
    task = set_task(
        actor=hub.practitioner, service=hub.wellbeing, assignee=hub.practitioner,
        student=student, title="Write to the exams office", due_on=timezone.localdate(),
    )  # fmt: skip
    return Day(student, episode, appointment, draft, flag, assessment, task)
