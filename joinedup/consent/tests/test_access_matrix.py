"""The access matrix: every caller without a basis × every route that takes a parameter ×
method, against one student whose every data category is held by Counselling alone.

The routes come from the URL resolver (pages, the JSON API, FHIR, the admin, allauth), so a
new route is covered the day it is added; one whose parameter this file does not know fails
until it is taught how to name a real object and a missing one (`IDS`, `VALUES`). For each
route, each caller asks with the real id and with a missing one of the same shape, and:
- no response (body or Location) holds anything planted (`MARKERS`, and the ids of the
  student's rows other than the one asked for);
- the real and the missing answer are the same (status, and body once the ids are taken
  out), unless `LEGITIMATE` says why this caller may tell them apart;
- nothing was written (every row of the project's models is the same afterwards).
"""

import copy
import datetime as dt
import gzip
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from itertools import product

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern
from django.utils import timezone

from conftest import PASSWORD, SignedInClient, make_staff, make_student
from conftest import hub as build_hub
from joinedup.api.tests.conftest import make_client, make_token
from joinedup.audit.models import AuditEvent
from joinedup.consent.services import (
    ask_to_share,
    open_break_glass,
    open_care_relationship,
    record_consent,
)
from joinedup.evaluation.forms import STAGE_FORMS
from joinedup.evaluation.models import EvaluationProject, ResearchExtract, SavedReport
from joinedup.feedback.forms import GROUP_PARTS
from joinedup.feedback.models import (
    Action,
    AdvisoryGroup,
    Draft,
    DraftComment,
    Feedback,
    GroupAction,
    Theme,
)
from joinedup.fhir.models import ExportFile, ExportJob
from joinedup.fhir.tests.conftest import ALL_READ, ALL_WRITE, token_for
from joinedup.governance.models import OptOutCheck
from joinedup.governance.rights import log_request
from joinedup.governance.staff import Place as StaffPlace
from joinedup.governance.staff import invite, token_of
from joinedup.measures.models import RoutineMeasure
from joinedup.measures.services import record_administration, send_completion_link
from joinedup.measures.tests.factories import PHQ9_ITEM9
from joinedup.messaging.services import send_from_student
from joinedup.people.models import Department, Role, User
from joinedup.record import services as record
from joinedup.record.tests.factories import PDF, letter_template, uploaded, write_entry
from joinedup.referrals import services as referrals
from joinedup.referrals.appointments import ask_about_appointment
from joinedup.referrals.models import DirectoryEntry, FollowUpTask, GapItem
from joinedup.referrals.views import ACTIONS as REFERRAL_ACTIONS
from joinedup.risk import panels
from joinedup.risk import services as risk
from joinedup.risk.concerns import digest
from joinedup.risk.models import Concern

# --- What is planted, and how a leak of it is recognised ------------------------------------

# Every identifying value and every free text of the student: none appears anywhere else.
IDENTITY = {
    "legal given name": "Ottoline",
    "legal family name": "Vandersnoot",
    "preferred name": "Tillyvale",
    "pronouns": "fae/faer",
    "student number": "NB7391846",
    "NHS number": "4857773120",
    "phone": "07700 900461",
    "email": "ottoline.v@example.net",
    "term postcode": "NB7 3QX",
    "home postcode": "ZE2 9QQ",
    "trusted contact": "Hildegard Quaye",
    "trusted contact phone": "07700 900872",
}
DATE_OF_BIRTH = dt.date(1987, 11, 23)
TEXTS = {
    category: f"Marker-{category}-larkspur"
    for category in (
        "referral reason",
        "assessment",
        "notes",
        "adjustments",
        "discharge",
        "risk entry",
        "risk factors",
        "risk plan",
        "flag reason",
        "safety plan",
        "return plan",
        "concern",
        "anonymous concern",
        "panel case",
        "panel action",
        "feedback",
        "draft comment",
        "follow-up",
        "gap",
        "sharing request",
        "export file",
        "signed note",
        "addendum",
        "draft note",
        "letter",
        "document",
        "appointment request",
        "message",
    )
}
MARKERS = {
    **IDENTITY,
    "NHS number, spaced": "485 777 3120",
    "date of birth": DATE_OF_BIRTH.isoformat(),
    "date of birth, in words": "23 November 1987",
    "date of birth, short": "23 Nov 1987",
    "date of birth, slashed": "23/11/1987",
    **TEXTS,
}


@dataclass
class Planted:
    """The student, and one row of each kind that names them, all held by Counselling."""

    student: object
    user: object
    rows: dict[str, object]  # what the row is → the row; each row's uuid is a marker too
    others: dict[str, object] = field(default_factory=dict)  # rows naming no student

    def __getattr__(self, name):
        for table in ("rows", "others"):
            found = self.__dict__.get(table, {})
            if name in found:
                return found[name]
        raise AttributeError(name)

    def markers(self) -> dict[str, str]:
        """Marker name → text: the planted values, and the uuid of every planted row."""
        uuids = {f"uuid of the {name}": str(row.uuid) for name, row in self.rows.items()}
        return MARKERS | {"uuid of the student": str(self.student.uuid)} | uuids


def _plant(hub) -> Planted:
    """A student of History whose every category only Counselling holds: no other service
    has a relationship with them, and they consent to nothing beyond Counselling."""
    counselling, counsellor = hub.counselling, hub.counsellor
    user = User.objects.create_user("ottoline@student.nb.ac.uk", PASSWORD)
    student = make_student(
        hub.university,
        IDENTITY["student number"],
        department=hub.history,
        user=user,
        legal_given_name=IDENTITY["legal given name"],
        legal_family_name=IDENTITY["legal family name"],
        preferred_name=IDENTITY["preferred name"],
        pronouns=IDENTITY["pronouns"],
        date_of_birth=DATE_OF_BIRTH,
        nhs_number=IDENTITY["NHS number"],
        phone=IDENTITY["phone"],
        email=IDENTITY["email"],
        term_postcode=IDENTITY["term postcode"],
        home_postcode=IDENTITY["home postcode"],
        trusted_contact_name=IDENTITY["trusted contact"],
        trusted_contact_phone=IDENTITY["trusted contact phone"],
        is_international=True,
        year_of_study=2,
    )
    rows = {}
    # Engagement: a self-referral to Counselling, accepted, in treatment, with appointments.
    RoutineMeasure.objects.get_or_create(service=counselling, code="PHQ-9")
    referral = referrals.create_referral(
        actor=counsellor, student=student, to_service=counselling, source="self",
        reason=TEXTS["referral reason"],
    )  # fmt: skip
    referral = referrals.accept_referral(
        actor=counsellor, referral=referral, version=referral.version
    )
    referral = referrals.start_treatment(
        actor=counsellor, referral=referral, version=referral.version
    )
    rows["referral"] = referral
    rows["episode"] = episode = referral.episode
    rows["appointment"] = referrals.book_appointment(
        actor=counsellor, episode=episode, kind="treatment",
        starts_at=timezone.now() + dt.timedelta(days=3),
    )  # fmt: skip
    # The student asks Counselling to move it.
    rows["appointment request"] = ask_about_appointment(
        actor=user, appointment=rows["appointment"], wants="rebook",
        reason=TEXTS["appointment request"],
    )  # fmt: skip
    # The student writes to Counselling.
    rows["message"] = send_from_student(
        actor=user, student=student, service=counselling, body=TEXTS["message"]
    )
    # The shared record: one entry of each category a service writes.
    for category, text in [
        ("assessment", TEXTS["assessment"]),
        ("notes", TEXTS["notes"]),
        ("adjustments", TEXTS["adjustments"]),
        ("discharge", TEXTS["discharge"]),
        ("risk", TEXTS["risk entry"]),
    ]:
        rows[f"{category} entry"] = write_entry(
            student, category, counselling, counsellor, title=text, body=text
        )
    # Clinical notes: one signed with a signed addendum, one still a draft; a letter sent
    # from a template, and a document filed in the assessment.
    rows["signed note"] = note = record.sign_note(actor=counsellor, note=record.write_note(
        actor=counsellor, student=student, contact_kind="session", body=TEXTS["signed note"],
        contact_at=timezone.now(),
    ))  # fmt: skip
    rows["addendum"] = record.sign_note(actor=counsellor, note=record.add_addendum(
        actor=counsellor, note=note, body=TEXTS["addendum"]))  # fmt: skip
    rows["draft note"] = record.write_note(
        actor=counsellor, student=student, contact_kind="phone", body=TEXTS["draft note"],
        contact_at=timezone.now(),
    )  # fmt: skip
    rows["letter"] = record.send_letter(
        actor=counsellor, student=student, recipient="Dr Quill\nRiverside Surgery",
        template=letter_template(counselling, body=f"{{{{ name }}}}: {TEXTS['letter']}"),
    )  # fmt: skip
    rows["document"] = uploaded(counsellor, student, PDF, title=TEXTS["document"],
                                category="assessment")  # fmt: skip
    rows["administration"] = administration = record_administration(
        actor=counsellor, student=student, service=counselling, code="PHQ-9",
        answers=PHQ9_ITEM9, method="in_session", episode=episode, session_number=1,
    )  # fmt: skip
    rows["questionnaire flag"] = administration.risk_flags.get()
    link_token = send_completion_link(
        actor=counsellor, episode=episode, session_number=2, codes=["PHQ-9"]
    )
    rows["completion link"] = episode.completion_links.get()
    # Risk: an assessment, a flag, a safety plan, a return-to-study plan.
    rows["risk assessment"] = risk.record_assessment(
        actor=counsellor, student=student, service=counselling, domain_levels={"self": 3},
        factors=TEXTS["risk factors"], plan=TEXTS["risk plan"],
        review_on=timezone.localdate() + dt.timedelta(days=14),
    )  # fmt: skip
    rows["flag"] = risk.raise_flag(
        student=student, service=counselling, level=risk.level_of_rank(3),
        source="practitioner", reason=TEXTS["flag reason"], actor=counsellor,
    )  # fmt: skip
    rows["safety plan"] = risk.save_safety_plan(
        actor=counsellor, student=student, service=counselling,
        warning_signs=TEXTS["safety plan"],
    )  # fmt: skip
    rows["return plan"] = risk.save_return_plan(
        actor=counsellor, student=student, nhs_service=hub.crisis,
        university_service=counselling, support_agreed=TEXTS["return plan"],
        who_does_what=TEXTS["return plan"], adjustments=TEXTS["return plan"],
        review_on=timezone.localdate() + dt.timedelta(days=14), fit_to_study="agreed",
        nhs_view="", university_view="",
    )  # fmt: skip
    # Concerns addressed to Counselling: one a colleague raised, one a fellow student raised
    # anonymously, who reads replies with a private code.
    reporter = make_staff("rhea@nb.ac.uk", Role.ACADEMIC, hub.university, department=hub.history)
    now = timezone.now()
    concern_fields = {
        "student": student, "student_number_given": student.student_number,
        "service": counselling, "urgency": "soon", "student_knows": "yes",
        "student_agreed": True, "raised_at": now, "due_at": now + dt.timedelta(days=1),
    }  # fmt: skip
    rows["concern"] = Concern.objects.create(
        reporter=reporter, observed=TEXTS["concern"], **concern_fields
    )
    private_code = "Kq3vZp8wXy1T"
    rows["anonymous concern"] = Concern.objects.create(
        is_from_student=True, code_digest=digest(private_code),
        observed=TEXTS["anonymous concern"], **concern_fields,
    )  # fmt: skip
    open_care_relationship(student=student, service=counselling, reason="concern")
    # Consent: what the student shares with Counselling, and what Counselling asks for.
    rows["consent"] = record_consent(
        actor=user, student=student, category="outcomes", purpose="direct_care",
        how_given="portal", recipient_service=counselling,
    )  # fmt: skip
    rows["sharing request"] = ask_to_share(
        actor=counsellor, student=student, category="assessment", why=TEXTS["sharing request"]
    )
    # Worklists: a follow-up and a gap item Counselling owes the student.
    rows["follow-up"] = FollowUpTask.objects.create(
        student=student, service=counselling, referral=referral, reason=TEXTS["follow-up"],
        due_at=now + dt.timedelta(days=3),
    )  # fmt: skip
    rows["gap item"] = GapItem.objects.create(
        rule="waiting_with_risk", key=f"matrix:{referral.pk}", student=student,
        service=counselling, referral=referral, detail=TEXTS["gap"],
    )  # fmt: skip
    # A case review panel Counselling organised, with the student on its agenda.
    panel = panels.schedule_panel(
        actor=counsellor, title="Counselling complex cases", meets_at=now + dt.timedelta(days=2)
    )
    rows["panel case"] = panels.add_case(
        actor=counsellor, panel=panel, student_number=student.student_number,
        summary=TEXTS["panel case"],
    )  # fmt: skip
    rows["panel action"] = panels.add_action(
        actor=counsellor, panel=panel, description=TEXTS["panel action"], owner=counsellor,
        due_on=timezone.localdate() + dt.timedelta(days=7),
    )  # fmt: skip
    # Feedback the student gave Counselling, and the student in its advisory group.
    theme = Theme.objects.create(service=counselling, name="Evening sessions")
    rows["feedback"] = Feedback.objects.create(
        service=counselling, student=student, episode=episode,
        given_in=timezone.localdate().replace(day=1), overall=4, comment=TEXTS["feedback"],
    )  # fmt: skip
    rows["feedback"].themes.add(theme)
    group = AdvisoryGroup.objects.create(
        organisation=hub.university, service=counselling, name="Counselling student panel",
        purpose="Shapes the counselling service.",
    )  # fmt: skip
    group.members.add(student)
    draft = Draft.objects.create(
        group=group, title="Evening sessions", body="A proposal.",
        comments_close_on=timezone.localdate() + dt.timedelta(days=10),
    )  # fmt: skip
    DraftComment.objects.create(draft=draft, student=student, text=TEXTS["draft comment"])
    # Evaluation kept by others: an extract another researcher ran, and the trust's project
    # and saved report (no cast member evaluates for the trust).
    trust_manager = make_staff("tess@nhs.example", Role.SERVICE_MANAGER, hub.trust,
                               service=hub.crisis)  # fmt: skip
    other_researcher = make_staff("ruth@nb.ac.uk", Role.RESEARCHER, hub.university)
    extract = ResearchExtract.objects.create(
        requested_by=other_researcher, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 1, 1)
    )
    extract.services.set([counselling])
    saved_report = SavedReport.objects.create(
        organisation=hub.trust, title="Crisis Team, 2024", saved_by=trust_manager,
        parameters={"services": [hub.crisis.pk], "start": "2024-01-01", "end": "2025-01-01"},
        figures={},
    )  # fmt: skip
    project = EvaluationProject.objects.create(
        organisation=hub.trust, title="Crisis follow-up", question="Does it work?",
        design="service_evaluation", involved="Crisis Team", student_involvement="A panel",
        starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2025, 1, 1),
        created_by=trust_manager, updated_by=trust_manager,
    )  # fmt: skip
    # A bulk export Counselling's system ran, whose file holds the student.
    token_for(counselling, ALL_READ, name="Counselling system")
    system_user = User.objects.get(memberships__service=counselling, email__startswith="client-")
    job = ExportJob.objects.create(
        requested_by=system_user, request_url="https://example.invalid/fhir/$export",
        resource_types=["Patient"], status=ExportJob.Status.COMPLETE, finished_at=now,
    )  # fmt: skip
    line = {"resourceType": "Patient", "id": str(student.uuid), "name": [
        {"family": student.legal_family_name}], "text": TEXTS["export file"]}  # fmt: skip
    export_file = ExportFile.objects.create(
        job=job, resource_type="Patient", count=1, gzipped=gzip.compress(json.dumps(line).encode())
    )
    # Counselling takes self-referrals: its public form is asked too.
    DirectoryEntry.objects.create(
        service=counselling, purpose="Counselling", who_for="Students",
        accepts_referrals_from=["self", "service"],
    )  # fmt: skip
    # The student's sign-in: an address to confirm, a password to reset.
    address = EmailAddress.objects.create(user=user, email=user.email, verified=False)
    # Counselling's own practitioner uses emergency access too (it gains nothing it did not
    # hold): the university's admin reviews it, seeing neither who the student is nor what
    # the record says.
    rows["override"] = open_break_glass(
        actor=counsellor, student=student,
        reason="Risk to life: the student called the service in distress and rang off.",
    )  # fmt: skip
    # The university's data sharing agreement with the trust: its admins (and the trust's)
    # read it by its id; no one else learns it exists.
    rows["agreement"] = hub.agreement
    # An invitation to Counselling: its admins manage it by its id; the invited person's link
    # (its token) is its own authority.
    rows["invitation"] = invite(
        actor=hub.org_admin, email="newcomer@nb.ac.uk", role=Role.PRACTITIONER,
        place=StaffPlace(hub.university, service=counselling),
    )  # fmt: skip
    # The trust's national data opt-out check, holding the student's NHS number.
    rows["opt-out check"] = OptOutCheck.objects.create(
        organisation=hub.trust, sent_by=hub.crisis_practitioner,
        numbers=[IDENTITY["NHS number"]],
    )  # fmt: skip
    # A rights request logged by the university's admin.
    rows["rights request"] = log_request(
        actor=hub.org_admin, organisation=hub.university, kind="access",
        received_on=dt.date(2026, 11, 2), received_by="letter", requester="A solicitor",
    )  # fmt: skip
    return Planted(
        student=student,
        user=user,
        rows=rows,
        others={
            "service": counselling,
            "clinician": counsellor,
            "panel": panel,
            "group": group,
            "group_action": GroupAction.objects.create(group=group, description="Ask", owner="Us"),
            "draft": draft,
            "feedback_action": _feedback_action(hub, theme),
            "extract": extract,
            "saved_report": saved_report,
            "project": project,
            "export_job": job,
            "export_file": export_file,
            "link_token": link_token,
            "private_code": private_code,
            "audit_event": AuditEvent.objects.filter(student=student).latest("seq"),
            "email_key": EmailConfirmationHMAC(address).key,
            "reset_uidb36": user_pk_to_url_str(user),
            "reset_key": default_token_generator.make_token(user),
        },
    )


def _feedback_action(hub, theme) -> Action:
    action = Action.objects.create(
        organisation=hub.university, service=hub.counselling, title="Evening sessions",
        created_by=hub.counsellor,
    )  # fmt: skip
    action.themes.add(theme)
    return action


# --- The routes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"; an unnamed pattern goes by its template
    template: str  # "/students/<student_uuid>/": every parameter as <name>
    params: tuple[str, ...]
    callback: object


def _part(pattern) -> str:
    """One pattern's piece of the path, each parameter written <name>."""
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):
        return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text.removeprefix("^").removesuffix("$"))
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text)


def _walk(resolver=None, prefix="/", namespace="") -> list[Route]:
    """Every pattern of the project, at any depth, whose path takes a parameter."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        template = prefix + _part(pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += _walk(pattern, template, inner)
        elif isinstance(pattern, URLPattern) and (params := re.findall(r"<(\w+)>", template)):
            name = f"{namespace}{pattern.name}" if pattern.name else template
            found.append(Route(name, template, tuple(params), pattern.callback))
    # The JSON API serves several methods of one path from one pattern per operation.
    return list({route.template: route for route in reversed(found)}.values())[::-1]


ROUTES = _walk()


# --- How each parameter names a planted object, or which values it takes --------------------

# A parameter naming an object: (planted, route, the route's other values) → the planted
# object's id, or (that id, a missing one) where `_missing_like` cannot make one. Keyed by
# (route name, parameter) where the name alone is ambiguous, else by the parameter.
IDS = {
    "student_uuid": lambda p, r, v: p.student.uuid,
    "referral_uuid": lambda p, r, v: p.referral.uuid,
    "episode_uuid": lambda p, r, v: p.episode.uuid,
    "appointment_uuid": lambda p, r, v: p.appointment.uuid,
    "appointment_request_uuid": lambda p, r, v: p.rows["appointment request"].uuid,
    "clinician_uuid": lambda p, r, v: p.clinician.uuid,
    "administration_uuid": lambda p, r, v: p.administration.uuid,
    "flag_uuid": lambda p, r, v: p.flag.uuid,
    "concern_uuid": lambda p, r, v: p.concern.uuid,
    "task_uuid": lambda p, r, v: p.rows["follow-up"].uuid,
    "item_uuid": lambda p, r, v: p.rows["gap item"].uuid,
    "grant_uuid": lambda p, r, v: p.consent.uuid,
    "request_uuid": lambda p, r, v: p.rows["sharing request"].uuid,
    "service_uuid": lambda p, r, v: p.service.uuid,
    "panel_uuid": lambda p, r, v: p.panel.uuid,
    "feedback_uuid": lambda p, r, v: p.feedback.uuid,
    "action_uuid": lambda p, r, v: p.feedback_action.uuid,
    "group_uuid": lambda p, r, v: p.group.uuid,
    "action_id": lambda p, r, v: p.group_action.pk,
    "draft_uuid": lambda p, r, v: p.draft.uuid,
    "extract_uuid": lambda p, r, v: p.extract.uuid,
    "project_uuid": lambda p, r, v: p.project.uuid,
    "report_uuid": lambda p, r, v: p.saved_report.uuid,
    "job_uuid": lambda p, r, v: p.export_job.uuid,
    "file_uuid": lambda p, r, v: p.export_file.uuid,
    "note_uuid": lambda p, r, v: p.rows["signed note"].uuid,
    "message_uuid": lambda p, r, v: p.rows["message"].uuid,
    "access_uuid": lambda p, r, v: p.rows["override"].uuid,
    "agreement_uuid": lambda p, r, v: p.rows["agreement"].uuid,
    "invitation_uuid": lambda p, r, v: p.rows["invitation"].uuid,
    "rights_request_uuid": lambda p, r, v: p.rows["rights request"].uuid,
    "check_uuid": lambda p, r, v: p.rows["opt-out check"].uuid,
    ("governance:opt-out-choices", "organisation_uuid"): lambda p, r, v: p.student.university.uuid,
    "user_uuid": lambda p, r, v: p.clinician.uuid,
    ("governance:join", "token"): lambda p, r, v: token_of(p.rows["invitation"]),
    "entry_uuid": lambda p, r, v: p.document.uuid,
    "token": lambda p, r, v: p.link_token,
    ("risk:concern-private", "code"): lambda p, r, v: p.private_code,
    ("fhir:patient-everything", "key"): lambda p, r, v: p.student.uuid,
    ("fhir:instance", "key"): lambda p, r, v: _fhir_key(p, v["resource_type"]),
    ("fhir:history-instance", "key"): lambda p, r, v: _fhir_key(p, v["resource_type"]),
    ("fhir:vread", "key"): lambda p, r, v: _fhir_key(p, v["resource_type"]),
    ("fhir:compartment", "key"): lambda p, r, v: p.student.uuid,
    ("fhir:group-export", "key"): lambda p, r, v: p.service.uuid,
    ("fhir:group", "key"): lambda p, r, v: p.service.uuid,
    ("account_confirm_email", "key"): lambda p, r, v: p.email_key,
    ("account_reset_password_from_key", "uidb36"): lambda p, r, v: (p.reset_uidb36, "zzzzzz"),
    ("account_reset_password_from_key", "key"): lambda p, r, v: p.reset_key,
    # The admin: the planted row of the route's model (any row where nothing is planted).
    "object_id": lambda p, r, v: _admin_row(p, r),
    "content_type_id": lambda p, r, v: _student_content_type(),
    ("admin:auth_user_password_change", "id"): lambda p, r, v: p.user.pk,
}

# A parameter that is not an id: the values it takes (each is one case of the matrix).
VALUES = {
    "resource_type": settings.FHIR_RESOURCES,
    ("fhir:vread", "version"): ("1",),
    ("measures:administration-create", "code"): ("PHQ-9",),
    ("referrals:referral-action", "action"): tuple(REFERRAL_ACTIONS),
    ("risk:concern-action", "action"): ("message", "acknowledge", "outcome"),
    ("risk:panel-step", "step"): ("invite", "case", "attendance", "decision", "action", "complete"),
    ("feedback:group-add", "part"): ("member", *GROUP_PARTS),
    ("evaluation:project-edit", "stage"): tuple(STAGE_FORMS),
    ("admin:app_list", "app_label"): ("people",),
    ("/admin/<url>", "url"): ("no-such-page/",),  # the admin's catch-all
}


def _fhir_key(p: Planted, resource_type: str):
    keys = {
        "Patient": p.student.uuid,
        "Organization": p.student.university.uuid,
        "HealthcareService": p.service.uuid,
        "ServiceRequest": p.referral.uuid,
        "Task": p.referral.uuid,
        "EpisodeOfCare": p.episode.uuid,
        "Questionnaire": "phq-9",
        "QuestionnaireResponse": p.administration.uuid,
        "Observation": p.administration.uuid,
        "Flag": p.flag.uuid,
        "Consent": p.consent.uuid,
        "AuditEvent": p.audit_event.seq,
    }
    assert resource_type in keys, (
        f"FHIR serves {resource_type}: add to `_fhir_key` which planted row it reads."
    )
    return keys[resource_type]


def _admin_row(p: Planted, route: Route) -> str:
    match = re.match(r"/admin/(\w+)/(\w+)/", route.template)
    if match is None:  # admin/r/<content_type_id>/<object_id>/: the student's page on site
        return str(p.student.pk)
    model = apps.get_model(*match.groups())
    planted = [row for row in (p.student, p.user, *p.rows.values(), *p.others.values())
               if isinstance(row, model)]  # fmt: skip
    row = planted[0] if planted else model.objects.order_by("pk").first()
    return str(row.pk if row is not None else 1)


def _student_content_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    from joinedup.people.models import Student

    return ContentType.objects.get_for_model(Student).pk


def _key(route: Route, param: str):
    """The registry key of a route's parameter: (name, parameter) if there is one."""
    for key in ((route.name, param), param):
        if key in IDS or key in VALUES:
            return key
    return None


def _unknown(route: Route) -> list[str]:
    return [param for param in route.params if _key(route, param) is None]


@dataclass(frozen=True)
class Case:
    """One route with values for its parameters that are not ids."""

    route: Route
    values: tuple[tuple[str, str], ...]

    @property
    def id(self) -> str:
        return self.route.name + "".join(f"[{v}]" for _, v in self.values)

    @property
    def surface(self) -> str:
        first = self.route.template.split("/")[1]
        return first if first in ("admin", "api", "fhir") else "page"

    @property
    def ids(self) -> list[str]:
        return [p for p in self.route.params if _key(self.route, p) in IDS]


def _cases() -> list[Case]:
    cases = []
    for route in ROUTES:
        fixed = [p for p in route.params if _key(route, p) in VALUES]
        for chosen in product(*(VALUES[_key(route, p)] for p in fixed)):
            cases.append(Case(route, tuple(zip(fixed, chosen, strict=True))))
    return cases


def _missing_like(value):
    """An id of the same shape as `value` that names nothing."""
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, int):
        return value + 10**9
    try:
        return str(uuid.UUID(value)) and str(uuid.uuid4())
    except ValueError:
        pass
    if value.isdigit():
        return str(int(value) + 10**9)
    # Each letter and digit moved on by one: the same length and punctuation, a bad signature.
    return "".join(
        chr((ord(c) - base + 1) % size + base) if c.isascii() and c.isalnum() else c
        for c in value
        for base, size in [(48, 10) if c.isdigit() else (97, 26) if c.islower() else (65, 26)]
    )


def _urls(case: Case, p: Planted) -> tuple[str, str, list[tuple[str, str]]]:
    """The real and the missing URL of a case, and each id as (real, missing) text."""
    values = dict(case.values)
    real, missing, ids = dict(values), dict(values), []
    for param in case.ids:
        found = IDS[_key(case.route, param)](p, case.route, values)
        one, other = found if isinstance(found, tuple) else (found, _missing_like(found))
        real[param], missing[param] = str(one), str(other)
        ids.append((str(one), str(other)))

    def fill(kwargs):
        return re.sub(r"<(\w+)>", lambda m: kwargs[m[1]], case.route.template)

    return fill(real), fill(missing), ids


# --- Who asks ---------------------------------------------------------------------------------

# Everyone in the hub but Counselling, plus a signed-out visitor, another student, and system
# clients of the API and of FHIR: no one here has a basis to read the planted student.
CALLERS = (
    "signed out",
    "practitioner",
    "crisis_practitioner",
    "triage",
    "liaison",
    "service_manager",
    "academic",
    "academic elsewhere",
    "org_admin",
    "researcher",
    "outsider",
    "other student",
    "api client",
    "fhir client",
)
SESSION_CALLERS = CALLERS[:-2]
# Who asks where. A caller who authenticates in a way a surface does not read is, there, the
# signed-out visitor: pages and the admin read only the session, FHIR only a bearer token,
# the JSON API both. The admin refuses every caller here at one gate before it looks for
# anything (`AdminSite.has_permission`: the staff flag, which no one in the cast has), so
# three callers stand for all there.
CALLERS_OF = {
    "page": SESSION_CALLERS,
    "api": CALLERS,
    "fhir": ("signed out", "practitioner", "api client", "fhir client"),
    "admin": ("signed out", "practitioner", "other student"),
}
# Where a caller reads their own audit trail: a FHIR client, its AuditEvents.
TRAILS = {"fhir client": "/fhir/AuditEvent"}
# What a caller may read of the student without any consent: an academic of the student's
# department their names and student number (DESIGN.md, "The access policy").
ALLOWED_MARKERS = {
    # The admin of the organisation whose member used an override reviews it by its id; its
    # agreements, invitations and rights requests are the admin's to manage.
    "org_admin": {
        "uuid of the override",
        "uuid of the agreement",
        "uuid of the invitation",
        "uuid of the rights request",
    },
    "academic": {
        "legal given name",
        "legal family name",
        "preferred name",
        "student number",
        "uuid of the student",
    },
}
UNIVERSITY = frozenset(
    {"practitioner", "service_manager", "academic", "academic elsewhere", "org_admin",
     "researcher", "other student"}
)  # fmt: skip
EVERYONE = frozenset(CALLERS)
# Where a caller may tell the real id from a missing one, and why. Markers are checked here
# as everywhere else.
LEGITIMATE = {
    # An organisation's admin reviews each override its members used.
    "governance:override-review": {"org_admin"},
    # An organisation's admin manages the agreements their organisation is party to.
    "governance:agreement": {"org_admin"},
    "governance:agreement-change": {"org_admin"},
    # An organisation's admin manages its people and the invitations it sent.
    "governance:person": {"org_admin"},
    "governance:invitation": {"org_admin"},
    "governance:rights-request": {"org_admin"},
    # The invitation's link is its own authority, for whoever holds it.
    "governance:join": EVERYONE,
    # Services are no secret: the directory lists every one to everyone signed in, its
    # editor is the organisation's admin, and a student previews what any service would see
    # of their own record. FHIR's organisations, services and questionnaires name no one.
    "referrals:directory-entry": EVERYONE,
    "referrals:directory-entry-edit": {"org_admin"},
    # Anyone may ask a service that takes self-referrals for help (signed in or not), and
    # read what happens next; what they are told never depends on who is registered.
    "referrals:self-referral-create": EVERYONE,
    "referrals:self-referral-sent": EVERYONE,
    "portal:consent-preview": {"other student"},
    ("fhir:instance", "Organization"): {"fhir client"},
    ("fhir:instance", "HealthcareService"): {"fhir client"},
    ("fhir:instance", "Questionnaire"): {"fhir client"},
    ("fhir:vread", "Organization"): {"fhir client"},
    ("fhir:vread", "HealthcareService"): {"fhir client"},
    ("fhir:vread", "Questionnaire"): {"fhir client"},
    ("fhir:history-instance", "Organization"): {"fhir client"},
    ("fhir:history-instance", "HealthcareService"): {"fhir client"},
    ("fhir:history-instance", "Questionnaire"): {"fhir client"},
    # The id is the authority (signed, single use, sent to one person): whoever holds it may
    # use it, signed in or not, and what it opens shows nothing of the student.
    "portal:questionnaire-complete": EVERYONE,
    "risk:concern-private": EVERYONE,
    "account_confirm_email": EVERYONE,
    "account_reset_password_from_key": EVERYONE,
    # Advisory groups are open to every member of staff and student of their university
    # (`feedback.selectors.groups_for`); who is in one, and their comments, go by the policy.
    "feedback:group": UNIVERSITY,
    "feedback:group-add": UNIVERSITY,
    "feedback:group-action-done": UNIVERSITY,
    "feedback:draft": UNIVERSITY,
    # An academic of the student's department reads their name and number.
    "record:student-detail": {"academic"},
    "api:read_student": {"academic"},
}


def _legitimate(case: Case, caller: str) -> bool:
    values = dict(case.values)
    keys = [case.route.name, (case.route.name, values.get("resource_type"))]
    return any(caller in LEGITIMATE.get(key, ()) for key in keys)


def _callers(hub) -> dict[str, Client]:
    users = {name: getattr(hub, name, None) for name in SESSION_CALLERS[1:]} | {
        "academic elsewhere": make_staff(
            "gus@nb.ac.uk", Role.ACADEMIC, hub.university,
            department=Department.objects.create(organisation=hub.university, name="Geology"),
        ),
        "other student": hub.student_user,
    }  # fmt: skip
    clients = {"signed out": Client()}
    for name, user in users.items():
        clients[name] = SignedInClient()
        clients[name].force_login(user)
    api_token = make_token(make_client(hub.wellbeing))
    clients["api client"] = Client(headers={"Authorization": f"Bearer {api_token}"})
    fhir_token = token_for(hub.talking, f"{ALL_READ} {ALL_WRITE}")
    clients["fhir client"] = Client(headers={"Authorization": f"Bearer {fhir_token}"})
    return clients


def _ask(client, method: str, url: str, before: dict[str, str], trail: str | None = None):
    """Send one request and undo it: its status, its text, then what the caller sees next
    (the page it redirects to, with any message left there; their own audit trail, where
    they can read one), and the tables it wrote to. Each request starts from the planted
    state, with the caller's own cookies (a sign-in link that signs them out changes no
    other answer)."""
    cookies = copy.deepcopy(client.cookies)
    cache.clear()  # rate limits count by address, and every caller here has the same one
    with transaction.atomic():
        response = _send(client, method, url)
        text = _text(response)
        if response.status_code in (301, 302, 303) and response["Location"].startswith("/"):
            text += "\nThen: " + _text(client.get(response["Location"]))
        if trail is not None:  # a refusal must leave no more trace there than a missing id
            text += "\nTrail: " + _text(client.get(trail))
        after = _snapshot()
        transaction.set_rollback(True)
    client.cookies = cookies
    return response.status_code, text, [table for table in before if before[table] != after[table]]


def _send(client, method: str, url: str):
    """GET, or POST an empty body of the kind the route reads: JSON to the API, FHIR JSON to
    FHIR, a form to pages; DELETE as FHIR's bulk export takes it."""
    headers = {"X-Request-Id": "access-matrix"}
    if method == "post" and url.startswith("/api/"):
        return client.post(url, "{}", content_type="application/json", headers=headers)
    if method == "post" and url.startswith("/fhir"):
        return client.post(url, "{}", content_type="application/fhir+json", headers=headers)
    return getattr(client, method)(url, headers=headers)


def _text(response) -> str:
    if response.streaming:
        content = b"".join(response.streaming_content)
        response.close()
    else:
        content = response.content
    if response.get("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    return content.decode("utf-8", "replace") + "\nLocation: " + response.get("Location", "")


def _normalised(text: str, ids: list[str]) -> str:
    """The answer with what changes on every request (tokens, times), and the ids asked for,
    taken out."""
    text = re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf token>", text)
    text = re.sub(r'nonce="[^"]*"', 'nonce=""', text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "<time>", text)
    for value in sorted(ids, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", "<id>", text)
    return text


def _snapshot() -> dict[str, str]:
    """A digest of every row of the project's tables (the audit log aside: each refusal is
    written there, by design)."""
    with connection.cursor() as cursor:
        state = {}
        for table in _PROJECT_TABLES:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608 (our own names)
            state[table] = hashlib.sha256(repr(cursor.fetchall()).encode()).hexdigest()
    return state


_PROJECT_TABLES = sorted(
    {
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.name.startswith("joinedup.") and config.label != "audit"
        for model in config.get_models(include_auto_created=True)
    }
)


# --- The matrix -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    """The cast, the planted student and the callers, built once for the module: each test
    runs in a savepoint of this transaction, rolled back at the end. The cast is the root
    conftest's `hub`, called through `__wrapped__` (a module fixture cannot ask for it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        hub = build_hub.__wrapped__(None)
        yield _plant(hub), _callers(hub)
        transaction.set_rollback(True)


CASES = _cases()
# FHIR's bulk export also takes DELETE (to cancel), so FHIR is asked with it too.
METHODS = {case.id: ("get", "post", "delete") if case.surface == "fhir" else ("get", "post")
           for case in CASES}  # fmt: skip


def test_the_walk_finds_every_kind_of_route():
    names = {case.route.name for case in CASES}
    assert {
        "record:student-detail",
        "referrals:referral-detail",
        "risk:concern-detail",
        "risk:panel-detail",
        "measures:link-create",
        "evaluation:extract-download",
        "fhir:instance",
        "fhir:export-file",
        "api:read_flag",
        "admin:people_student_change",
    } <= names


@pytest.mark.parametrize(
    ("case", "method"),
    [(case, method) for case in CASES for method in METHODS[case.id]],
    ids=[f"{case.id}-{method}" for case in CASES for method in METHODS[case.id]],
)
def test_no_caller_without_a_basis_learns_anything(matrix, db, case, method):
    unknown = _unknown(case.route)
    assert not unknown, (
        f"{case.route.template} takes {', '.join(unknown)}: teach the access matrix what each "
        "is, in IDS (how to find the planted object it names) or VALUES (the values it takes)."
    )
    planted, clients = matrix
    real_url, missing_url, ids = _urls(case, planted)
    assert resolve(real_url.split("?")[0]).func is case.route.callback, real_url
    # The id asked for may be echoed back; every other planted id or value may not.
    asked = {real for real, _missing in ids}
    markers = {m: value for m, value in planted.markers().items() if value not in asked}
    before = _snapshot()
    problems = []
    for caller in CALLERS_OF[case.surface]:
        allowed = ALLOWED_MARKERS.get(caller, set())
        answers = {}
        for which, url in (("real", real_url), ("missing", missing_url)):
            status, text, written = _ask(clients[caller], method, url, before, TRAILS.get(caller))
            answers[which] = (status, _normalised(text, [i for pair in ids for i in pair]))
            leaked = [m for m, value in markers.items() if value in text and m not in allowed]
            if leaked:
                problems.append(f"{caller}, {which} id: {status} shows {leaked}")
            if written:
                problems.append(f"{caller}, {which} id: {status} wrote to {written}")
        if ids and not _legitimate(case, caller) and answers["real"] != answers["missing"]:
            problems.append(
                f"{caller}: the real id answers {answers['real'][0]}, a missing one "
                f"{answers['missing'][0]}" + _difference(answers["real"][1], answers["missing"][1])
            )
    assert not problems, f"{method.upper()} {real_url}:\n" + "\n".join(problems)


def _difference(real: str, missing: str) -> str:
    if real == missing:
        return ""
    pairs = enumerate(zip(real, missing, strict=False))
    start = next((i for i, (a, b) in pairs if a != b), min(len(real), len(missing)))
    return f"; they differ at …{real[start : start + 120]!r} / …{missing[start : start + 120]!r}"


def _pages_without_ids(resolver=None, prefix="/") -> list[str]:
    """Every page of the project whose path takes no parameter (the walk above takes the
    others), but the admin's, the API's and FHIR's."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        template = prefix + _part(pattern)
        if template.startswith(("/admin", "/api", "/fhir", "/o/", "/static")):
            continue
        if isinstance(pattern, URLResolver):
            found += _pages_without_ids(pattern, template)
        elif isinstance(pattern, URLPattern) and not re.findall(r"<(\w+)>", template):
            found.append(template)
    return sorted(set(found))


def test_an_organisation_admin_reads_no_clinical_content_on_any_page(matrix, db):
    """Every page an organisation's admin can open, and the downloads of the governance pages
    that hold the most (the audit log's), shows nothing clinical of the planted student."""
    _planted, clients = matrix
    today = timezone.localdate()
    period = f"start={today - dt.timedelta(days=6)}&end={today}"
    paths = [*_pages_without_ids(), f"/governance/audit/?{period}",
             f"/governance/audit/?{period}&download=csv"]  # fmt: skip
    assert "/governance/people/" in paths
    leaked = []
    for path in paths:
        text = _text(clients["org_admin"].get(path))
        leaked += [f"{path}: {m}" for m, value in TEXTS.items() if value in text]
    assert not leaked
