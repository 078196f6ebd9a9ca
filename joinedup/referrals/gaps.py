"""Gap detection: run the named gap rules over the hub and raise a worklist item for each
new finding. Run daily (`joinedup detect_gaps`, or the `detect_gaps` task)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from joinedup.audit.services import Entry, append
from joinedup.people.models import Organisation, Service, Student
from joinedup.referrals import rules
from joinedup.referrals.models import Episode, GapItem, Referral
from joinedup.risk.models import Concern, RiskAssessment

# How far back a closed referral or episode can matter to a rule.
LOOKBACK = timedelta(days=120)


def find_gaps(now=None) -> list[rules.Finding]:
    """Every rule's findings now, from a fixed number of queries."""
    now = now or timezone.now()
    thresholds = settings.GAP_THRESHOLDS
    referrals = _referral_facts(now)
    with_nhs = Referral.objects.filter(
        Q(state__in=rules.OPEN) | Q(discharged_at__gte=now - LOOKBACK),
        to_service__organisation__kind=Organisation.Kind.NHS_TRUST,
    ).values("student_id")
    episodes = _episode_facts(now, with_nhs)
    return [
        *rules.declined_with_no_other_service(
            referrals, episodes, now, days=thresholds["declined_days"]
        ),
        *rules.nhs_discharge_without_university_contact(
            referrals,
            episodes,
            _university_services({r.student_id for r in referrals if r.to_nhs and r.discharged_at}),
            now,
            days=thresholds["nhs_discharge_days"],
        ),
        *rules.held_while_waiting_for_nhs(referrals, episodes, now, weeks=thresholds["held_weeks"]),
        *rules.no_contact_in_open_episode(episodes, now, weeks=thresholds["no_contact_weeks"]),
        *rules.waiting_past_standard_with_risk(
            _waiting_facts(), now, min_rank=thresholds["waiting_risk_rank"]
        ),
        *rules.concern_without_triage_outcome(
            _concern_facts(now), now, hours=thresholds["concern_hours"]
        ),
    ]


def detect_gaps(now=None, *, dry_run: bool = False) -> list[GapItem]:
    """Raise an item for each finding not raised before; returns the new items."""
    started = timezone.now()
    findings = find_gaps(now)
    known = set(
        GapItem.objects.filter(key__in=[f.key for f in findings]).values_list("key", flat=True)
    )
    new = [
        GapItem(
            rule=f.rule,
            key=f.key,
            student_id=f.student_id,
            service_id=f.service_id,
            referral_id=f.referral_id,
            detail=f.detail,
        )
        for f in {f.key: f for f in findings}.values()
        if f.key not in known
    ]
    if dry_run or not new:
        return new
    with transaction.atomic():
        GapItem.objects.bulk_create(new, ignore_conflicts=True)
        # Re-read: another run may have raised some of them meanwhile (keys are unique).
        new = list(GapItem.objects.filter(key__in=[i.key for i in new], found_at__gte=started))
        append(
            [
                Entry(
                    "referrals.gap.found",
                    student=Student(pk=item.student_id),
                    category="engagement",
                    reason=item.detail,
                )
                for item in new
            ]
        )
    return new


def _referral_facts(now) -> list[rules.ReferralFact]:
    since = now - LOOKBACK
    rows = Referral.objects.filter(
        Q(state__in=rules.OPEN)
        | Q(state="declined", decided_at__gte=since)
        | Q(state="discharged", discharged_at__gte=since)
    ).values_list(
        "pk",
        "student_id",
        "from_service_id",
        "to_service_id",
        "to_service__organisation__kind",
        "state",
        "sent_at",
        "decided_at",
        "discharged_at",
    )
    return [
        rules.ReferralFact(
            pk,
            student,
            source,
            target,
            kind == Organisation.Kind.NHS_TRUST,
            kind == Organisation.Kind.UNIVERSITY,
            state,
            sent,
            decided,
            discharged,
        )
        for pk, student, source, target, kind, state, sent, decided, discharged in rows
    ]


def _episode_facts(now, nhs_students) -> list[rules.EpisodeFact]:
    """Open episodes, and recent university episodes of students who were with the NHS."""
    rows = (
        Episode.objects.filter(
            Q(ended_at__isnull=True)
            | Q(
                ended_at__gte=now - LOOKBACK,
                student_id__in=nhs_students,
                service__organisation__kind=Organisation.Kind.UNIVERSITY,
            )
        )
        .annotate(
            last_contact=Max("appointments__starts_at", filter=Q(appointments__status="attended"))
        )
        .values_list(
            "pk",
            "student_id",
            "service_id",
            "service__organisation__kind",
            "started_at",
            "ended_at",
            "last_contact",
        )
    )
    return [
        rules.EpisodeFact(
            pk, student, service, kind == Organisation.Kind.UNIVERSITY, started, ended, last
        )
        for pk, student, service, kind, started, ended, last in rows
    ]


def _university_services(student_ids) -> dict[int, int]:
    """The wellbeing service of each student's university: who follows up."""
    wellbeing = dict(
        Service.objects.filter(kind=Service.Kind.WELLBEING)
        .order_by("-pk")
        .values_list("organisation_id", "pk")
    )
    return {
        pk: wellbeing[university]
        for pk, university in Student.objects.filter(pk__in=student_ids).values_list(
            "pk", "university_id"
        )
        if university in wellbeing
    }


def _waiting_facts() -> list[rules.WaitingFact]:
    """Referrals still waiting, with the student's latest assessed risk level (any service:
    the rule raises an item; the worklist decides what each reader may see)."""
    latest_rank = (
        RiskAssessment.objects.filter(student_id=OuterRef("student_id"))
        .order_by("-created_at")
        .values("level__rank")[:1]
    )
    rows = (
        Referral.objects.filter(state__in=rules.WAITING, sent_at__isnull=False)
        .annotate(risk_rank=Subquery(latest_rank))
        .values_list(
            "pk",
            "student_id",
            "to_service_id",
            "sent_at",
            "first_contact_at",
            "to_service__waiting_standard_days",
            "risk_rank",
        )
    )
    return [rules.WaitingFact(*row) for row in rows]


def _concern_facts(now) -> list[rules.ConcernFact]:
    # A concern whose number matched no student names no one to raise a gap item about.
    rows = Concern.objects.filter(
        outcome="", raised_at__gte=now - LOOKBACK, student__isnull=False
    ).values_list("pk", "student_id", "service_id", "raised_at")
    return [rules.ConcernFact(*row, has_outcome=False) for row in rows]
