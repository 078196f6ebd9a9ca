"""Changes to people's records. Each one is audited."""

from django.db import transaction

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.people.models import Notification
from joinedup.people.tasks import email_notification


def update_trusted_contact(
    *,
    actor,
    student,
    trusted_contact_name,
    trusted_contact_relationship,
    trusted_contact_phone,
    trusted_contact_permission,
):
    """The student names a trusted contact and says when the university may contact them."""
    student.trusted_contact_name = trusted_contact_name
    student.trusted_contact_relationship = trusted_contact_relationship
    student.trusted_contact_phone = trusted_contact_phone
    student.trusted_contact_permission = trusted_contact_permission
    with transaction.atomic():
        student.save(
            update_fields=[
                "trusted_contact_name",
                "trusted_contact_relationship",
                "trusted_contact_phone",
                "trusted_contact_permission",
            ]
        )
        append(
            [
                Entry(
                    action="people.student.trusted_contact_changed",
                    actor=actor,
                    student=student,
                    category="identity",
                    actor_role="student",
                )
            ]
        )
    return student


def update_name_and_pronouns(*, actor, student, preferred_name: str, pronouns: str):
    """The student's preferred name and pronouns are theirs to set; every page uses them at
    once (the legal name stays for where it is needed)."""
    student.preferred_name = preferred_name.strip()
    student.pronouns = pronouns.strip()
    with transaction.atomic():
        student.save(update_fields=["preferred_name", "pronouns"])
        append(
            [
                Entry(
                    action="people.student.name_changed",
                    actor=actor,
                    student=student,
                    category="identity",
                    actor_role="student",
                )
            ]
        )
    return student


def notify_student(student, text: str) -> None:
    """Tell the student in their portal, and by email after commit."""
    notification = Notification.objects.create(student=student, text=text)
    transaction.on_commit(lambda: email_notification.enqueue(notification.pk))


def _student_chose(student, fields: dict, *, action: str, actor, reason="", request=None):
    """Save a choice the student made about their own record, audited as theirs."""
    for field, value in fields.items():
        setattr(student, field, value)
    with transaction.atomic():
        student.save(update_fields=list(fields))
        append(
            [
                Entry(
                    action=action,
                    actor=actor,
                    student=student,
                    category="identity",
                    actor_role="student",
                    reason=reason,
                    request_id=request_id_of(request),
                )
            ]
        )
    return student


def update_notifications(*, actor, student, notify_new_access: bool, notify_break_glass: bool):
    fields = {"notify_new_access": notify_new_access, "notify_break_glass": notify_break_glass}
    return _student_chose(
        student, fields, action="people.student.notifications_changed", actor=actor
    )


def update_language(*, actor, student, language: str):
    """The language the student chose for their pages, and for what is sent to them."""
    return _student_chose(
        student, {"language": language}, action="people.student.language_changed", actor=actor
    )


def update_national_data_opt_out(*, actor, student, opted_out: bool, request=None):
    """The student's national data opt-out as JoinedUp applies it: their NHS care is left
    out of the anonymised extracts made for research and planning."""
    return _student_chose(
        student,
        {"national_data_opt_out": opted_out},
        action="people.student.data_opt_out_changed",
        actor=actor,
        reason="opted out" if opted_out else "opted in",
        request=request,
    )
