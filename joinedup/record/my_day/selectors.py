"""My day, read through the access policy in a constant number of queries, however large
the caseload: every list is one query (or two) for all its rows, and what the policy
decides is asked once for all the students on the page."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from joinedup.consent.policy import audit_listing, readable_rows, readable_students
from joinedup.measures.selectors import DueEpisode, due_for
from joinedup.messaging.selectors import unread_by_service
from joinedup.record.models import RecordEntry
from joinedup.record.my_day import rules
from joinedup.referrals.models import (
    Appointment,
    AppointmentRequest,
    Episode,
    FollowUpTask,
    Referral,
)
from joinedup.referrals.work.selectors import TaskRow, rows_for
from joinedup.referrals.work.services import clinical_services_of
from joinedup.risk.models import Flag, ReturnToStudyPlan, RiskAssessment
from joinedup.risk.selectors import FlagRow, LevelShown, levels_shown

NOTE_KINDS = (RecordEntry.Kind.NOTE, RecordEntry.Kind.ADDENDUM)


@dataclass
class TodayAppointment:
    appointment: Appointment
    shown: bool  # what it is and who it is with (the policy lets its engagement row through)


@dataclass
class Case:
    """An episode allocated to me: the student, their next appointment and last contact
    with the service, and their risk level as the policy lets me see it."""

    episode: Episode
    next_at: dt.datetime | None
    last_at: dt.datetime | None
    risk: LevelShown | None  # None: nothing assessed, and nothing held back

    @property
    def risk_text(self) -> str:
        return self.risk.text if self.risk else ""


@dataclass
class MyDay:
    today: dt.date
    now: dt.datetime  # what is due before it is overdue
    appointments: list[TodayAppointment] = field(default_factory=list)
    # (service name, count) of referrals to the user's services waiting for a decision.
    referrals_waiting: list[tuple[str, int]] = field(default_factory=list)
    unread_messages: int = 0  # from students to the user's services, read by nobody there
    # Students asking to cancel or move one of the user's appointments, oldest first.
    requests: list[AppointmentRequest] = field(default_factory=list)
    drafts: list[RecordEntry] = field(default_factory=list)
    # Questionnaires due at today's sessions; how many more are due at later ones.
    questionnaires: list[DueEpisode] = field(default_factory=list)
    questionnaires_later: int = 0
    flags: list[FlagRow] = field(default_factory=list)
    reviews: list[RiskAssessment] = field(default_factory=list)
    return_reviews: list[ReturnToStudyPlan] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    caseload: list[Case] = field(default_factory=list)
    # Students the policy lets me name (their identity); others are "a student".
    named: set[int] = field(default_factory=set)


def my_day_for(user, *, request=None) -> MyDay:
    """Everything due of the user today, each student named audited."""
    now = timezone.now()
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now)
    start, end = rules.day_bounds(today, zone)
    services = list(clinical_services_of(user))
    day = MyDay(today=today, now=now)

    episodes = list(_caseload(user, now))
    student_ids = sorted({e.student_id for e in episodes})
    day.appointments = _appointments(user, start, end)
    day.referrals_waiting = list(
        Referral.objects.filter(to_service_id__in=services, state=Referral.State.SENT)
        .values_list("to_service__name")
        .annotate(n=Count("pk"))
        .order_by("to_service__name")
    )
    day.unread_messages = unread_by_service(user)
    day.requests = list(
        AppointmentRequest.objects.filter(answered_at__isnull=True, appointment__clinician=user)
        .exclude(appointment__status=Appointment.Status.CANCELLED)
        .select_related("appointment__episode__student")
        .order_by("asked_at", "pk")
    )
    day.drafts = list(
        RecordEntry.with_drafts.filter(is_draft=True, author=user, kind__in=NOTE_KINDS)
        .select_related("student", "service")
        .order_by("updated_at", "pk")
    )
    due = [d for d in due_for(episodes) if d.codes]
    seen_today = {a.appointment.episode_id for a in day.appointments}
    day.questionnaires = [d for d in due if d.episode.pk in seen_today]
    day.questionnaires_later = len(due) - len(day.questionnaires)
    day.flags = _flags(user, student_ids)
    day.reviews = _reviews(student_ids, services, today)
    day.return_reviews = list(
        ReturnToStudyPlan.objects.filter(student_id__in=student_ids, review_on__lte=today)
        .filter(Q(nhs_service_id__in=services) | Q(university_service_id__in=services))
        .select_related("student", "university_service")
        .order_by("review_on", "pk")
    )
    tasks = list(
        FollowUpTask.objects.filter(completed_at__isnull=True, due_at__lt=end)
        .filter(Q(assignee=user) | Q(assignee__isnull=True, service_id__in=services))
        .select_related("student", "service", "assignee", "created_by")
        .order_by("due_at", "pk")
    )
    day.tasks = rows_for(user, tasks, now=now, request=request)
    levels = levels_shown(user, student_ids)
    day.caseload = [
        Case(e, e.next_at, _latest(e.last_seen_at, e.last_note_at), levels.get(e.student_id))
        for e in episodes
    ]

    students = {
        s.pk: s
        for s in [
            *(a.appointment.episode.student for a in day.appointments),
            *(r.appointment.episode.student for r in day.requests),
            *(d.student for d in day.drafts),
            *(f.flag.student for f in day.flags),
            *(r.student for r in day.reviews),
            *(p.student for p in day.return_reviews),
            *(e.student for e in episodes),
        ]
    }
    day.named = (
        set(readable_students(user, "identity", among=list(students)).values_list("pk", flat=True))
        if students
        else set()
    )
    audit_listing(
        user,
        [s for pk, s in students.items() if pk in day.named],
        action="record.my_day.listed",
        reason="Listed on My day.",
        request=request,
        categories=lambda s: ("identity", "risk") if s.pk in levels else ("identity",),
    )
    return day


def _latest(*moments: dt.datetime | None) -> dt.datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _caseload(user, now: dt.datetime):
    """Open episodes allocated to the user, with each student's next booked appointment,
    last attended one and last note of the episode's service (one query)."""
    last_note = (
        RecordEntry.objects.filter(
            student=OuterRef("student"),
            service=OuterRef("service"),
            kind=RecordEntry.Kind.NOTE,
            contact_at__isnull=False,
        )
        .order_by("-contact_at")
        .values("contact_at")[:1]
    )
    return (
        Episode.objects.open()
        .filter(practitioner=user)
        .select_related("student", "service")
        .annotate(
            next_at=Min(
                "appointments__starts_at",
                filter=Q(appointments__status="booked", appointments__starts_at__gte=now),
            ),
            last_seen_at=Max("appointments__starts_at", filter=Q(appointments__status="attended")),
            last_note_at=Subquery(last_note),
        )
        .order_by("student__preferred_name", "student__legal_family_name", "pk")
    )


def _appointments(user, start: dt.datetime, end: dt.datetime) -> list[TodayAppointment]:
    """The user's appointments today, not cancelled, each shown as the policy allows."""
    appointments = list(
        Appointment.objects.filter(clinician=user, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("episode__student", "episode__service")
        .order_by("starts_at", "pk")
    )
    if not appointments:
        return []
    shown = set(
        readable_rows(
            user,
            "engagement",
            Appointment.objects.filter(pk__in=[a.pk for a in appointments]),
            student="episode__student",
            services=("episode__service",),
            among=sorted({a.episode.student_id for a in appointments}),
        ).values_list("pk", flat=True)
    )
    return [TodayAppointment(a, a.pk in shown) for a in appointments]


def _flags(user, student_ids: list[int]) -> list[FlagRow]:
    """Flags waiting to be acknowledged for my allocated students, or that a manager asked
    me to act on; another service's reason only as the policy allows."""
    flags = list(
        Flag.objects.filter(acknowledged_at__isnull=True)
        .filter(Q(student_id__in=student_ids) | Q(assigned_to=user))
        .select_related("student", "level", "service")
        .order_by("due_at", "pk")
    )
    if not flags:
        return []
    detailed = set(
        readable_rows(
            user, "risk", Flag.objects.filter(pk__in=[f.pk for f in flags]),
            among=sorted({f.student_id for f in flags}),
        ).values_list("pk", flat=True)
    )  # fmt: skip
    return [FlagRow(f, f.pk in detailed) for f in flags]


def _reviews(student_ids: list[int], services: list[int], today: dt.date) -> list[RiskAssessment]:
    """My services' risk assessments of my allocated students whose review is due
    (`rules.reviews_due`): two queries."""
    assessed = [
        rules.Assessed(*row)
        for row in RiskAssessment.objects.filter(
            student_id__in=student_ids, service_id__in=services
        ).values_list("pk", "student_id", "service_id", "created_at", "review_on")
    ]
    due = rules.reviews_due(assessed, today)
    if not due:
        return []
    found = RiskAssessment.objects.select_related("student", "level", "service").in_bulk(due)
    return [found[pk] for pk in due]
