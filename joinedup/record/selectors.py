"""Reads of a student's record, always through the access policy."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from joinedup.consent.models import CareRelationship, Category, ConsentGrant, SharingRequest
from joinedup.consent.policy import (
    consents_given_to,
    decide_as,
    decide_many,
    find_student,
    held_elsewhere,
    reading_purpose,
    seats_of,
    service_ids_of,
    service_seat,
)
from joinedup.consent.rules import NAMES_ONLY, SERVICE_ONLY, SUPPORTED_ONLY, Decision
from joinedup.record.models import RecordEntry


@dataclass
class Section:
    category: str
    label: str
    decision: Decision
    entries: list = field(default_factory=list)
    # The services holding what this section may not show (never "nothing recorded").
    held_by: list[str] = field(default_factory=list)
    # Outcomes: the questionnaire scores the decision lets through, newest first.
    scores: list = field(default_factory=list)
    # Risk: the assessments the decision lets through, newest first.
    assessments: list = field(default_factory=list)
    # When the user's service asked the student to share this, while no answer has come.
    asked_at: object = None

    @property
    def may_ask(self) -> bool:
        """Whether staff may ask the student to share what is held elsewhere."""
        return (
            bool(self.held_by)
            and self.category not in SERVICE_ONLY
            and self.decision.basis != "authored"
        )


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
    asked = {} if is_self else _asked(student, decisions.values())
    for section in sections:
        if section.category not in SERVICE_ONLY and not is_self:
            section.held_by = held_by(student, section.category, section.decision)
            section.asked_at = asked.get(section.category)
        _add_clinical_rows(section, student)
    return RecordView(student=student, sections=sections)


def withheld_section(student, category: str, decision: Decision) -> Section | None:
    """What a page about one category says of the rows its decision keeps back: who holds
    them (None when nothing is held back)."""
    held = held_by(student, category, decision)
    if not held:
        return None
    asked_at = _asked(student, [decision]).get(category)
    return Section(category, Category(category).label, decision, held_by=held, asked_at=asked_at)


def _asked(student, decisions) -> dict:
    """The categories the deciding seat's service has asked the student to share and not
    yet had an answer for, with when it asked: the page says so instead of asking again."""
    services = {d.seat.service_id for d in decisions if d.seat and d.seat.service_id}
    if not services:
        return {}
    waiting = SharingRequest.objects.waiting().filter(student=student, service_id__in=services)
    return dict(waiting.values_list("category", "asked_at"))


def held_by(student, category: str, decision: Decision) -> list[str]:
    """Who holds what `decision` keeps back of the student's `category`, for every page, the
    API and FHIR to say instead of "none". Engagement's holders are "other services":
    which services are involved is engagement itself."""
    held = held_elsewhere(decision, sources_of(student, category))
    return [_("other services")] if held and category == "engagement" else held


def sources_of(student, category: str) -> list[tuple]:
    """Where rows of `category` about the student are held, each with the field naming
    the service that wrote them (private entries are their service's alone)."""
    from joinedup.measures.models import Administration
    from joinedup.risk.models import Flag, RiskAssessment, SafetyPlan

    sources: list[tuple] = [
        (
            RecordEntry.objects.filter(
                student=student, category=category, is_private_to_service=False
            ),
            "service",
        )
    ]
    if category == "risk":
        sources += [
            (model.objects.filter(student=student), "service")
            for model in (RiskAssessment, Flag, SafetyPlan)
        ]
    elif category == "outcomes":
        sources.append((Administration.objects.filter(student=student), "service"))
    elif category == "engagement":
        sources.append((CareRelationship.objects.filter(student=student), "service"))
    return sources


def _add_clinical_rows(section: Section, student) -> None:
    """Scores and risk assessments live outside record entries; a section shows those its
    decision lets through, so a preview shows what the service sees."""
    from joinedup.measures.models import Administration
    from joinedup.risk.models import RiskAssessment

    if not section.decision.allowed:
        return
    if section.category == "outcomes":
        rows = Administration.objects.filter(student=student, main_score__isnull=False)
        section.scores = list(
            section.decision.rows(rows.select_related("service")).order_by("-completed_at")[:20]
        )
    elif section.category == "risk":
        rows = RiskAssessment.objects.filter(student=student).select_related("level", "service")
        section.assessments = list(section.decision.rows(rows).order_by("-created_at")[:5])


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
        "recipient_service__organisation",
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
    decisions = decide_as(service_seat(service), student)
    view = _view(student, decisions, [service.pk], is_self=False)
    engagement = decisions["engagement"]
    if engagement.allowed:
        view.services = list(_involved_services(student, engagement))
        grants = ConsentGrant.objects.filter(student=student)
        if not engagement.whole:
            grants = grants.filter(consents_given_to((service_seat(service),)))
        view.consents = list(grants)
    return view
