"""Demo messages: the story student's conversation with Northbridge Wellbeing (the latest
from the student, not read yet), and the service's messages to a few other students (who
sign in to the portal, though not in the demo), some read."""

import datetime as dt

from django.utils import timezone

from joinedup.consent.models import CareRelationship
from joinedup.messaging.models import Message
from joinedup.people.models import Student, User

STORY = [
    (
        False,
        10 * 24,
        "Hi Jo, thank you for coming in today. Your next session is on Thursday, as we "
        "agreed: it is under My appointments. Write here if anything changes.",
    ),
    (
        True,
        8 * 24 + 6,
        "Thank you. Could we talk about my History deadlines next time? I have two essays "
        "due soon.",
    ),
    (False, 8 * 24 + 4, "Of course. Bring the dates and we will look at what can be moved."),
    (True, 2, "I have the dates now. The essays are due on the 14th and the 16th."),
]
OTHERS = [
    "We have a cancellation on Friday at 10am, if you would like an earlier appointment.",
    "Here is the sleep course we talked about: it is listed under Self-help in Services.",
    "We missed you at your session today. Reply here to book another time.",
]


def add_demo_messages(hub, story_student: Student) -> None:
    now = timezone.now()
    practitioner = User.objects.get(email="practitioner@demo.joinedup.example")
    wellbeing = hub["north_wellbeing"]
    rows = [
        Message(
            student=story_student, service=wellbeing, from_student=from_student,
            author=story_student.user if from_student else practitioner, body=body,
            sent_at=now - dt.timedelta(hours=hours),
            read_at=None if hours == 2 else now - dt.timedelta(hours=hours - 1),
            read_by=None if hours == 2 else (practitioner if from_student else story_student.user),
        )
        for from_student, hours, body in STORY
    ]  # fmt: skip
    open_here = (
        CareRelationship.objects.open().filter(service=wellbeing).exclude(student=story_student)
    )
    for n, relationship in enumerate(open_here.select_related("student__user").order_by("pk")[:3]):
        student = relationship.student
        if student.user is None:  # a portal account (no password in the demo) to read it in
            student.user = User.objects.create_user(
                f"{student.student_number.lower()}@student.demo.joinedup.example", None
            )
            student.save(update_fields=["user"])
        rows.append(Message(
            student=relationship.student, service=wellbeing, from_student=False,
            author=practitioner, body=OTHERS[n], sent_at=now - dt.timedelta(hours=5 + 20 * n),
        ))  # fmt: skip
    Message.objects.bulk_create(rows)
