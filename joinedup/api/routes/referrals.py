"""Referrals: the ones my services sent or are waiting on, one referral as both sides see
it, writing one, and each step of its life, taken only from the version the caller read."""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Router, Schema, Status
from pydantic import AwareDatetime, Field

from joinedup.api.errors import COMMON, ErrorOut, form_errors
from joinedup.api.paging import PageInfo, PageQuery, take_page
from joinedup.consent.policy import get_student_for_user, seats_of
from joinedup.consent.rules import CLINICAL_ROLES
from joinedup.people.models import Service
from joinedup.people.permissions import can_view_caseload
from joinedup.referrals import forms, selectors, services
from joinedup.referrals.models import Referral

router = Router(tags=["referrals"])


class ClockOut(Schema):
    days_to_first_contact: int | None
    days_to_treatment: int | None
    days_waited: int
    standard_days: int | None
    still_waiting: bool
    colour: str = Field(description="green, amber (near the standard) or red (past it).")


class ReferralSummary(Schema):
    uuid: UUID
    student_uuid: UUID
    student_name: str
    from_service: str | None
    to_service: str
    source: str
    state: str
    version: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    clock: ClockOut | None


class ReferralPage(PageInfo):
    items: list[ReferralSummary]


class CarriedEntry(Schema):
    uuid: UUID
    category: str
    title: str
    body: str
    service: str
    created_at: dt.datetime


class WithheldEntry(Schema):
    category: str
    held_by: str


class ReferralOut(ReferralSummary):
    reason: str
    opened_at: dt.datetime | None
    decided_at: dt.datetime | None
    decline_reason: str
    signposted_to: str
    withdrawn_at: dt.datetime | None
    first_contact_at: dt.datetime | None
    treatment_started_at: dt.datetime | None
    discharged_at: dt.datetime | None
    ending: str
    carries_assessment: bool
    carried: list[CarriedEntry] = Field(
        description="The assessment and discharge entries it carries that you may read."
    )
    withheld: list[WithheldEntry] = Field(
        description="What it carries that the student's consent does not let you read: its "
        "category and the service holding it, never its content (withheld, not absent)."
    )
    actions: list[str] = Field(description="The steps you may take next.")


class ReferralIn(Schema):
    student: UUID
    to_service: UUID
    reason: str = Field(min_length=1, max_length=5000)
    carry_assessment: bool = False
    send: bool = Field(True, description="False keeps it as a draft.")


class VersionIn(Schema):
    version: int = Field(ge=1, description="The version you read; a later one is a conflict.")


class DeclineIn(VersionIn):
    reason: Referral.DeclineReason
    signposted_to: str = Field("", max_length=200)


class MomentIn(VersionIn):
    at: AwareDatetime


class DischargeIn(MomentIn):
    ending: Referral.Ending
    summary: str = Field(min_length=1, max_length=20000)


def _clock(clock) -> ClockOut | None:
    if clock is None:
        return None
    return ClockOut(
        days_to_first_contact=clock.to_first_contact,
        days_to_treatment=clock.to_treatment,
        days_waited=clock.waited,
        standard_days=clock.standard,
        still_waiting=clock.still_waiting,
        colour=clock.colour,
    )


def _summary(referral: Referral, clock) -> dict:
    return {
        "uuid": referral.uuid,
        "student_uuid": referral.student.uuid,
        "student_name": referral.student.display_name,
        "from_service": referral.from_service.name if referral.from_service else None,
        "to_service": referral.to_service.name,
        "source": referral.source,
        "state": referral.state,
        "version": referral.version,
        "created_at": referral.created_at,
        "sent_at": referral.sent_at,
        "clock": _clock(clock),
    }


def _detail(view: selectors.ReferralView) -> ReferralOut:
    r = view.referral
    return ReferralOut(
        **_summary(r, view.clock),
        reason=r.reason,
        opened_at=r.opened_at,
        decided_at=r.decided_at,
        decline_reason=r.decline_reason,
        signposted_to=r.signposted_to,
        withdrawn_at=r.withdrawn_at,
        first_contact_at=r.first_contact_at,
        treatment_started_at=r.treatment_started_at,
        discharged_at=r.discharged_at,
        ending=r.ending,
        carries_assessment=r.carries_assessment,
        carried=[
            CarriedEntry(
                uuid=e.uuid,
                category=e.category,
                title=e.title,
                body=e.body,
                service=e.service.name,
                created_at=e.created_at,
            )
            for e in view.carried
        ],
        withheld=[
            WithheldEntry(category=e.category, held_by=e.service.name) for e in view.withheld
        ],
        actions=view.actions,
    )


def _clinical(user) -> None:
    if not can_view_caseload(user):
        raise PermissionDenied("Only practitioners, triage and liaison staff work with referrals.")


def _own_service(user) -> Service | None:
    """The service the caller refers from and receives for: their first clinical seat's."""
    seat = next((s for s in seats_of(user) if s.service_id and s.role in CLINICAL_ROLES), None)
    return Service.objects.get(pk=seat.service_id) if seat else None


@router.get("/referrals", response={200: ReferralPage, **COMMON}, summary="Referrals")
def list_referrals(
    request,
    paging: PageQuery,
    box: Literal["sent", "waiting"] = "sent",
    state: Referral.State | None = None,
):
    """`sent`: referrals my services made that are open or changed in the last 90 days,
    newest first (the latest 200, as on the page), narrowed to one `state` if given.
    `waiting`: my service's waiting list, longest wait first, 50 to a page. Each student
    listed is audited, as on the pages."""
    user = request.auth
    _clinical(user)
    if box == "sent":
        rows = selectors.sent_by(user, request=request)
    else:
        service = _own_service(user)
        rows = []
        if service is not None:
            # The waiting list reads (and audits) one page of the page's size at a time.
            waiting = selectors.waiting_list_for(
                user, service, page_number=paging.page, request=request
            )
            return ReferralPage(
                count=waiting.page.paginator.count,
                page=waiting.page.number,
                page_size=selectors.WAITING_PAGE,
                items=[ReferralSummary(**_summary(w.referral, w.clock)) for w in waiting.rows],
            )
    rows = [(r, c) for r, c in rows if state is None or r.state == state]
    page, info = take_page(rows, paging)
    return ReferralPage(**info.dict(), items=[ReferralSummary(**_summary(r, c)) for r, c in page])


@router.get(
    "/referrals/{referral_uuid}", response={200: ReferralOut, **COMMON}, summary="A referral"
)
def read_referral(request, referral_uuid: UUID):
    """The referral as the referring or receiving service sees it: its state and version,
    clocks, what it carries that the policy lets you read, and the steps you may take. The
    receiving service's first read is its receipt."""
    user = request.auth
    _clinical(user)
    view = selectors.get_referral_for_user(user, referral_uuid, request=request)
    if view.is_receiver:
        services.mark_opened(actor=user, referral=view.referral)
    return _detail(view)


@router.post("/referrals", response={201: ReferralOut, **COMMON}, summary="Refer a student")
def create_referral(request, payload: ReferralIn):
    """Refer a student from my service to another, sent at once unless `send` is false. A
    service that does not take this kind of referral, or an assessment the student has not
    agreed to share with the receiving service, is refused with the reason."""
    user = request.auth
    _clinical(user)
    student = get_student_for_user(user, payload.student, request=request)
    to_service = Service.objects.filter(uuid=payload.to_service).first()
    if to_service is None:
        raise ValidationError({"to_service": ["No service with that uuid."]})
    referral = services.create_referral(
        actor=user,
        student=student,
        from_service=_own_service(user),
        to_service=to_service,
        source="service",
        reason=payload.reason,
        carry_assessment=payload.carry_assessment,
        send=payload.send,
        request=request,
    )
    return Status(
        201, _detail(selectors.get_referral_for_user(user, referral.uuid, request=request))
    )


# action → (the page's form for its fields, or None; the service that takes the step)
ACTIONS = {
    "send": (None, services.send_referral),
    "accept": (None, services.accept_referral),
    "decline": (forms.DeclineForm, services.decline_referral),
    "withdraw": (None, services.withdraw_referral),
    "add_to_waiting_list": (None, services.add_to_waiting_list),
    "first_contact": (forms.MomentForm, services.record_first_contact),
    "start_treatment": (forms.MomentForm, services.start_treatment),
    "discharge": (forms.DischargeForm, services.discharge_referral),
}
ACTION_RESPONSES = {200: ReferralOut, 409: ErrorOut, **COMMON}


def _act(request, referral_uuid: UUID, action: str, payload: VersionIn):
    """Take one step, as the page's action form does: the same checks of who may take it,
    the page's form for its fields, and the service, refusing a stale version (409)."""
    user = request.auth
    _clinical(user)
    view = selectors.get_referral_for_user(user, referral_uuid, request=request)
    if action not in view.actions:
        raise ValidationError("You cannot do that to this referral now.")
    form_class, service = ACTIONS[action]
    fields = {}
    if form_class is not None:
        form = form_class(payload.dict(exclude={"version"}))
        if not form.is_valid():
            raise form_errors(form)
        fields = form.cleaned_data
    service(actor=user, referral=view.referral, version=payload.version, request=request, **fields)
    # A service that declined or discharged still reads its own referral; what it carries
    # from others is decided afresh (its care relationship has ended).
    return _detail(selectors.get_referral_for_user(user, referral_uuid, request=request))


@router.post("/referrals/{referral_uuid}/send", response=ACTION_RESPONSES, summary="Send")
def send(request, referral_uuid: UUID, payload: VersionIn):
    """Send a draft referral (the referring service)."""
    return _act(request, referral_uuid, "send", payload)


@router.post("/referrals/{referral_uuid}/accept", response=ACTION_RESPONSES, summary="Accept")
def accept(request, referral_uuid: UUID, payload: VersionIn):
    """Accept: an episode of care with the receiving service begins."""
    return _act(request, referral_uuid, "accept", payload)


@router.post("/referrals/{referral_uuid}/decline", response=ACTION_RESPONSES, summary="Decline")
def decline(request, referral_uuid: UUID, payload: DeclineIn):
    """Decline, with a reason from the list and where the student was signposted."""
    return _act(request, referral_uuid, "decline", payload)


@router.post("/referrals/{referral_uuid}/withdraw", response=ACTION_RESPONSES, summary="Withdraw")
def withdraw(request, referral_uuid: UUID, payload: VersionIn):
    """Withdraw (the referring service)."""
    return _act(request, referral_uuid, "withdraw", payload)


@router.post(
    "/referrals/{referral_uuid}/add-to-waiting-list",
    response=ACTION_RESPONSES,
    summary="Put on the waiting list",
)
def add_to_waiting_list(request, referral_uuid: UUID, payload: VersionIn):
    """Put an accepted referral on the waiting list."""
    return _act(request, referral_uuid, "add_to_waiting_list", payload)


@router.post(
    "/referrals/{referral_uuid}/first-contact",
    response=ACTION_RESPONSES,
    summary="Record first contact",
)
def first_contact(request, referral_uuid: UUID, payload: MomentIn):
    """Stop the first clock: the service spoke with the student at `at`."""
    return _act(request, referral_uuid, "first_contact", payload)


@router.post(
    "/referrals/{referral_uuid}/start-treatment",
    response=ACTION_RESPONSES,
    summary="Start treatment",
)
def start_treatment(request, referral_uuid: UUID, payload: MomentIn):
    """Stop the treatment clock at `at`."""
    return _act(request, referral_uuid, "start_treatment", payload)


@router.post("/referrals/{referral_uuid}/discharge", response=ACTION_RESPONSES, summary="Discharge")
def discharge(request, referral_uuid: UUID, payload: DischargeIn):
    """Discharge with a planned or unplanned ending and a summary for the referring service."""
    return _act(request, referral_uuid, "discharge", payload)
