"""Recording risk: assessments, flags, acknowledgement and escalation. Each is audited in
category `risk`; emails carry no clinical content."""

from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import entry_for, service_ids_of
from joinedup.people.models import CLINICAL_ROLES, User
from joinedup.record.models import RecordEntry
from joinedup.risk import rules, tasks
from joinedup.risk.levels import ensure_default_levels
from joinedup.risk.models import (
    Domain,
    Escalation,
    Flag,
    ReturnToStudyPlan,
    RiskAssessment,
    RiskLevel,
    SafetyPlan,
)

# A questionnaire's positive risk item, and a crisis contact, raise a flag at this level.
AUTOMATIC_LEVEL = {"questionnaire": 3, "crisis_contact": 3}


_entry = partial(entry_for, category="risk")


def level_of_rank(rank: int) -> RiskLevel:
    ensure_default_levels()
    return RiskLevel.objects.get(rank=rank)


def record_assessment(
    *,
    actor,
    student,
    service,
    domain_levels: dict[str, int | None],
    factors: str,
    plan: str,
    review_on,
    protective_factors: str = "",
    request=None,
) -> RiskAssessment:
    """A structured risk assessment; its level is the highest of the domains rated."""
    ensure_default_levels()
    levels = {lvl.rank: lvl for lvl in RiskLevel.objects.all()}
    rated = {d: r for d, r in domain_levels.items() if r is not None}
    errors = {}
    if unknown := set(rated) - set(Domain.values):
        errors["domain_levels"] = _("Unknown domains: %(d)s.") % {"d": ", ".join(sorted(unknown))}
    elif not rated:
        errors["domain_levels"] = _("Rate at least one domain.")
    elif any(rank not in levels for rank in rated.values()):
        errors["domain_levels"] = _("Choose a level from the shared risk language.")
    if not factors.strip():
        errors["factors"] = _("Describe the risk factors.")
    if not plan.strip():
        errors["plan"] = _("Write the plan.")
    if review_on is None or review_on < timezone.localdate():
        errors["review_on"] = _("The review date must be today or later.")
    if errors:
        raise ValidationError(errors)
    top = rules.overall({d: levels[r].as_rule() for d, r in rated.items()})
    with transaction.atomic():
        assessment = RiskAssessment.objects.create(
            student=student,
            service=service,
            author=actor,
            domain_levels=rated,
            level=levels[top.rank],
            factors=factors.strip(),
            protective_factors=protective_factors.strip(),
            plan=plan.strip(),
            review_on=review_on,
        )
        append(
            [
                _entry(
                    "risk.assessment.recorded",
                    actor,
                    student,
                    request=request,
                    service=service,
                    reason=top.name,
                )
            ]
        )
    return assessment


def raise_flag(
    *,
    student,
    service,
    level: RiskLevel | None,
    source: str,
    reason: str,
    actor=None,
    request=None,
    administration=None,
) -> Flag:
    """Raise a flag for the services in the student's care to acknowledge in time."""
    if level is None:
        raise ValidationError({"level": _("Choose the flag's level.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you are raising the flag.")})
    now = timezone.now()
    with transaction.atomic():
        flag = Flag.objects.create(
            student=student,
            service=service,
            level=level,
            source=source,
            reason=reason.strip()[:300],
            raised_by=actor,
            administration=administration,
            raised_at=now,
            due_at=rules.due_at(now, level.as_rule()),
        )
        append(
            [
                _entry(
                    "risk.flag.raised",
                    actor,
                    student,
                    request=request,
                    service=service,
                    reason=f"{level.name}: {source}",
                )
            ]
        )
        transaction.on_commit(lambda: tasks.email_flag_raised.enqueue(flag.pk))
    return flag


def raise_automatic_flag(
    *, student, service, source: str, reason: str, administration=None
) -> Flag:
    """A flag from a questionnaire's risk item or a crisis contact (no one raised it by hand)."""
    return raise_flag(
        student=student,
        service=service,
        source=source,
        reason=reason,
        level=level_of_rank(AUTOMATIC_LEVEL[source]),
        administration=administration,
    )


def acknowledge_flag(*, actor, flag: Flag, request=None) -> Flag:
    """Acknowledge: only a member of a service with an open care relationship may."""
    caring = set(
        CareRelationship.objects.open()
        .filter(student=flag.student, service_id__in=service_ids_of(actor))
        .values_list("service_id", flat=True)
    )
    if not caring:
        raise ValidationError(
            _("Only a service with a care relationship with the student can acknowledge this flag.")
        )
    with transaction.atomic():
        updated = Flag.objects.filter(pk=flag.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=actor
        )
        if not updated:
            raise ValidationError(_("This flag has already been acknowledged."))
        append(
            [
                _entry(
                    "risk.flag.acknowledged",
                    actor,
                    flag.student,
                    request=request,
                    reason=flag.level.name,
                )
            ]
        )
    flag.refresh_from_db()
    return flag


def assign_flag(*, actor, flag: Flag, practitioner, request=None) -> Flag:
    """A service manager the flag escalated to asks one practitioner of their service, in
    the student's care, to act on it now; the practitioner is emailed (no clinical content)
    and finds the flag on their worklist. Refused in words when the flag is acknowledged
    already or the person chosen may not act on it."""
    if flag.acknowledged_at is not None:
        raise ValidationError(_("This flag has been acknowledged already: nothing to assign."))
    if practitioner is None or not flag_responders(actor, flag).filter(pk=practitioner.pk).exists():
        raise ValidationError(
            {"practitioner": _("Choose a practitioner of your service in the student's care.")}
        )
    with transaction.atomic():
        Flag.objects.filter(pk=flag.pk).update(
            assigned_to=practitioner, assigned_by=actor, assigned_at=timezone.now()
        )
        append(
            [
                Entry(
                    "risk.flag.assigned",
                    actor=actor,
                    student=flag.student,
                    category="risk",
                    reason=f"Asked {practitioner.email} to act on a {flag.level.name} flag.",
                    request_id=request_id_of(request),
                )
            ]
        )
        transaction.on_commit(lambda: tasks.email_flag_assigned.enqueue(flag.pk))
    flag.refresh_from_db()
    return flag


def flag_responders(manager, flag: Flag):
    """Who a manager may ask to act on a flag: the clinical staff of the manager's own
    services that are in the student's care (they may acknowledge it)."""
    caring = CareRelationship.objects.open().filter(
        student=flag.student, service_id__in=service_ids_of(manager)
    )
    return (
        User.objects.filter(
            memberships__service_id__in=caring.values("service_id"),
            memberships__role__in=CLINICAL_ROLES,
            is_active=True,
        )
        .distinct()
        .order_by("first_name", "last_name", "email")
    )


def escalate_flags(now=None) -> list[Escalation]:
    """Move each unacknowledged flag along its escalation route, recording each step."""
    now = now or timezone.now()
    escalations = []
    for flag in Flag.objects.filter(acknowledged_at__isnull=True, due_at__lte=now).select_related(
        "level", "student"
    ):
        stage = rules.escalation_stage(flag.raised_at, flag.level.as_rule(), now)
        if stage <= flag.escalation_stage:
            continue
        with transaction.atomic():
            if not Flag.objects.filter(
                pk=flag.pk, escalation_stage__lt=stage, acknowledged_at__isnull=True
            ).update(escalation_stage=stage):
                continue
            recipients = tasks.escalation_recipients(flag, stage)
            escalation = Escalation.objects.create(
                flag=flag, stage=stage, sent_to=recipients, at=now
            )
            append(
                [
                    Entry(
                        "risk.flag.escalated",
                        student=flag.student,
                        category="risk",
                        reason=f"stage {stage}: {', '.join(recipients)}",
                    )
                ]
            )
            transaction.on_commit(lambda pk=escalation.pk: tasks.email_escalation.enqueue(pk))
            escalations.append(escalation)
    return escalations


SAFETY_PLAN_FIELDS = (
    "warning_signs",
    "things_that_help",
    "people_and_places",
    "professional_contacts",
    "crisis_numbers",
    "making_safer",
)


def save_safety_plan(*, actor, student, service, request=None, **values) -> SafetyPlan:
    """Write the safety plan with the student. Staff may write every part; the student only
    theirs (`SafetyPlan.STUDENT_FIELDS`)."""
    is_student = student.user_id is not None and student.user_id == actor.pk
    allowed = SafetyPlan.STUDENT_FIELDS if is_student else SAFETY_PLAN_FIELDS
    if unknown := set(values) - set(allowed):
        raise ValidationError(_("You cannot change: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    if not any(str(v).strip() for v in values.values()):
        raise ValidationError(_("Write at least one part of the plan."))
    with transaction.atomic():
        plan, _created = SafetyPlan.objects.get_or_create(
            student=student, service=service, defaults={"updated_by": actor}
        )
        for name, value in values.items():
            setattr(plan, name, value.strip())
        plan.updated_by = actor
        plan.save()
        append([_entry("risk.safety_plan.saved", actor, student, request=request, service=service)])
    return plan


RETURN_PLAN_FIELDS = (
    "support_agreed",
    "who_does_what",
    "adjustments",
    "review_on",
    "fit_to_study",
    "nhs_view",
    "university_view",
)


def save_return_plan(
    *, actor, student, nhs_service, university_service, plan=None, request=None, **values
) -> ReturnToStudyPlan:
    """Agree a return to study between an NHS service and the university's wellbeing
    service. The adjustments alone go to the record as category `adjustments`, which the
    department sees only with the student's consent."""
    errors = {}
    if nhs_service.organisation.kind != "nhs_trust":
        errors["nhs_service"] = _("Choose an NHS service.")
    if university_service.organisation_id != student.university_id:
        errors["university_service"] = _("Choose a service of the student's university.")
    for name in ("support_agreed", "who_does_what"):
        if not str(values.get(name, "")).strip():
            errors[name] = _("This part of the plan is needed.")
    if values.get("review_on") is None or values["review_on"] < timezone.localdate():
        errors["review_on"] = _("The review date must be today or later.")
    fit = values.get("fit_to_study")
    if fit not in ReturnToStudyPlan.FitToStudy.values:
        errors["fit_to_study"] = _("Say whether the student is fit to return.")
    elif fit == "disagreed":
        for name in ("nhs_view", "university_view"):
            if not str(values.get(name, "")).strip():
                errors[name] = _("When the services disagree, record both views.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = plan or ReturnToStudyPlan(student=student, created_by=actor)
        plan.nhs_service, plan.university_service = nhs_service, university_service
        for name in RETURN_PLAN_FIELDS:
            setattr(
                plan, name, values[name].strip() if isinstance(values[name], str) else values[name]
            )
        plan.adjustments_entry = _adjustments_entry(plan, actor)
        plan.save()
        append(
            [
                _entry(
                    "risk.return_plan.saved",
                    actor,
                    student,
                    request=request,
                    service=university_service,
                    reason=plan.get_fit_to_study_display(),
                )
            ]
        )
    return plan


def _adjustments_entry(plan, actor):
    entry = plan.adjustments_entry
    if not plan.adjustments:
        if entry is not None:
            entry.delete()
        return None
    if entry is None:
        entry = RecordEntry(
            student=plan.student,
            category="adjustments",
            author=actor,
            service=plan.university_service,
            title=_("Return to study: adjustments"),
        )
    entry.body = plan.adjustments
    entry.save()
    return entry


def record_student_view(
    *, actor, plan: ReturnToStudyPlan, text: str, request=None
) -> ReturnToStudyPlan:
    """The student's own view of their return to study, in their words."""
    if not text.strip():
        raise ValidationError({"student_view": _("Write your view.")})
    with transaction.atomic():
        plan.student_view = text.strip()
        plan.save(update_fields=["student_view", "updated_at"])
        append([_entry("risk.return_plan.student_view", actor, plan.student, request=request)])
    return plan
