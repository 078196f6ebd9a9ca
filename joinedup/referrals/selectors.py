"""Reads of referrals, through the access policy: a referral is `engagement` data; what it
carries (assessment, discharge summary) is decided per entry."""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Count as DistinctCount
from django.db.models import Q
from django.db.models.functions import TruncDay
from django.http import Http404
from django.utils import timezone

from joinedup.consent.models import DataSharingAgreement, agreement_in_force
from joinedup.consent.policy import (
    audit_listing,
    decide_many,
    readable_students,
    seats_of,
    service_ids_of,
)
from joinedup.consent.rules import CLINICAL_ROLES, Decision
from joinedup.evaluation.rules import Count, disclose, rounded
from joinedup.people.models import Service
from joinedup.referrals import rules
from joinedup.referrals.models import FollowUpTask, GapItem, Referral
from joinedup.risk.models import Flag
from joinedup.risk.selectors import LevelShown, levels_shown


def clinical_service_ids(user) -> list[int]:
    return [s.service_id for s in seats_of(user) if s.service_id and s.role in CLINICAL_ROLES]


@dataclass
class ReferralView:
    referral: Referral
    decisions: dict[str, Decision]
    is_receiver: bool
    is_referrer: bool
    clock: rules.Clock | None
    carried: list = field(default_factory=list)
    # What the referral carries that the policy does not let this user read: shown as held
    # by its service and not shared, never as nothing (no content leaves through it).
    withheld: list = field(default_factory=list)

    @property
    def actions(self) -> list[str]:
        """What this user may do next: the referrer sends and withdraws; the receiver does
        the rest."""
        referral = self.referral
        possible = rules.allowed_actions(referral.state)
        if referral.state in ("accepted", "waiting") and referral.first_contact_at is None:
            possible.append("first_contact")
        mine = []
        if self.is_referrer:
            mine += [a for a in possible if a in ("send", "withdraw")]
        if self.is_receiver:
            mine += [a for a in possible if a not in ("send", "withdraw")]
        if referral.student.is_pending:
            # Triage first confirms or rejects a self-referral's pending record
            # (`referrals.selfreferral`): it is decided on once they know who it is.
            mine = [a for a in mine if a not in ("accept", "decline")]
        return mine


def get_referral_for_user(user, referral_uuid, *, request=None) -> ReferralView:
    """The referral, for a clinical member of the referring or receiving service whose
    access to the student's engagement the policy allows; else 404 (audited)."""
    own = clinical_service_ids(user)
    referral = (
        Referral.objects.filter(
            Q(from_service_id__in=own) | Q(to_service_id__in=own), uuid=referral_uuid
        )
        .select_related(
            "student__university",
            "from_service__organisation",
            "to_service__organisation",
            "created_by",
            "opened_by",
            "episode",
        )
        .first()
    )
    if referral is None:
        raise Http404("No such referral.")
    decisions = decide_many(
        user,
        referral.student,
        ["identity", "engagement", "assessment", "discharge"],
        request=request,
        action="referrals.referral.read",
        gate="identity",
    )
    if not all(
        decisions.get(c, Decision(False, "", "")).allowed for c in ("identity", "engagement")
    ):
        raise Http404("No such referral.")
    view = ReferralView(
        referral=referral,
        decisions=decisions,
        is_receiver=referral.to_service_id in own,
        is_referrer=referral.from_service_id in own,
        clock=_clock(referral),
    )
    for entry in referral.shared_entries.select_related("service", "author"):
        readable = entry.category in decisions and decisions[entry.category].may_read_row(
            entry.service_id
        )
        (view.carried if readable else view.withheld).append(entry)
    return view


def _clock(referral: Referral) -> rules.Clock | None:
    if referral.sent_at is None:
        return None
    return rules.clock(
        referral.sent_at,
        referral.first_contact_at,
        referral.treatment_started_at,
        referral.to_service.waiting_standard_days,
        timezone.now(),
    )


@dataclass
class WaitingRow:
    referral: Referral
    clock: rules.Clock
    risk_level: LevelShown | None
    has_open_flag: bool


@dataclass
class WaitingList:
    rows: list[WaitingRow]
    page: object
    colours: dict[str, int]  # how many of the whole list are green, amber and red


WAITING_PAGE = 50


def waiting_list_for(user, service: Service, *, page_number=None, request=None) -> WaitingList:
    """Referrals waiting for `service`, longest wait first, a page at a time, each with its
    clock, the student's current risk level and whether a risk flag waits, and how many of
    the whole list are green, amber and red; constant queries. Names shown are audited."""
    waiting = Referral.objects.filter(to_service=service, state__in=rules.WAITING)
    page = Paginator(
        waiting.select_related("student", "from_service", "to_service").order_by("sent_at", "pk"),
        WAITING_PAGE,
    ).get_page(page_number)
    referrals = list(page)
    students = [r.student_id for r in referrals]
    levels = levels_shown(user, students)
    flagged = set(
        Flag.objects.filter(acknowledged_at__isnull=True, student_id__in=students).values_list(
            "student_id", flat=True
        )
    )
    _audit_listing(
        user, [r.student for r in referrals], service, "referrals.waiting_list.listed", request
    )
    rows = [
        WaitingRow(r, _clock(r), levels.get(r.student_id), r.student_id in flagged)
        for r in referrals
    ]
    return WaitingList(rows, page, _colour_counts(waiting, service.waiting_standard_days))


def _colour_counts(waiting, standard: int | None) -> dict[str, int]:
    """The clock colours of a whole waiting list, counted in SQL: the twin of
    `rules.Clock.colour` and its breach rule `rules.past_standard` (days from the UTC day
    sent to the UTC day of first contact, or of today while there is none)."""
    total = waiting.count()
    if standard is None:
        return {"green": total, "amber": 0, "red": 0}
    today = timezone.now().date()

    def sent_before(days: int):
        return datetime.combine(today - timedelta(days=days), time.min, tzinfo=UTC)

    no_contact = Q(first_contact_at__isnull=True)
    # First contact on a UTC day more than `standard` days after the UTC day it was sent.
    contact_late = Q(first_contact_at__gte=TruncDay("sent_at", tzinfo=UTC)
                     + timedelta(days=standard + 1))  # fmt: skip
    counts = waiting.aggregate(
        red=DistinctCount("pk", filter=(no_contact & Q(sent_at__lt=sent_before(standard)))
                          | contact_late),
        amber=DistinctCount("pk", filter=no_contact & Q(
            sent_at__lt=sent_before(math.ceil(rules.AMBER_SHARE * standard) - 1),
            sent_at__gte=sent_before(standard))),
    )  # fmt: skip
    return {
        "red": counts["red"],
        "amber": counts["amber"],
        "green": total - counts["red"] - counts["amber"],
    }


def sent_by(user, *, request=None) -> list[tuple[Referral, rules.Clock | None]]:
    """Referrals made by my services that are still open or changed in the last 90 days."""
    since = timezone.now() - timedelta(days=90)
    referrals = list(
        Referral.objects.filter(from_service_id__in=clinical_service_ids(user))
        .filter(Q(state__in=("draft", *rules.OPEN)) | Q(last_changed_at__gte=since))
        .select_related("student", "to_service", "from_service")
        .order_by("-created_at")[:200]
    )
    _audit_listing(user, [r.student for r in referrals], None, "referrals.sent.listed", request)
    return [(r, _clock(r)) for r in referrals]


def follow_ups_for(user, *, request=None) -> list[FollowUpTask]:
    """Open follow-ups after NHS crisis care that my services owe (tasks colleagues set are
    on the tasks page). A manager without care of the student sees the task
    but not who it is about (`task.named`); each name shown is audited."""
    tasks = list(
        FollowUpTask.objects.filter(
            service_id__in=service_ids_of(user), completed_at__isnull=True, created_by=None
        )
        .select_related("student", "service", "referral__to_service")
        .order_by("due_at")
    )
    readable = set(
        readable_students(user, "identity", among=[t.student_id for t in tasks]).values_list(
            "pk", flat=True
        )
    )
    for task in tasks:
        task.named = task.student_id in readable
    _audit_listing(
        user, [t.student for t in tasks if t.named], None, "referrals.follow_ups.listed", request
    )
    return tasks


def get_follow_up_for_user(user, task_uuid) -> FollowUpTask:
    task = FollowUpTask.objects.filter(
        uuid=task_uuid, service_id__in=service_ids_of(user), created_by=None
    ).first()
    if task is None:
        raise Http404("No such follow-up.")
    return task


def gap_services_of(user) -> list[int]:
    """Services whose gap items the user works: a service manager's own services; a liaison
    worker's organisation's services and those of partner organisations."""
    seats = seats_of(user)
    services = {s.service_id for s in seats if s.role == "service_manager" and s.service_id}
    liaison_orgs = {s.organisation_id for s in seats if s.role == "liaison"}
    if liaison_orgs:
        partners = set(
            Service.objects.filter(
                organisation__agreements__organisations__in=liaison_orgs,
                organisation__agreements__in=DataSharingAgreement.objects.filter(
                    agreement_in_force(timezone.localdate())
                ),
            ).values_list("pk", flat=True)
        )
        services |= partners | set(
            Service.objects.filter(organisation_id__in=liaison_orgs).values_list("pk", flat=True)
        )
    return sorted(services)


@dataclass
class GapRow:
    item: GapItem
    named: bool  # whether the policy lets the user read the student's identity
    may_resolve: bool  # the item is their own service's, or they may read who it is about


def gap_worklist_for(user, *, request=None) -> list[GapRow]:
    """Open gap items for the user's services, oldest first, in a constant number of
    queries. The student is named only where the policy lets the user read their identity
    (the same rule as one SQL filter); each name shown is audited."""
    page = GapItem.objects.filter(
        service_id__in=gap_services_of(user), resolved_at__isnull=True
    ).order_by("found_at")[:GAP_PAGE]
    # Take the page first, then join: joining before the limit walks every student.
    items = list(
        GapItem.objects.filter(pk__in=list(page.values_list("pk", flat=True)))
        .select_related("student", "service")
        .order_by("found_at", "pk")
    )
    ids = [item.student_id for item in items]
    readable = set(readable_students(user, "identity", among=ids).values_list("pk", flat=True))
    _audit_listing(
        user,
        [i.student for i in items if i.student_id in readable],
        None,
        "referrals.gaps.listed",
        request,
    )
    own = set(service_ids_of(user))
    return [
        GapRow(
            item, item.student_id in readable, item.student_id in readable or item.service_id in own
        )
        for item in items
    ]


GAP_PAGE = 200


def get_gap_item_for_user(user, item_uuid, *, request=None) -> GapItem:
    """A gap item the user may act on: one of their own services' items, or a partner
    service's item for a student whose identity the policy lets them read (a liaison
    worker acts as a practitioner: a relationship or consent first). Else 404 (audited)."""
    item = (
        GapItem.objects.filter(uuid=item_uuid, service_id__in=gap_services_of(user))
        .select_related("student")
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    if item.service_id not in service_ids_of(user):
        decision = decide_many(
            user, item.student, ["identity"], request=request, action="referrals.gap.read"
        )["identity"]
        if not decision.allowed:
            raise Http404("No such item.")
    return item


def _audit_listing(user, students, service, action, request) -> None:
    audit_listing(
        user,
        students,
        action=action,
        reason="Listed.",
        request=request,
        categories=lambda student: ("engagement",),
    )


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    students: int

    @property
    def shown(self) -> str:
        return disclose(Count(self.students))

    @property
    def width(self) -> int | None:
        return rounded(self.students)


def pathway_flows(start, end) -> list[Flow]:
    """Referrals sent in [start, end) between each pair of services (or from a source such
    as self-referral), counted as distinct students, largest first, in one query."""
    rows = (
        Referral.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .values("source", "from_service__name", "to_service__name")
        .annotate(students=DistinctCount("student", distinct=True))
        .order_by("-students", "to_service__name")
    )
    sources = dict(Referral.Source.choices)
    return [
        Flow(
            row["from_service__name"] or str(sources[row["source"]]),
            row["to_service__name"],
            row["students"],
        )
        for row in rows
    ]
