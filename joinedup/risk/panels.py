"""Case review panels: schedule, agenda, attendance, decisions and actions. Members see a
case only inside the panel's window and only what the access policy allows; every view
of a case is audited through the policy."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import decide_many, readable_students, seats_of
from joinedup.consent.rules import Decision
from joinedup.people.models import Service, Student, User
from joinedup.risk import rules
from joinedup.risk.models import Panel, PanelAction, PanelCase, PanelMember

# The audit action of looking up the student a case is about, allowed or refused.
CASE_LOOKUP = "risk.panel.case_lookup"


def _audit(action, actor, student=None, reason="", request=None):
    append(
        [
            Entry(
                action,
                actor=actor,
                student=student,
                category="risk",
                reason=reason,
                request_id=request_id_of(request),
            )
        ]
    )


def _service_of(user) -> Service | None:
    seat = next((s for s in seats_of(user) if s.service_id), None)
    return Service.objects.get(pk=seat.service_id) if seat else None


def schedule_panel(*, actor, title: str, meets_at, request=None) -> Panel:
    if not title.strip():
        raise ValidationError({"title": _("Give the panel a title.")})
    if meets_at is None:
        raise ValidationError({"meets_at": _("Say when the panel meets.")})
    service = _service_of(actor)
    if service is None:
        raise ValidationError(_("Only a member of a service can schedule a panel."))
    with transaction.atomic():
        panel = Panel.objects.create(title=title.strip(), meets_at=meets_at, organiser=actor)
        PanelMember.objects.create(panel=panel, user=actor, service=service)
        _audit("risk.panel.scheduled", actor, reason=panel.title, request=request)
    return panel


def invite(*, actor, panel: Panel, email: str, request=None) -> PanelMember:
    user = User.objects.filter(
        email__iexact=email.strip(), memberships__service__isnull=False
    ).first()
    if user is None:
        raise ValidationError({"email": _("No member of a service has that email address.")})
    service = _service_of(user)
    member, _created = PanelMember.objects.get_or_create(
        panel=panel, user=user, defaults={"service": service}
    )
    _audit("risk.panel.invited", actor, reason=f"{panel.title}: {user.email}", request=request)
    return member


def add_case(*, actor, panel: Panel, student_number: str, summary: str, request=None) -> PanelCase:
    """Put a student the member may read on the agenda; the summary is the presenting
    service's. A number no student has is refused exactly as one the member may not read."""
    if not student_number.strip():
        raise ValidationError({"student_number": _("Say which student the case is about.")})
    if not summary.strip():
        raise ValidationError({"summary": _("Write why the case comes to the panel.")})
    student = _student_for_case(actor, student_number.strip(), request)
    if panel.cases.filter(student=student).exists():
        raise ValidationError({"student_number": _("This student is already on the agenda.")})
    with transaction.atomic():
        case = PanelCase.objects.create(
            panel=panel,
            student=student,
            summary=summary.strip(),
            service=_service_of(actor),
            added_by=actor,
        )
        _audit("risk.panel.case_added", actor, student, panel.title, request)
    return case


def _student_for_case(actor, number: str, request) -> Student:
    """The one student with this number whose identity the policy lets `actor` read, the
    decision audited; otherwise one refusal, audited, whether or not the number exists."""
    having = list(Student.objects.filter(student_number__iexact=number))
    readable = list(readable_students(actor, "identity", among=[s.pk for s in having]))
    if len(readable) > 1:
        raise ValidationError(
            {
                "student_number": _(
                    "More than one student you may see has that number; ask a service that "
                    "works with the student to present the case."
                )
            }
        )
    for student in readable or having:
        decision = decide_many(actor, student, ["identity"], request=request, action=CASE_LOOKUP)[
            "identity"
        ]
        if decision.allowed:
            return student
    if not having:
        append(
            [
                Entry(
                    CASE_LOOKUP,
                    actor=actor,
                    category="identity",
                    allowed=False,
                    basis="none",
                    reason="No student has the number given.",
                    request_id=request_id_of(request),
                )
            ]
        )
    raise ValidationError(
        {
            "student_number": _(
                "No student you may see has that number. Check the number, or ask a service "
                "that works with the student to present the case."
            )
        }
    )


def record_attendance(*, actor, panel: Panel, attended_ids: set[int], request=None) -> None:
    with transaction.atomic():
        for member in panel.members.all():
            member.attended = member.pk in attended_ids
            member.save(update_fields=["attended"])
        _audit("risk.panel.attendance", actor, reason=panel.title, request=request)


def record_decision(*, actor, case: PanelCase, decision: str, request=None) -> PanelCase:
    if not decision.strip():
        raise ValidationError({"decision": _("Write the panel's decision.")})
    case.decision = decision.strip()
    case.save(update_fields=["decision"])
    _audit("risk.panel.decision", actor, case.student, case.panel.title, request)
    return case


def add_action(
    *, actor, panel: Panel, description: str, owner, due_on, case=None, request=None
) -> PanelAction:
    errors = {}
    if not description.strip():
        errors["description"] = _("Describe the action.")
    if owner is None:
        errors["owner"] = _("Every action needs an owner.")
    if due_on is None:
        errors["due_on"] = _("Every action needs a due date.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = PanelAction.objects.create(
            panel=panel, case=case, owner=owner, due_on=due_on, description=description.strip()
        )
        _audit(
            "risk.panel.action_added",
            actor,
            case.student if case else None,
            action.description,
            request,
        )
    return action


def complete_action(*, actor, action: PanelAction, request=None) -> PanelAction:
    if action.owner_id != actor.pk:
        raise ValidationError(_("Only the action's owner can complete it."))
    if not PanelAction.objects.filter(pk=action.pk, completed_at__isnull=True).update(
        completed_at=timezone.now()
    ):
        raise ValidationError(_("This action is already complete."))
    _audit("risk.panel.action_completed", actor, reason=action.description, request=request)
    action.refresh_from_db()
    return action


# Reads ------------------------------------------------------------------------------------


def panels_for(user):
    return Panel.objects.filter(Q(members__user=user) | Q(organiser=user)).distinct()


def get_panel_for_user(user, panel_uuid) -> Panel:
    panel = panels_for(user).filter(uuid=panel_uuid).first()
    if panel is None:
        raise Http404("No such panel.")
    return panel


@dataclass
class CaseView:
    case: PanelCase
    visible: bool
    identity: Decision | None = None
    assessment: Decision | None = None

    @property
    def summary_shown(self) -> bool:
        """The summary is the presenting service's assessment of the case: shown where the
        policy lets the member read it."""
        return self.assessment is not None and self.assessment.may_read_row(self.case.service_id)


def cases_for(user, panel: Panel, *, request=None, now=None) -> list[CaseView]:
    """The panel's cases as this member may see them: inside the window, through the policy
    (each decision audited)."""
    now = now or timezone.now()
    is_member = panel.members.filter(user=user).exists()
    views = []
    for case in panel.cases.select_related("student", "service"):
        visible = rules.case_visible(
            now,
            is_member=is_member,
            added_at=case.added_at,
            meets_at=panel.meets_at,
            closed_at=panel.closed_at,
        )
        view = CaseView(case, visible)
        if visible:
            decisions = decide_many(
                user,
                case.student,
                ["identity", "assessment"],
                request=request,
                action="risk.panel.case_read",
            )
            view.identity, view.assessment = decisions["identity"], decisions["assessment"]
        views.append(view)
    return views


def open_actions_of(user):
    return PanelAction.objects.filter(owner=user, completed_at__isnull=True).select_related("panel")
