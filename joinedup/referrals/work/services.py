"""Setting tasks and marking them done: each in a transaction, audited, refused in words
(`rules`) before anything is saved."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import decide_for_service, entry_for, seats_of
from joinedup.consent.rules import CLINICAL_ROLES
from joinedup.people.models import Membership, Service, Student, User
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.work import rules


def clinical_services_of(user) -> dict[int, str]:
    """The services the user works in as a clinician (id → name), in which they set tasks
    and whose team's tasks they may do."""
    return {
        s.service_id: s.service_name
        for s in seats_of(user)
        if s.service_id and s.role in CLINICAL_ROLES
    }


def _audit(action: str, actor, task: FollowUpTask, request) -> Entry:
    """A task about a student is audited as that service's case note; one about no one
    names no student."""
    if task.student_id is not None:
        return entry_for(
            action, actor, task.student, category="notes", service=task.service, request=request
        )
    return Entry(action, actor=actor, reason=task.reason, request_id=request_id_of(request))


def set_task(
    *,
    actor: User,
    service: Service,
    title: str,
    due_on: dt.date,
    assignee: User | None = None,
    student: Student | None = None,
    detail: str = "",
    request=None,
) -> FollowUpTask:
    """Set a task for `service`'s team, or for `assignee` in it, due by the end of `due_on`,
    about `student` or no one. Refused, with every reason at once, when it has no title,
    is due in the past, goes to a service the author does not work in or a person who does
    not work in it, or is about a student that service does not care for (its staff could
    not read it)."""
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Say what needs doing.")]
    if problem := rules.due_on_problem(due_on, timezone.localdate()):
        errors["due_on"] = [problem]
    assignee_services = (
        set(
            Membership.objects.filter(
                user=assignee, role__in=CLINICAL_ROLES, service__isnull=False
            ).values_list("service_id", flat=True)
        )
        if assignee is not None
        else set()
    )
    problem = rules.assignment_problem(
        clinical_services_of(actor),
        service.pk,
        str(assignee) if assignee is not None else None,
        assignee_services,
    )
    if problem:
        errors["assign_to"] = [problem]
    elif student is not None:
        in_care = decide_for_service(service, student, "notes")
        if in_care.basis != "relationship":
            errors["assign_to"] = [
                _(
                    "%(service)s is not working with this student now, so no one there "
                    "could read this task."
                )
                % {"service": service.name}
            ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = FollowUpTask.objects.create(
            student=student,
            service=service,
            assignee=assignee,
            reason=title.strip(),
            detail=detail.strip(),
            created_by=actor,
            due_at=rules.due_at_for(due_on, timezone.get_current_timezone()),
        )
        append([_audit("referrals.task.set", actor, task, request)])
    return task


def complete_task(*, actor: User, task: FollowUpTask, outcome: str = "", request=None):
    """Mark a task done, by the person it is for or anyone in its team; a follow-up after
    NHS crisis care says what was done (`rules.needs_outcome`). Done once: a second try is
    refused, saying so."""
    clinical = clinical_services_of(actor)
    if not rules.may_complete(actor.pk, task.assignee_id, task.service_id, clinical):
        raise ValidationError(
            _("Only the person it is for, or someone in %(service)s, can mark it done.")
            % {"service": task.service.name}
        )
    if rules.needs_outcome(task.is_follow_up) and not outcome.strip():
        raise ValidationError({"outcome": _("Say what was done.")})
    with transaction.atomic():
        updated = FollowUpTask.objects.filter(pk=task.pk, completed_at__isnull=True).update(
            completed_at=timezone.now(), completed_by=actor, outcome=outcome.strip()
        )
        if not updated:
            raise ValidationError(_("This task has already been marked done."))
        append([_audit("referrals.task.done", actor, task, request)])
    task.refresh_from_db()
    return task
