"""Reads of a student's record, always through the access policy."""

from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
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
from joinedup.consent.rules import CATEGORIES, NAMES_ONLY, SERVICE_ONLY, SUPPORTED_ONLY, Decision
from joinedup.people.rules import age_on
from joinedup.record.models import RecordEntry
from joinedup.record.rules import (
    READ_FIRST,
    draft_visible_to,
    flags_in_banner,
    in_reading_order,
    merge_letter,
    readable_fields,
    risk_in_banner,
    spaced_nhs_number,
)

NOTE_KINDS = (RecordEntry.Kind.NOTE, RecordEntry.Kind.ADDENDUM)
# Where a document may be filed: what a service writes, never facts about the student
# (identity, registration) that every service in their care reads whole.
DOCUMENT_CATEGORIES = ("notes", "assessment", "risk", "adjustments", "discharge")


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
    def is_read_first(self) -> bool:
        """Open when the record opens (`rules.READ_FIRST`); the rest are folded."""
        return self.category in READ_FIRST

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
    def in_reading_order(self) -> list[Section]:
        """The sections in the order a clinician reads them (`rules.READING_ORDER`)."""
        by_category = {s.category: s for s in self.sections}
        return [by_category[c] for c in in_reading_order(by_category)]

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
        if not is_self:
            # Notes are named as held too (withheld, not absent), though never asked for.
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
    entries = RecordEntry.objects.filter(student=student).filter(
        visible_to(own_ids, is_self, decisions)
    )
    if is_self:
        return entries.select_related("service", "attachment")
    return entries.select_related("service", "author", "signed_by", "attachment")


def visible_to(own_ids, is_self: bool, decisions: dict[str, Decision]) -> Q:
    """The entries (drafts aside) the decisions let through: each category's rows as its
    decision answers; never another service's private entries, nor (to the student) an
    entry withheld for their safety."""
    allowed = {c: d for c, d in decisions.items() if d.allowed}
    if not allowed:
        return Q(pk__in=[])
    if is_self:
        return Q(category__in=allowed, is_withheld_from_student=False)
    passes = Q(pk__in=[])
    for category, decision in allowed.items():
        passes |= Q(category=category) & (Q() if decision.whole else decision.written_by_own())
    return passes & (Q(service_id__in=own_ids) | Q(is_private_to_service=False))


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


# --- Notes, the contact log, letters and documents ------------------------------------------

CONTACT_KINDS = (RecordEntry.Kind.NOTE, RecordEntry.Kind.LETTER, RecordEntry.Kind.DOCUMENT)
CONTACTS_PER_PAGE = 20


def _decided(user, student, categories, *, action: str, request=None) -> dict[str, Decision]:
    """Each category decided (and audited) for a page about the student; 404 unless the
    user may read their identity, as with the record itself."""
    decisions = decide_many(
        user, student, ["identity", *categories], reading_purpose(user), request=request,
        action=action, gate="identity",
    )  # fmt: skip
    if not decisions["identity"].allowed:
        raise Http404("No such student.")
    return decisions


def _own_drafts(user, decisions: dict[str, Decision]) -> Q:
    """The user's own drafts, of the services whose notes they may read: a draft is its
    author's alone (`rules.draft_visible_to`), and never the student's."""
    notes = decisions.get("notes")
    if notes is None or not notes.allowed:
        return Q(pk__in=[])
    return Q(is_draft=True, author_id=user.pk) & notes.written_by_own()


def _readable_entries(user, student, decisions: dict[str, Decision]):
    """Entries of the student the user may read, their own drafts with them."""
    finished = Q(is_draft=False) & visible_to(service_ids_of(user), False, decisions)
    return RecordEntry.with_drafts.filter(student=student).filter(
        finished | _own_drafts(user, decisions)
    )


@dataclass
class Contact:
    """One line of the contact log: a note, a letter, a document or an appointment."""

    moment: object
    entry: RecordEntry | None = None
    appointment: object = None


@dataclass
class ContactLog:
    student: object
    decisions: dict[str, Decision]
    page: object
    # Who holds notes the user may not read (withheld, never absent).
    notes_held_by: list[str] = field(default_factory=list)
    # Whether appointments with other services are kept back.
    appointments_held: bool = False


def contact_log_for(user, student_uuid, *, page_number=None, request=None) -> ContactLog:
    """Every contact with the student the user may see, newest first and paged: notes (and
    drafts of their own), letters and documents of the services whose rows the policy lets
    through, and appointments as the engagement decision lets them through. A constant
    number of queries, however long the log."""
    from joinedup.referrals.models import Appointment

    student = find_student(student_uuid)
    decisions = _decided(user, student, CATEGORIES[1:], action="record.contacts.read",
                         request=request)  # fmt: skip
    entries = (
        _readable_entries(user, student, decisions)
        .filter(kind__in=CONTACT_KINDS)
        .annotate(t_kind=Value("entry"), t_id=F("pk"), t_at=Coalesce("contact_at", "created_at"))
        .values_list("t_kind", "t_id", "t_at")
        .order_by()
    )
    every_appointment = Appointment.objects.filter(episode__student=student)
    appointments = (
        decisions["engagement"]
        .rows(every_appointment, "episode__service")
        .annotate(t_kind=Value("appointment"), t_id=F("pk"), t_at=F("starts_at"))
        .values_list("t_kind", "t_id", "t_at")
        .order_by()
    )
    timeline = entries.union(appointments, all=True).order_by("-t_at", "-t_id")
    page = Paginator(timeline, CONTACTS_PER_PAGE).get_page(page_number)
    page.object_list = _contacts(user, decisions, list(page.object_list))
    shown_appointments = decisions["engagement"].rows(every_appointment, "episode__service")
    return ContactLog(
        student=student,
        decisions=decisions,
        page=page,
        notes_held_by=held_elsewhere(decisions["notes"], sources_of(student, "notes")),
        appointments_held=every_appointment.exclude(
            pk__in=shown_appointments.values("pk")
        ).exists(),
    )


def _contacts(user, decisions, rows: list[tuple]) -> list[Contact]:
    """A page of the timeline, each row fetched whole (one query per kind)."""
    from joinedup.referrals.models import Appointment

    entry_ids = [pk for kind, pk, _at in rows if kind == "entry"]
    appointment_ids = [pk for kind, pk, _at in rows if kind == "appointment"]
    addenda = RecordEntry.with_drafts.filter(
        Q(is_draft=False) | Q(is_draft=True, author_id=user.pk)
    ).select_related("author", "signed_by")
    entries = (
        RecordEntry.with_drafts.filter(pk__in=entry_ids)
        .select_related("service", "author", "signed_by", "attachment", "letter")
        .prefetch_related(Prefetch("addenda", addenda.order_by("created_at")))
    )
    by_entry = {e.pk: e for e in entries}
    by_appointment = Appointment.objects.select_related("episode__service").in_bulk(appointment_ids)
    return [
        Contact(at, entry=by_entry[pk]) if kind == "entry"
        else Contact(at, appointment=by_appointment[pk])
        for kind, pk, at in rows
    ]  # fmt: skip


def get_note_for_user(user, note_uuid, *, request=None) -> RecordEntry:
    """A clinical note or addendum with its addenda (`shown_addenda`), if the policy lets
    `user` read it; a draft only for its author. Else 404: missing and forbidden look the
    same. The read is audited."""
    note = (
        RecordEntry.with_drafts.filter(uuid=note_uuid, kind__in=NOTE_KINDS)
        .select_related("student__university", "service", "author", "signed_by", "amends")
        .first()
    )
    if note is None:
        raise Http404("No such note.")
    is_student = note.student.user_id is not None and note.student.user_id == user.pk
    if note.is_draft and not draft_visible_to(note.author_id, user.pk,
                                              reader_is_student=is_student):  # fmt: skip
        raise Http404("No such note.")
    decisions = _decided(user, note.student, ["notes"], action="record.note.read",
                         request=request)  # fmt: skip
    if not decisions["notes"].may_read_row(note.service_id):
        raise Http404("No such note.")
    note.shown_addenda = list(
        _readable_entries(user, note.student, decisions)
        .filter(amends=note)
        .select_related("author", "signed_by")
        .order_by("created_at")
    )
    return note


def get_attachment_for_user(user, entry_uuid, *, request=None):
    """The file of an entry (a document, a letter's PDF), if the policy lets `user` read the
    category it is filed in and its row; else 404. The read is audited as a download."""
    entry = (
        RecordEntry.objects.filter(uuid=entry_uuid, attachment__isnull=False)
        .select_related("student", "attachment")
        .first()
    )
    if entry is None:
        raise Http404("No such file.")
    decisions = _decided(user, entry.student, [entry.category], action="record.file.read",
                         request=request)  # fmt: skip
    is_self = entry.student.user_id is not None and entry.student.user_id == user.pk
    visible = visible_to(service_ids_of(user), is_self, {entry.category: decisions[entry.category]})
    if not RecordEntry.objects.filter(visible, pk=entry.pk).exists():
        raise Http404("No such file.")
    return entry.attachment


@dataclass
class Correspondence:
    """A page of the student's letters or documents, as the user may see them."""

    student: object
    decisions: dict[str, Decision]
    entries: list
    # The services holding documents (or letters) the user may not read.
    held_by: list[str] = field(default_factory=list)


def letters_for(user, student_uuid, *, request=None) -> Correspondence:
    """The letters the user's services sent the student (letters are kept with the notes
    of the service that sent them), newest first."""
    student = find_student(student_uuid)
    decisions = _decided(user, student, ["notes"], action="record.letters.read",
                         request=request)  # fmt: skip
    letters = _readable_entries(user, student, decisions).filter(kind=RecordEntry.Kind.LETTER)
    every = RecordEntry.objects.filter(student=student, kind=RecordEntry.Kind.LETTER)
    return Correspondence(
        student=student,
        decisions=decisions,
        entries=list(letters.select_related("author", "letter", "attachment")),
        held_by=held_elsewhere(decisions["notes"], [(every, "service")]),
    )


def documents_for(user, student_uuid, *, request=None) -> Correspondence:
    """The documents on the student's record the user may read, each as the category it is
    filed in allows, newest first; and who holds the others (never a private one)."""
    student = find_student(student_uuid)
    decisions = _decided(user, student, DOCUMENT_CATEGORIES, action="record.documents.read",
                         request=request)  # fmt: skip
    documents = _readable_entries(user, student, decisions).filter(kind=RecordEntry.Kind.DOCUMENT)
    held: set[str] = set()
    for category in DOCUMENT_CATEGORIES:
        rows = RecordEntry.objects.filter(
            student=student, kind=RecordEntry.Kind.DOCUMENT, category=category,
            is_private_to_service=False,
        )  # fmt: skip
        held.update(held_elsewhere(decisions[category], [(rows, "service")]))
    return Correspondence(
        student=student,
        decisions=decisions,
        entries=list(documents.select_related("author", "service", "attachment")),
        held_by=sorted(held),
    )


def merge_letter_for(user, student, service, template, message: str, *, request=None):
    """The letter `template` merged with what `user` may read of the record now: only the
    fields of categories the policy allows are ever gathered (each decision audited), and a
    line naming any other is left out (`rules.merge_letter`)."""
    decisions = _decided(user, student, ["registration", "engagement"],
                         action="record.letter.merged", request=request)  # fmt: skip
    readable = readable_fields(decisions)
    values = {
        name: value()
        for name, value in _merge_values(user, student, service, decisions, message).items()
        if name in readable
    }
    return merge_letter(template.body, values, readable)


def _merge_values(user, student, service, decisions, message: str) -> dict:
    """How each merge field is found: called only for the fields the user may read."""
    return {
        "today": lambda: date_format(timezone.localdate(), "j F Y"),
        "author": lambda: user.get_full_name() or user.email,
        "service": lambda: service.name,
        "organisation": lambda: service.organisation.name,
        "message": lambda: message,
        "name": lambda: student.display_name,
        "legal_name": lambda: student.legal_name,
        "student_number": lambda: student.student_number,
        "date_of_birth": lambda: date_format(student.date_of_birth, "j F Y"),
        "nhs_number": lambda: spaced_nhs_number(student.nhs_number),
        "email": lambda: student.email,
        "phone": lambda: student.phone,
        "gp_practice": lambda: (
            student.gp_practice.name
            if student.gp_practice and not student.is_not_gp_registered
            else ""
        ),
        "department": lambda: student.department.name if student.department else "",
        "next_appointment": lambda: _next_appointment(student, service, decisions["engagement"]),
        "care_started": lambda: _care_started(student, service, decisions["engagement"]),
    }


def _next_appointment(student, service, engagement: Decision) -> str:
    from joinedup.referrals.models import Appointment

    upcoming = Appointment.objects.filter(
        episode__student=student, episode__service=service, status="booked",
        starts_at__gte=timezone.now(),
    )  # fmt: skip
    first = engagement.rows(upcoming, "episode__service").order_by("starts_at").first()
    if first is None:
        return ""
    return date_format(timezone.localtime(first.starts_at), r"l j F Y \a\t H:i")


def _care_started(student, service, engagement: Decision) -> str:
    relationships = CareRelationship.objects.open().filter(student=student, service=service)
    first = engagement.rows(relationships).order_by("opened_at").first()
    return date_format(timezone.localtime(first.opened_at), "j F Y") if first else ""


def templates_of(service) -> dict:
    """The note and letter templates a service's staff may start from."""
    return {
        "note_templates": list(service.note_templates.filter(is_active=True)),
        "letter_templates": list(service.letter_templates.filter(is_active=True)),
    }


# --- The banner -------------------------------------------------------------------------------

BANNER_CATEGORIES = ("identity", "risk", "engagement")


@dataclass
class Banner:
    """What the top of every page about one student shows, as the policy lets its reader
    see it: who the student is, their risk and open flags, their named worker at the
    reader's service and their next appointment. What is withheld says so."""

    student: object
    names_only: bool
    age: int | None
    nhs_number: str
    risk: str
    risk_rank: int  # the shared level's rank, for its colour (0: none shown)
    risk_shown: bool  # a level is shown (else the words say why not)
    flags: str
    flag_rank: int
    # The open episodes of the reader's clinical services (None: the reader has none).
    episodes: list | None
    appointment: object  # the next booked appointment the reader may see, or None
    appointments_allowed: bool
    # Who holds a booked appointment sooner than the one shown that is not shared.
    appointment_held_by: list[str] = field(default_factory=list)


def banner_for(user, student, decisions=None, *, risk_held_by=None, request=None) -> Banner:
    """The banner of `student` for `user`, from the decisions a page has made already (any
    of identity, risk and engagement it has not are decided and audited here, as a read
    of the banner). A constant number of queries, whatever the record holds."""
    from joinedup.referrals.models import Appointment, Episode
    from joinedup.referrals.selectors import clinical_service_ids
    from joinedup.risk.models import Flag
    from joinedup.risk.selectors import levels_shown

    decisions = dict(decisions or {})
    if missing := [c for c in BANNER_CATEGORIES if c not in decisions]:
        decisions |= decide_many(
            user, student, missing, reading_purpose(user), request=request,
            action="record.banner.read",
        )  # fmt: skip
    identity, risk, engagement = (decisions[c] for c in BANNER_CATEGORIES)
    names_only = identity.scope == NAMES_ONLY
    level = levels_shown(user, [student.pk]).get(student.pk) if risk.allowed else None
    if risk_held_by is None:
        risk_held_by = held_by(student, "risk", risk)
    flags = Flag.objects.filter(student=student, acknowledged_at__isnull=True)
    # Every open flag counts, as on the risk page: only a flag's reason follows its service.
    count, top = (0, None) if not risk.allowed else (
        flags.count(), flags.select_related("level").order_by("-level__rank").first()
    )  # fmt: skip
    own = clinical_service_ids(user)
    episodes = None
    if own:
        open_episodes = Episode.objects.open().filter(student=student, service_id__in=own)
        episodes = list(
            engagement.rows(open_episodes, "service")
            .select_related("service", "practitioner")
            .order_by("-started_at")
        )
    appointments_allowed = engagement.allowed and engagement.scope != SUPPORTED_ONLY
    upcoming = Appointment.objects.filter(
        episode__student=student, status=Appointment.Status.BOOKED, starts_at__gte=timezone.now()
    )
    shown = engagement.rows(upcoming, "episode__service") if appointments_allowed else None
    appointment = (
        shown.select_related("episode__service", "clinician").order_by("starts_at").first()
        if shown is not None
        else None
    )
    appointment_held_by = []
    if shown is not None:
        sooner = upcoming.exclude(pk__in=shown.values("pk"))
        if appointment is not None:
            sooner = sooner.filter(starts_at__lt=appointment.starts_at)
        if sooner.exists():
            # Which services hold them is engagement itself: "other services" (`held_by`).
            appointment_held_by = [_("other services")]
    return Banner(
        student=student,
        names_only=names_only,
        age=None if names_only else age_on(student.date_of_birth, timezone.localdate()),
        nhs_number="" if names_only else spaced_nhs_number(student.nhs_number),
        risk=risk_in_banner(level.text if level else "", risk_held_by, allowed=risk.allowed),
        risk_rank=level.rank if level else 0,
        risk_shown=level is not None,
        flags=flags_in_banner(count, top.level.name if top else "", allowed=risk.allowed),
        flag_rank=top.level.rank if top else 0,
        episodes=episodes,
        appointment=appointment,
        appointments_allowed=appointments_allowed,
        appointment_held_by=appointment_held_by,
    )
