"""What each side reads of the messages: the threads and their unread counts."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from joinedup.consent.policy import Reader, readable_rows
from joinedup.messaging.models import Message
from joinedup.people.models import Service, Student
from joinedup.referrals.directory.rules import reads_like_crisis
from joinedup.referrals.selectors import clinical_service_ids


def unread_by_service(user: Reader) -> int:
    """Messages from students to the user's services that nobody there has read yet, among
    those the policy lets the user read (two small queries; none without a clinical seat)."""
    services = clinical_service_ids(user)
    if not services:
        return 0
    unread = Message.objects.filter(service_id__in=services, from_student=True, read_at=None)
    students = set(unread.values_list("student_id", flat=True))
    if not students:
        return 0
    return readable_rows(user, "engagement", unread, among=students).count()


def dressed(
    messages: list[Message], *, by_student: bool, filing: Service | None = None
) -> list[Message]:
    """The messages of a thread as a page shows them: who wrote each (a person of a service
    with the service's name; to staff, the student by name), whether the reader's side wrote
    it, whether (to staff) a student's message reads like a crisis, and whether the reader
    may file it into `filing`'s notes. Messages from the other side not read before are new
    (the first of them is where the page's "go to new messages" lands)."""
    seen_new = False
    for message in messages:
        if message.from_student:
            message.author_label = _("You") if by_student else message.student.display_name
        else:
            name = message.author.get_full_name() or message.service.name
            message.author_label = f"{name}, {message.service.name}"
        message.own = message.from_student == by_student
        message.looks_like_crisis = (
            not by_student and message.from_student and reads_like_crisis(message.body)
        )
        message.can_file = filing is not None and message.service_id == filing.pk
        message.is_new = not message.own and message.read_at is None
        message.first_new = message.is_new and not seen_new
        seen_new = seen_new or message.is_new
    return messages


def unread_by_student(student: Student) -> int:
    return Message.objects.filter(student=student, from_student=False, read_at=None).count()


@dataclass(frozen=True)
class Thread:
    student: Student
    service: Service
    latest: datetime
    unread: int
    unread_crisis: bool = False  # an unread message from the student reads like a crisis


def inbox_of(user: Reader) -> list[Thread]:
    """The threads of the user's services that the policy lets them read, those with unread
    messages first, then the latest first."""
    services = clinical_service_ids(user)
    rows = readable_rows(user, "engagement", Message.objects.filter(service_id__in=services))
    grouped = list(
        rows.order_by()
        .values("student_id", "service_id")
        .annotate(latest=Max("sent_at"),
                  unread=Count("pk", filter=Q(from_student=True, read_at=None)))
        .order_by("-unread", "-latest")
    )  # fmt: skip
    students = Student.objects.in_bulk({g["student_id"] for g in grouped})
    by_id = Service.objects.in_bulk({g["service_id"] for g in grouped})
    unread = rows.filter(from_student=True, read_at=None).values_list(
        "student_id", "service_id", "body"
    )
    crisis = {(student, service) for student, service, body in unread if reads_like_crisis(body)}
    return [
        Thread(
            students[g["student_id"]],
            by_id[g["service_id"]],
            g["latest"],
            g["unread"],
            (g["student_id"], g["service_id"]) in crisis,
        )
        for g in grouped
    ]
