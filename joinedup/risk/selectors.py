"""Reads of risk, through the access policy (category `risk`): another service's
assessments and flag details need the student's consent, as for every clinical category."""

from dataclasses import dataclass, field

from django.http import Http404
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import CareRelationship
from joinedup.consent.policy import (
    audit_listing,
    decide_many,
    find_student,
    readable_rows,
    seats_of,
    service_ids_of,
)
from joinedup.consent.rules import CLINICAL_ROLES, Decision
from joinedup.record.selectors import withheld_section
from joinedup.risk import rules
from joinedup.risk.levels import ensure_default_levels
from joinedup.risk.models import (
    Flag,
    ReturnToStudyPlan,
    RiskAssessment,
    RiskLevel,
    SafetyPlan,
    ServiceScale,
)


@dataclass(frozen=True)
class LevelShown:
    """A student's current level as one user may see it, and the services holding a newer
    assessment the user may not read (then `text` says so: withheld, never absent)."""

    text: str
    held_by: tuple[str, ...] = ()
    # The shared level's rank of what `text` shows (0 when it shows none), for its colour.
    rank: int = 0

    def __str__(self) -> str:
        return self.text


def current_levels(user, student_ids) -> dict[int, str]:
    """`levels_shown` as plain words."""
    return {pk: shown.text for pk, shown in levels_shown(user, student_ids).items()}


def levels_shown(user, student_ids) -> dict[int, LevelShown]:
    """Each student's current level as the user may see it: the latest assessment from a
    service whose risk the user may read, labelled with that service's own word; where
    newer assessments are other services' and not shared, who holds them ("Assessed by
    Crisis Team — not shared with you"), never nothing. Five queries, whatever the number
    of students (the first leaves out those never assessed)."""
    assessments = RiskAssessment.objects.filter(student_id__in=list(student_ids))
    assessed = set(assessments.order_by().values_list("student_id", flat=True).distinct())
    if not assessed:
        return {}
    assessments = RiskAssessment.objects.filter(student_id__in=assessed)
    readable = readable_rows(user, "risk", assessments, among=assessed)
    latest: dict[int, RiskAssessment] = {}
    for assessment in readable.select_related("level", "service").order_by(
        "student_id", "-created_at"
    ):
        latest.setdefault(assessment.student_id, assessment)
    words = _service_words({a.service_id for a in latest.values()})
    levels = {
        student_id: LevelShown(
            rules.label(
                a.level.as_rule(), a.service.name, words.get((a.service_id, a.level_id), "")
            ),
            rank=a.level.rank,
        )
        for student_id, a in latest.items()
    }
    # Assessments the user may not read, newer than the latest they may: the level shown is
    # not the current one, and the page says who holds a newer one.
    held: dict[int, set[str]] = {}
    for student_id, service, created_at in assessments.exclude(
        pk__in=readable.values("pk")
    ).values_list("student_id", "service__name", "created_at"):
        if student_id not in latest or created_at > latest[student_id].created_at:
            held.setdefault(student_id, set()).add(service)
    for student_id, services in held.items():
        before = levels.get(student_id)
        levels[student_id] = LevelShown(
            rules.withheld_label(sorted(services), before.text if before else ""),
            tuple(sorted(services)),
            rank=before.rank if before else 0,
        )
    return levels


def _service_words(service_ids) -> dict[tuple[int, int], str]:
    words = {}
    for scale in ServiceScale.objects.filter(service_id__in=service_ids).order_by("pk"):
        words.setdefault((scale.service_id, scale.level_id), scale.label)
    return words


@dataclass
class FlagRow:
    flag: Flag
    detail_shown: bool


def open_flags_for(user, *, request=None) -> list[FlagRow]:
    """Unacknowledged flags of students in my services' care, most urgent first. Another
    service's reason is shown only with the student's consent; shown names are audited."""
    caring = (
        CareRelationship.objects.open()
        .filter(service_id__in=service_ids_of(user))
        .values("student_id")
    )
    flags = list(
        Flag.objects.filter(acknowledged_at__isnull=True, student_id__in=caring)
        .select_related("student", "level", "service")
        .order_by("due_at")[:300]
    )
    detailed = set(
        readable_rows(
            user,
            "risk",
            Flag.objects.filter(pk__in=[f.pk for f in flags]),
            among=sorted({f.student_id for f in flags}),
        ).values_list("pk", flat=True)
    )
    audit_listing(
        user,
        [f.student for f in flags],
        action="risk.flags.listed",
        reason="Listed on the flags worklist.",
        request=request,
        categories=lambda student: ("risk",),
    )
    return [FlagRow(f, f.pk in detailed) for f in flags]


def get_flag_for_user(user, flag_uuid) -> Flag:
    caring = (
        CareRelationship.objects.open()
        .filter(service_id__in=service_ids_of(user))
        .values("student_id")
    )
    flag = (
        Flag.objects.filter(uuid=flag_uuid, student_id__in=caring)
        .select_related("student", "level", "service", "assigned_to", "acknowledged_by")
        .first()
    )
    if flag is None:
        raise Http404("No such flag.")
    return flag


def get_escalated_flag_for_user(user, flag_uuid, *, request=None) -> Flag:
    """A flag of a student in the care of one of the user's services, for a service
    manager or a clinical member of it to act on; else 404 (missing and forbidden look the
    same). Seeing it is audited; the page shows no one's identity."""
    if not {s.role for s in seats_of(user)} & {"service_manager", *CLINICAL_ROLES}:
        raise Http404("No such flag.")
    flag = get_flag_for_user(user, flag_uuid)
    append(
        [
            Entry(
                "risk.flag.escalation_seen",
                actor=user,
                student=flag.student,
                category="risk",
                reason=f"{flag.level.name} flag, stage {flag.escalation_stage}",
                request_id=request_id_of(request),
            )
        ]
    )
    return flag


@dataclass
class RiskView:
    student: object
    decision: Decision
    current: str
    assessments: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    levels: list = field(default_factory=list)
    withheld: object = None  # a record Section naming who holds what is not shown
    # Whether one of the user's services works with the student now: only then does the
    # page offer to write (assessments, flags, plans).
    in_care: bool = False


def get_risk_for_user(user, student_uuid, *, request=None) -> RiskView:
    """A student's risk as the user may see it; 404 unless identity and risk are allowed."""
    student = find_student(student_uuid)
    decisions = decide_many(
        user, student, ["identity", "risk"], request=request, action="risk.read", gate="identity"
    )
    if len(decisions) < 2 or not all(d.allowed for d in decisions.values()):
        raise Http404("No such student.")
    decision = decisions["risk"]
    assessments = decision.rows(
        RiskAssessment.objects.filter(student=student).select_related("level", "service", "author")
    )
    # Every flag shows, as on the flags worklist; another service's reason only where the
    # decision lets that service's risk through.
    flags = [
        FlagRow(flag, decision.may_read_row(flag.service_id))
        for flag in Flag.objects.filter(student=student)
        .select_related("level", "service")
        .order_by("-raised_at")[:50]
    ]
    ensure_default_levels()
    withheld = withheld_section(student, "risk", decision)
    level = current_levels(user, [student.pk]).get(student.pk)
    return RiskView(
        student=student,
        decision=decision,
        # Withheld is never absent: "Not assessed" only when nothing of risk is held back.
        current=level or (_("not shared with you") if withheld else _("Not assessed")),
        assessments=list(assessments),
        flags=flags,
        levels=list(RiskLevel.objects.all()),
        withheld=withheld,
        in_care=CareRelationship.objects.open()
        .filter(student=student, service_id__in=service_ids_of(user))
        .exists(),
    )


def safety_plans_for(user, student, decision: Decision) -> list:
    """The safety plans the user may read: the student's own all; staff their own
    service's, and every service's with the student's consent."""
    return list(
        decision.rows(
            SafetyPlan.objects.filter(student=student).select_related("service", "updated_by")
        )
    )


def return_plans_for(user, student, decision: Decision) -> list:
    """Return-to-study plans: the student's own all; staff those their service is part of,
    and every one with the student's consent."""
    plans = ReturnToStudyPlan.objects.filter(student=student).select_related(
        "nhs_service", "university_service"
    )
    return list(decision.rows(plans, "nhs_service", "university_service"))
