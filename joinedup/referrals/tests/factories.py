import datetime as dt

from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.people.models import Role
from joinedup.referrals.appointments import book_appointment
from joinedup.referrals.episodes import open_walk_in_episode
from joinedup.referrals.services import create_referral


def refer(hub, *, to=None, frm=None, actor=None, send=True, **fields):
    """The hub student referred from Wellbeing to Talking Therapies unless told otherwise."""
    return create_referral(
        actor=actor or hub.practitioner,
        student=hub.student,
        from_service=frm or hub.wellbeing,
        to_service=to or hub.talking,
        source="service",
        reason=fields.pop("reason", "Low mood for three months; wants talking therapy."),
        send=send,
        **fields,
    )


def day_after_tomorrow_at(hour: int, minute: int = 0) -> dt.datetime:
    """A moment still to come, in UK time, on the day after tomorrow."""
    day = timezone.localdate() + dt.timedelta(days=2)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def second_clinician(hub):
    """Wes, a second practitioner of Wellbeing."""
    return make_staff("wes@nb.ac.uk", Role.PRACTITIONER, hub.university, service=hub.wellbeing)


WALK_IN_BIRTHDAY = dt.date(2003, 1, 2)


def walk_in_student(hub, number="NB2000001"):
    """Sam, a student of Northbridge no service knows yet."""
    return make_student(
        hub.university, number, legal_given_name="Samira", legal_family_name="Okafor",
        preferred_name="Sam", date_of_birth=WALK_IN_BIRTHDAY,
    )  # fmt: skip


def walked_in(hub, student=None, practitioner=None):
    """An episode of Wellbeing opened for a student who walked in (no referral)."""
    return open_walk_in_episode(
        actor=hub.practitioner,
        student=student or walk_in_student(hub),
        service=hub.wellbeing,
        practitioner=practitioner,
    )


def book(hub, episode, starts_at, *, clinician=None, minutes=50, **fields):
    """An appointment in the episode with Priya (unless named), 50 minutes, in a room."""
    return book_appointment(
        actor=hub.practitioner, episode=episode, starts_at=starts_at,
        kind=fields.pop("kind", "assessment"), clinician=clinician or hub.practitioner,
        length=dt.timedelta(minutes=minutes), place=fields.pop("place", "Student Centre 2.14"),
        **fields,
    )  # fmt: skip
