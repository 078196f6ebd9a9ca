"""The log of data protection rights requests made outside the portal: each logged with its
statutory clock, extended once where the law allows, and closed with its answer. Audited."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import append
from joinedup.consent.models import Category
from joinedup.governance import rules
from joinedup.governance.models import RightsRequest
from joinedup.governance.selectors import (
    administered_by,
    organisations_reviewed_by,
    require_admin_of,
)
from joinedup.governance.services import admin_entry
from joinedup.people.models import Organisation, Service, Student, User
from joinedup.referrals.models import FollowUpTask
from joinedup.referrals.work.rules import due_at_for


def requests_of(user: User) -> QuerySet[RightsRequest]:
    """My organisations' requests: those still open first, the oldest (most urgent) first."""
    return (
        RightsRequest.objects.filter(organisation_id__in=organisations_reviewed_by(user))
        .select_related("organisation", "logged_by")
        .order_by(F("responded_on").asc(nulls_first=True), "received_on", "pk")
    )


def due_soon(user: User) -> int:
    """How many open requests are overdue or due within a week (`rules.SOON`): the count
    beside "Rights requests" in the header. One query."""
    today = timezone.localdate()
    open_ones = RightsRequest.objects.filter(
        organisation_id__in=administered_by(user), responded_on__isnull=True
    ).values_list("received_on", "extended")
    return sum(
        1 for received_on, extended in open_ones
        if (rules.response_due(received_on, extended=extended) - today).days <= rules.SOON
    )  # fmt: skip


def log_request(*, actor: User, organisation: Organisation, request=None, **fields
                ) -> RightsRequest:  # fmt: skip
    require_admin_of(actor, organisation.pk)
    _refuse_bad(organisation, fields)
    with transaction.atomic():
        row = RightsRequest.objects.create(organisation=organisation, logged_by=actor, **fields)
        append([admin_entry(
            actor, request, organisation=organisation, action="governance.rights.logged",
            reason=f"{row.kind} request {row.uuid}, received {row.received_on}, due {row.due_on}",
        )])  # fmt: skip
    return row


# What a request's details may be corrected in, while it is open.
CORRECTABLE = ("kind", "received_on", "received_by", "requester", "student_number", "details")


def correct(*, actor: User, row: RightsRequest, why: str, request=None, **fields
            ) -> RightsRequest:  # fmt: skip
    """Put right the details a request was logged with, while it is open, saying why. A
    different day received moves the statutory clock, so the log keeps the old and new day
    and when the answer is now due, with the reason."""
    _check(actor, row)
    if row.responded_on is not None:
        raise ValidationError(_("This request has been answered: its details are kept as they "
                                "were."))  # fmt: skip
    unsaid = "" if why.strip() else _("Say why the details are being corrected.")
    _refuse_bad(row.organisation, fields, why=unsaid)
    changed = [
        name for name in CORRECTABLE if name in fields and fields[name] != getattr(row, name)
    ]
    if not changed:
        return row
    was_received, was_due = row.received_on, row.due_on
    with transaction.atomic():
        for name in changed:
            setattr(row, name, fields[name])
        row.save(update_fields=changed)
        clock = (f"; received {was_received} → {row.received_on}, due {was_due} → {row.due_on}"
                 if "received_on" in changed else "")  # fmt: skip
        append([admin_entry(
            actor, request, organisation=row.organisation, action="governance.rights.corrected",
            reason=f"{row.uuid}: {', '.join(changed)} corrected{clock}. Why: {why.strip()}",
        )])  # fmt: skip
    return row


def _refuse_bad(organisation: Organisation, fields: dict, **more: str) -> None:
    """Refuse a request's details, every problem at once (with `more` already found)."""
    problems = {name: problem for name, problem in more.items() if problem}
    if problem := rules.received_problem(fields["received_on"], timezone.localdate()):
        problems["received_on"] = problem
    number = fields.get("student_number", "").strip()
    if (
        number
        and not Student.records.filter(
            Q(university=organisation) | Q(care_relationships__service__organisation=organisation),
            student_number__iexact=number,
        ).exists()
    ):
        problems["student_number"] = _(
            "No student of %(org)s has that number: check it, or leave it empty."
        ) % {"org": organisation.name}  # fmt: skip
    if problems:
        raise ValidationError(problems)


def extend(*, actor: User, row: RightsRequest, reason: str, request=None) -> RightsRequest:
    """Two more months, once, for a complex request or one of many: the requester must be
    told within the first month, with the reason."""
    _check(actor, row)
    if row.extended:
        raise ValidationError(_("The time has been extended already: it can be only once."))
    if not reason.strip():
        raise ValidationError({"extension_reason": _(
            "Say why: the request is complex, or one of several from the same person."
        )})  # fmt: skip
    if timezone.localdate() > row.due_on:
        raise ValidationError(_("The month has passed: time can only be extended within it."))
    with transaction.atomic():
        row.extended, row.extension_reason = True, reason.strip()
        row.save(update_fields=["extended", "extension_reason"])
        append([admin_entry(
            actor, request, organisation=row.organisation, action="governance.rights.extended",
            reason=f"{row.uuid} due {row.due_on}: {row.extension_reason}",
        )])  # fmt: skip
    return row


def answer(*, actor: User, row: RightsRequest, outcome: str, responded_on, response: str,
           request=None) -> RightsRequest:  # fmt: skip
    _check(actor, row)
    if row.responded_on is not None:
        raise ValidationError(_("This request has been answered already."))
    if problems := rules.rights_response_problems(
        received_on=row.received_on, outcome=outcome, responded_on=responded_on,
        response=response, today=timezone.localdate(),
    ):  # fmt: skip
        raise ValidationError(problems)
    with transaction.atomic():
        row.outcome, row.responded_on, row.response = outcome, responded_on, response.strip()
        row.save(update_fields=["outcome", "responded_on", "response"])
        late = (responded_on - row.due_on).days
        append([admin_entry(
            actor, request, organisation=row.organisation, action="governance.rights.answered",
            reason=f"{row.uuid}: {outcome} on {responded_on}"
            + (f", {late} days late" if late > 0 else ""),
        )])  # fmt: skip
    return row


def services_holding(row: RightsRequest) -> tuple[Student | None, list[Service]]:
    """The student a request names (by its student number), and the services of its
    organisation that have held them in their care, now or before: those whose records the
    request reaches. Shown to an admin only once asked (`ask_services`, audited)."""
    number = row.student_number.strip()
    student = (
        Student.records.filter(
            Q(university=row.organisation_id)
            | Q(care_relationships__service__organisation=row.organisation_id),
            student_number__iexact=number,
        ).first()
        if number else None
    )  # fmt: skip
    if student is None:
        return None, []
    services = Service.objects.filter(
        organisation=row.organisation_id, care_relationships__student=student
    ).distinct().order_by("name")  # fmt: skip
    return student, list(services)


# The services finish a week before the answer is due, to leave time to send it.
SERVICES_AHEAD = timedelta(days=7)


def ask_services(*, actor: User, row: RightsRequest, request=None) -> list[FollowUpTask]:
    """Set each service that holds the student's records a task to prepare what the request
    needs from them (a copy, a correction, an erasure), due a week before the answer (or
    today). The admin sees whether each is done, never what the records say: the people who
    may read them prepare it. Asked once."""
    _check(actor, row)
    if row.responded_on is not None:
        raise ValidationError(_("This request has been answered."))
    if row.service_tasks.exists():
        raise ValidationError(_("The services have been asked already."))
    student, services = services_holding(row)
    if student is None:
        raise ValidationError(
            _(
                "Give the student's number (under “Correct the details”), "
                "so that the services holding their records can be found."
            )
        )
    if not services:
        raise ValidationError(_("No service of %(org)s has held this student in its care: "
                                "there are no records of theirs to prepare.")
                              % {"org": row.organisation.name})  # fmt: skip
    today = timezone.localdate()
    due_on = max(today, row.due_on - SERVICES_AHEAD)
    kind = str(RightsRequest.Kind(row.kind).label).split(":")[0]
    with transaction.atomic():
        tasks = [
            FollowUpTask.objects.create(
                student=student, service=service, created_by=actor,
                reason=_("Rights request (%(kind)s): prepare what it needs from our records")
                % {"kind": kind.lower()},
                detail=_("Received on %(received)s; the answer is due by %(due)s. Prepare what "
                         "the request needs from this service's records, check it for anything "
                         "that must be withheld, and tell %(who)s when it is ready.")
                % {"received": f"{row.received_on:%-d %B %Y}", "due": f"{row.due_on:%-d %B %Y}",
                   "who": actor.email},
                due_at=due_at_for(due_on, timezone.get_current_timezone()),
            )
            for service in services
        ]  # fmt: skip
        row.service_tasks.add(*tasks)
        # Which services held the student is what the admin learns: audited as a read of
        # their engagement, so it is in the student's own record of who has looked.
        append([admin_entry(
            actor, request, organisation=row.organisation, student=student,
            category=Category.ENGAGEMENT, action="governance.rights.services_asked",
            reason=f"{row.uuid}: {', '.join(s.name for s in services)} asked, due {due_on}",
        )])  # fmt: skip
    return tasks


def _check(actor: User, row: RightsRequest) -> None:
    require_admin_of(actor, row.organisation_id)
