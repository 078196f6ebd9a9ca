"""Reads of tasks. Who a task is about, and what it says, are read as a case note of its
service (category `notes`, through the access policy): anyone else who meets the task (a
manager, a colleague whose service no longer cares for the student) is told it is held by
that service, never shown nothing. A task about no one is read by whoever meets it."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from joinedup.consent.policy import audit_listing, readable_rows, seats_of
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.work import rules
from joinedup.referrals.work.services import clinical_services_of

# More open tasks than a person can act on are a backlog to clear, not a page to scroll.
LIMIT = 200


@dataclass
class TaskRow:
    task: FollowUpTask
    shown: bool  # who it is about and what it says
    overdue: bool
    may_complete: bool

    @property
    def held_by(self) -> str:
        """Who holds what is not shown (its service)."""
        return "" if self.shown else self.task.service.name


@dataclass
class TaskList:
    mine: list[TaskRow] = field(default_factory=list)
    team: list[TaskRow] = field(default_factory=list)
    set_by_me: list[TaskRow] = field(default_factory=list)
    # Overdue tasks of the services the user manages.
    overdue: list[TaskRow] = field(default_factory=list)
    is_manager: bool = False
    is_clinical: bool = False


def managed_services_of(user) -> set[int]:
    return {s.service_id for s in seats_of(user) if s.service_id and s.role == "service_manager"}


def shown_ids(user, tasks: list[FollowUpTask]) -> set[int]:
    """The tasks whose student and text the user may read: each about no one, and those the
    policy lets through as its service's case notes (two policy queries for them all)."""
    about = [t for t in tasks if t.student_id is not None]
    shown = {t.pk for t in tasks if t.student_id is None}
    if about:
        rows = readable_rows(
            user,
            "notes",
            FollowUpTask.objects.filter(pk__in=[t.pk for t in about]),
            among=sorted({t.student_id for t in about}),
        )
        shown |= set(rows.values_list("pk", flat=True))
    return shown


def rows_for(user, tasks: list[FollowUpTask], *, now=None, request=None) -> list[TaskRow]:
    """Each task as the user may see it, each student shown audited (constant queries)."""
    now = now or timezone.now()
    shown = shown_ids(user, tasks)
    clinical = clinical_services_of(user)
    audit_listing(
        user,
        [t.student for t in tasks if t.student_id is not None and t.pk in shown],
        action="referrals.tasks.listed",
        reason="Listed among tasks.",
        request=request,
        categories=lambda student: ("identity", "notes"),
    )
    return [
        TaskRow(
            task,
            task.pk in shown,
            rules.is_overdue(task.due_at, task.completed_at, now),
            rules.may_complete(user.pk, task.assignee_id, task.service_id, clinical),
        )
        for task in tasks
    ]


def task_list_for(user, *, request=None) -> TaskList:
    """The user's open tasks: set for them, for their teams (anyone there may do them), and
    those they set for others; a manager's services' overdue tasks. Constant queries."""
    now = timezone.now()
    clinical = set(clinical_services_of(user))
    managed = managed_services_of(user)
    wanted = (
        Q(assignee=user)
        | Q(service_id__in=clinical)
        | Q(created_by=user)
        | Q(service_id__in=managed, due_at__lt=now)
    )
    tasks = list(
        FollowUpTask.objects.filter(wanted, completed_at__isnull=True)
        .select_related("student", "service", "assignee", "created_by")
        .order_by("due_at", "pk")[:LIMIT]
    )
    found = TaskList(is_manager=bool(managed), is_clinical=bool(clinical))
    for row in rows_for(user, tasks, now=now, request=request):
        task = row.task
        if task.assignee_id == user.pk:
            found.mine.append(row)
        elif task.service_id in clinical:
            found.team.append(row)
        if task.created_by_id == user.pk and task.assignee_id != user.pk:
            found.set_by_me.append(row)
        if task.service_id in managed and row.overdue:
            found.overdue.append(row)
    return found


def get_task_for_user(user, task_uuid) -> FollowUpTask:
    """An open or done task the user may mark done (`rules.may_complete`); else 404."""
    task = (
        FollowUpTask.objects.filter(uuid=task_uuid)
        .filter(Q(assignee=user) | Q(service_id__in=list(clinical_services_of(user))))
        .select_related("student", "service")
        .first()
    )
    if task is None:
        raise Http404("No such task.")
    return task
