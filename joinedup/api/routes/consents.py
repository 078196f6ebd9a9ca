"""A student's consents, and recording one the student gave to a member of staff."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field, field_validator

from joinedup.api.errors import COMMON
from joinedup.api.paging import PageInfo, PageQuery, take_page
from joinedup.consent.models import Category, ConsentGrant, Purpose
from joinedup.consent.policy import decide_many, find_student, get_student_for_user
from joinedup.consent.services import record_consent
from joinedup.people.models import Department, Organisation, Service
from joinedup.people.permissions import can_record_consent
from joinedup.record.selectors import consents_of

router = Router(tags=["consents"])

RecipientKind = Literal["service", "department", "organisation"]
RECIPIENT_MODELS = {"service": Service, "department": Department, "organisation": Organisation}


class Recipient(Schema):
    kind: RecipientKind
    uuid: UUID
    name: str


class ConsentOut(Schema):
    uuid: UUID
    category: str
    purpose: str
    how_given: str
    recipient: Recipient
    valid_from: dt.datetime
    valid_until: dt.datetime | None
    withdrawn_at: dt.datetime | None
    is_active: bool
    recorded_at: dt.datetime


class ConsentPage(PageInfo):
    items: list[ConsentOut]
    shown: str = Field(
        description="`all` the student's consents, or `yours`: only those given to your "
        "service, department or organisation, or recorded by you."
    )


class RecipientIn(Schema):
    kind: RecipientKind
    uuid: UUID


class ConsentIn(Schema):
    category: Category
    purpose: Purpose
    how_given: Literal["in_person", "paper_form"] = Field(
        description="Staff record consent given in person or on a paper form; the student "
        "gives it in the portal themselves."
    )
    recipient: RecipientIn
    valid_from: AwareDatetime | None = Field(None, description="Blank: from now.")
    valid_until: AwareDatetime | None = Field(None, description="Blank: no end date.")

    @field_validator("valid_until")
    @classmethod
    def ends_after_start(cls, end, info):
        start = info.data.get("valid_from") or dt.datetime.now(dt.UTC)
        if end is not None and end <= start:
            raise ValueError("The end must be after the start.")
        return end


def consent_out(grant: ConsentGrant) -> ConsentOut:
    kind = next(k for k in RECIPIENT_MODELS if getattr(grant, f"recipient_{k}_id"))
    recipient = grant.recipient
    return ConsentOut(
        uuid=grant.uuid,
        category=grant.category,
        purpose=grant.purpose,
        how_given=grant.how_given,
        recipient=Recipient(kind=kind, uuid=recipient.uuid, name=recipient.name),
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        withdrawn_at=grant.withdrawn_at,
        is_active=grant.is_active,
        recorded_at=grant.created_at,
    )


@router.get(
    "/students/{student_uuid}/consents",
    response={200: ConsentPage, **COMMON},
    summary="A student's consents",
)
def list_consents(request, student_uuid: UUID, paging: PageQuery):
    """The student's consents, newest first. Who a student shares with is engagement data:
    as on the record page, a caller who may see only their own service's engagement sees
    only the consents given to them. 404 unless identity and engagement are allowed."""
    user = request.auth
    student = find_student(student_uuid)
    decisions = decide_many(
        user,
        student,
        ["identity", "engagement"],
        request=request,
        action="api.consents.read",
        gate="identity",
    )
    if len(decisions) < 2 or not all(d.allowed for d in decisions.values()):
        raise Http404("No such student.")
    whole = decisions["engagement"].whole
    grants = consents_of(student, user=None if whole else user).order_by("-created_at", "-pk")
    rows, info = take_page(grants, paging)
    return ConsentPage(
        **info.dict(), items=[consent_out(g) for g in rows], shown="all" if whole else "yours"
    )


@router.post(
    "/students/{student_uuid}/consents",
    response={201: ConsentOut, **COMMON},
    summary="Record a consent",
)
def create_consent(request, student_uuid: UUID, payload: ConsentIn):
    """Record consent the student gave in person or on a paper form, as clinical staff may
    on the record page. The recipient is a service, department or organisation by uuid."""
    user = request.auth
    if not can_record_consent(user):
        raise PermissionDenied("Only clinical staff may record a student's consent.")
    student = get_student_for_user(user, student_uuid, request=request)
    model = RECIPIENT_MODELS[payload.recipient.kind]
    recipient = model.objects.filter(uuid=payload.recipient.uuid).first()
    if recipient is None:
        raise ValidationError({"recipient": [f"No {payload.recipient.kind} with that uuid."]})
    grant = record_consent(
        actor=user,
        student=student,
        category=payload.category,
        purpose=payload.purpose,
        how_given=payload.how_given,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
        request=request,
        **{f"recipient_{payload.recipient.kind}": recipient},
    )
    return Status(201, consent_out(grant))
