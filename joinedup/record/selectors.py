"""Reads of a student's record, always through the access policy."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404

from joinedup.consent.models import CareRelationship, Category, ConsentGrant
from joinedup.consent.policy import (
    consents_given_to,
    decide_for_service,
    decide_many,
    find_student,
    reading_purpose,
    seats_of,
    service_ids_of,
    service_seat,
)
from joinedup.consent.rules import CATEGORIES, NAMES_ONLY, SUPPORTED_ONLY, Decision
from joinedup.record.models import RecordEntry


@dataclass
class Section:
    category: str
    label: str
    decision: Decision
    entries: list = field(default_factory=list)


@dataclass
class RecordView:
    student: object
    sections: list[Section]
    services: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    # Where engagement shows only that the student is supported (academic staff).
    is_supported: bool | None = None

    def section(self, category: str) -> Section:
        return next(s for s in self.sections if s.category == category)

    @property
    def names_only(self) -> bool:
        """Identity shows the student's names and number only (academic staff)."""
        return self.section("identity").decision.scope == NAMES_ONLY

    @property
    def outcomes_allowed(self) -> bool:
        return any(s.category == "outcomes" and s.decision.allowed for s in self.sections)


def record_for(user, student, *, request=None, purpose="direct_care", gate=None) -> RecordView:
    """Every category of a student's record, each decided (and audited) by the policy.

    Only the sections the policy allows carry content; entries are filtered further:
    another service's private entries and notes never show, nor (to the student) entries
    withheld for their safety. A constant number of queries, whatever the record's size.
    """
    decisions = decide_many(user, student, purpose=purpose, request=request, gate=gate)
    if gate is not None and len(decisions) == 1:
        refused = decisions[gate]
        return RecordView(student=student, sections=[Section(gate, Category(gate).label, refused)])
    is_self = student.user_id is not None and student.user_id == user.pk
    view = _view(student, decisions, service_ids_of(user), is_self)
    engagement = decisions["engagement"]
    if engagement.allowed and engagement.scope == SUPPORTED_ONLY:
        # Academic staff learn that the student is supported, never by which services.
        view.is_supported = CareRelationship.objects.open().filter(student=student).exists()
        view.consents = list(consents_of(student, user=user))
    elif engagement.allowed:
        # Both lists name other services, so a partial view shows only the user's own.
        view.services = list(_involved_services(student, engagement))
        view.consents = list(consents_of(student, user=None if engagement.whole else user))
    return view


def _view(student, decisions: dict[str, Decision], own_ids, is_self: bool) -> RecordView:
    """Each category's section, carrying the entries its decision lets through."""
    by_category: dict[str, list] = {c: [] for c, d in decisions.items() if d.allowed}
    for entry in _visible_entries(own_ids, is_self, student, decisions):
        by_category[entry.category].append(entry)
    sections = [
        Section(c, Category(c).label, decisions[c], by_category.get(c, [])) for c in decisions
    ]
    return RecordView(student=student, sections=sections)


def _involved_services(student, engagement: Decision):
    """The services in the student's care, as engagement's decision lets them be seen."""
    relationships = engagement.rows(CareRelationship.objects.filter(student=student))
    return relationships.select_related("service__organisation").order_by("-opened_at")


def get_record_for_user(user, student_uuid, *, request=None) -> RecordView:
    """The record, decided in one pass; 404 unless `user` may read the student's identity.

    Missing and forbidden look the same, and every refusal is audited by `record_for`.
    """
    record = record_for(
        user,
        find_student(student_uuid),
        request=request,
        gate="identity",
        purpose=reading_purpose(user),
    )
    if not record.section("identity").decision.allowed:
        raise Http404("No such student.")
    return record


def _visible_entries(own_ids, is_self: bool, student, decisions: dict[str, Decision]):
    allowed = {c: d for c, d in decisions.items() if d.allowed}
    if not allowed:
        return []
    entries = RecordEntry.objects.filter(student=student, category__in=allowed)
    if is_self:
        return entries.filter(is_withheld_from_student=False).select_related("service")
    # Each category's rows as its decision answers; never another service's private entries.
    passes = Q(pk__in=[])
    for category, decision in allowed.items():
        passes |= Q(category=category) & (Q() if decision.whole else decision.written_by_own())
    entries = entries.filter(passes).filter(
        Q(service_id__in=own_ids) | Q(is_private_to_service=False)
    )
    return entries.select_related("service", "author")


def consents_of(student, *, user=None):
    """The student's consents; with `user`, only those given to the user's own service,
    department or organisation, or recorded by the user (the list names recipients, so it
    is engagement data)."""
    grants = ConsentGrant.objects.filter(student=student).select_related(
        "recipient_service",
        "recipient_department",
        "recipient_organisation",
        "recorded_by",
        "withdrawn_by",
    )
    if user is not None:
        grants = grants.filter(consents_given_to(seats_of(user), user))
    return grants


def preview_for_service(service, student) -> RecordView:
    """Exactly what a practitioner of `service` would see of the student's record, for the
    student to check before and after they share: the same rule and the same filters as
    `record_for`, decided without anyone reading (so nothing is audited as a read)."""
    decisions = {c: decide_for_service(service, student, c) for c in CATEGORIES}
    view = _view(student, decisions, [service.pk], is_self=False)
    engagement = decisions["engagement"]
    if engagement.allowed:
        view.services = list(_involved_services(student, engagement))
        grants = ConsentGrant.objects.filter(student=student)
        if not engagement.whole:
            grants = grants.filter(consents_given_to((service_seat(service),)))
        view.consents = list(grants)
    return view
