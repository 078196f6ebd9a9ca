"""Demo feedback, "you said, we did" actions and advisory groups, after the demo referrals."""

import datetime as dt
import random

from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.feedback.models import (
    Action,
    ActionUpdate,
    AdvisoryGroup,
    Decision,
    Draft,
    Feedback,
    GroupAction,
    InvitationUsed,
    Meeting,
    Theme,
)
from joinedup.people.models import Student, User
from joinedup.referrals.models import Episode

COMMENTS = {
    "Waiting times": "I waited five weeks for a first appointment, which felt very long.",
    "Evening appointments": "Sessions clashed with my lectures; evenings would be easier.",
    "Feeling listened to": "My counsellor really listened and never rushed me.",
    "Knowing what happens next": "After the assessment nobody told me what would happen.",
}


def add_demo_feedback(hub, rng: random.Random) -> None:
    """Feedback on three in four ended episodes (a third of it anonymous), themes, two published
    actions at Northbridge Wellbeing, an advisory group with a meeting and a draft, and
    an open invitation for the demo student."""
    manager = User.objects.get(email="service-manager@demo.joinedup.example")
    wellbeing = hub["north_wellbeing"]
    themes = {name: Theme.objects.create(service=wellbeing, name=name) for name in COMMENTS}
    ended = Episode.objects.filter(ended_at__isnull=False, service=wellbeing).select_related(
        "student"
    )
    for index, episode in enumerate(ended.order_by("pk")):
        if index % 4 == 3:
            continue
        theme = rng.choice(list(COMMENTS))
        anonymous = index % 3 == 0
        feedback = Feedback.objects.create(
            service=episode.service,
            anonymous=anonymous,
            student=None if anonymous else episode.student,
            episode=None if anonymous else episode,
            given_in=episode.ended_at.date().replace(day=1),
            overall=rng.choice([3, 4, 4, 5, 5, 2]),
            listened_to=rng.choice([None, 3, 4, 5]),
            comment=COMMENTS[theme],
        )
        feedback.themes.add(themes[theme])
        InvitationUsed.objects.create(episode=episode)
    now = timezone.now()
    for title, theme, status in [
        ("Appointments until 8pm on Tuesdays and Thursdays", "Evening appointments", "done"),
        ("A letter after every assessment saying what happens next",
         "Knowing what happens next", "in_progress"),
    ]:  # fmt: skip
        action = Action.objects.create(
            organisation=hub["north"], service=wellbeing, title=title, created_by=manager,
            status=status, status_changed_at=now - dt.timedelta(days=5),
        )  # fmt: skip
        action.themes.add(themes[theme])
        ActionUpdate.objects.create(action=action, status="planned", by=manager)
        ActionUpdate.objects.create(action=action, status=status, by=manager, note="On track.")
    demo_student = Student.objects.get(user__email="student@demo.joinedup.example")
    _group(hub, demo_student)
    _ended_episode_for(demo_student, hub["north_counselling"], now)


def _group(hub, member) -> None:
    group = AdvisoryGroup.objects.create(
        organisation=hub["north"], service=hub["north_wellbeing"],
        name="Wellbeing student voices",
        purpose="Students who help decide how the wellbeing service runs.",
    )  # fmt: skip
    group.members.add(member)
    today = timezone.localdate()
    meeting = Meeting.objects.create(
        group=group, held_on=today - dt.timedelta(days=21),
        agenda="1. Opening hours\n2. The new self-referral form",
        minutes="Members asked for evening slots. The form was found too long.",
    )  # fmt: skip
    Decision.objects.create(
        group=group, meeting=meeting, decided_on=meeting.held_on,
        text="Pilot evening appointments for one term.",
    )  # fmt: skip
    GroupAction.objects.create(
        group=group, meeting=meeting, description="Shorten the self-referral form",
        owner="Service manager", due_on=today + dt.timedelta(days=14),
    )  # fmt: skip
    Draft.objects.create(
        group=group, title="A shorter self-referral form",
        body="We propose cutting the form from 24 questions to 9. The removed questions "
        "would be asked at the first appointment instead.",
        comments_close_on=today + dt.timedelta(days=10),
    )  # fmt: skip


def _ended_episode_for(student, service, now) -> None:
    """A finished episode, so the demo student sees a feedback invitation."""
    relationship = CareRelationship.objects.create(
        student=student, service=service, reason="episode",
        opened_at=now - dt.timedelta(days=120), closed_at=now - dt.timedelta(days=6),
        ended_because="episode_ended",
    )  # fmt: skip
    Episode.objects.create(
        student=student, service=service, relationship=relationship,
        started_at=relationship.opened_at, ended_at=relationship.closed_at,
        ending=Episode.Ending.PLANNED,
    )  # fmt: skip
