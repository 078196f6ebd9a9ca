"""Sending, reading and filing messages. Each is audited in category `engagement` (a
message filed into notes is audited as a note)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from joinedup.audit.services import append
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import entry_for
from joinedup.messaging import rules
from joinedup.messaging.models import Message
from joinedup.messaging.tasks import tell_student_of_message
from joinedup.people.models import Service, Student, User
from joinedup.record.models import ContactKind, RecordEntry
from joinedup.record.services import NOT_IN_CARE, write_note, writing_service
from joinedup.referrals.directory.rules import reads_like_crisis
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.tasks import email_follow_up

NO_PORTAL = gettext_lazy(
    "%(name)s has not signed in to JoinedUp, so they could not read a message here. Call or "
    "email them instead."
)


def in_care_with(student: Student) -> list[Service]:
    """The services the student can write to: those caring for them now (an open episode),
    and a service they were referred to once it has written to them. A referral alone does
    not open a line to a service (a crisis team need not read messages)."""
    open_ = CareRelationship.objects.open().filter(student=student)
    wrote = Message.objects.filter(student=student, from_student=False).values("service_id")
    caring = open_.filter(Q(reason=CareRelationship.Reason.EPISODE) | Q(service_id__in=wrote))
    return list(
        Service.objects.filter(pk__in=caring.values("service_id"))
        .select_related("organisation")
        .order_by("name")
    )


def _check(body: str) -> str:
    problem = rules.problem_with(body)
    if problem:
        raise ValidationError({"body": problem})
    return body.strip()


def send_from_student(
    *, actor: User, student: Student, service: Service, body: str, request=None
) -> Message:
    """The student writes to a service working with them now."""
    text = _check(body)
    if service not in in_care_with(student):
        raise ValidationError(
            _("%(service)s is not working with you now, so it cannot take messages.")
            % {"service": service.name}
        )
    with transaction.atomic():
        message = Message.objects.create(
            student=student, service=service, from_student=True, author=actor, body=text
        )
        append([entry_for("messaging.message.sent", actor, student, category="engagement",
                          request=request)])  # fmt: skip
        if reads_like_crisis(text):
            _follow_up_now(message)
    return message


def _follow_up_now(message: Message) -> None:
    """A message that may describe a crisis is work due now for its service, in its tasks
    and My day, and its clinicians are emailed (the email names neither the student nor the
    words); undone, it reaches the service's managers as every overdue follow-up does."""
    now = timezone.now()
    task = FollowUpTask.objects.create(
        student=message.student, service=message.service, created_at=now, due_at=now,
        reason=_("Read a message from the student that may describe a crisis, and answer it"),
    )  # fmt: skip
    transaction.on_commit(lambda: email_follow_up.enqueue(task.pk))


def send_from_service(*, actor: User, student: Student, body: str, request=None) -> Message:
    """A member of a service working with the student writes to them; the student is told
    there is a message (never what it says) by email, and by text if that is how they
    chose to be reminded."""
    text = _check(body)
    service = writing_service(actor, student)
    if service is None:
        raise ValidationError(NOT_IN_CARE)
    if student.user_id is None:
        raise ValidationError(NO_PORTAL % {"name": student.display_name})
    with transaction.atomic():
        message = Message.objects.create(
            student=student, service=service, from_student=False, author=actor, body=text
        )
        append([entry_for("messaging.message.sent", actor, student, category="engagement",
                          service=service, request=request)])  # fmt: skip
        transaction.on_commit(lambda: tell_student_of_message.enqueue(message.pk))
    return message


def mark_read(*, reader: User, messages: list[Message], by_student: bool) -> int:
    """The other side's messages in `messages` not read before are read now, by `reader`."""
    unread = [m.pk for m in messages if m.from_student != by_student and m.read_at is None]
    if not unread:
        return 0
    return Message.objects.filter(pk__in=unread, read_at__isnull=True).update(
        read_at=timezone.now(), read_by=reader
    )


def file_into_notes(*, actor: User, message: Message, request=None) -> RecordEntry:
    """File a message of the thread into the service's notes: a draft clinical note of the
    contact, for its author to check and sign. The note stays with the service."""
    if message.filed_note_id is not None:
        raise ValidationError(_("This message is in your notes already."))
    student = message.student
    if writing_service(actor, student) != message.service:
        raise ValidationError(NOT_IN_CARE)
    who = student.display_name if message.from_student else message.author.get_full_name()
    body = _("Message from %(who)s:\n\n%(body)s") % {"who": who, "body": message.body}
    with transaction.atomic():
        note = write_note(
            actor=actor, student=student, contact_kind=ContactKind.MESSAGE,
            contact_at=message.sent_at, body=body, request=request,
        )  # fmt: skip
        # Two clicks at once: the second finds it filed, and its note is not kept.
        if not Message.objects.filter(pk=message.pk, filed_note=None).update(filed_note=note):
            raise ValidationError(_("This message is in your notes already."))
    return note
