"""Risk flags waiting for my services to acknowledge, one flag, and acknowledging it."""

import datetime as dt
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Router, Schema
from pydantic import Field

from joinedup.api.errors import COMMON
from joinedup.api.paging import PageInfo, PageQuery, take_page
from joinedup.consent.policy import decide_many
from joinedup.people.permissions import can_view_caseload
from joinedup.risk import selectors, services
from joinedup.risk.models import Flag

router = Router(tags=["flags"])


class FlagOut(Schema):
    uuid: UUID
    student_uuid: UUID
    student_name: str
    level: str
    level_rank: int
    source: str
    service: str = Field(description="The service that raised it.")
    reason: str | None = Field(
        description="Null when it was raised by another service and the student has not "
        "agreed to share their risk with yours."
    )
    raised_at: dt.datetime
    due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    escalation_stage: int


class FlagPage(PageInfo):
    items: list[FlagOut]


def _out(flag: Flag, detail_shown: bool) -> FlagOut:
    return FlagOut(
        uuid=flag.uuid,
        student_uuid=flag.student.uuid,
        student_name=flag.student.display_name,
        level=flag.level.name,
        level_rank=flag.level.rank,
        source=flag.source,
        service=flag.service.name,
        reason=flag.reason if detail_shown else None,
        raised_at=flag.raised_at,
        due_at=flag.due_at,
        acknowledged_at=flag.acknowledged_at,
        escalation_stage=flag.escalation_stage,
    )


def _clinical(user) -> None:
    if not can_view_caseload(user):
        raise PermissionDenied("Only practitioners, triage and liaison staff see risk flags.")


@router.get("/flags", response={200: FlagPage, **COMMON}, summary="Flags to acknowledge")
def list_flags(request, paging: PageQuery):
    """Unacknowledged flags of students in my services' care, most urgent first, as on the
    flags page (each student listed is audited)."""
    _clinical(request.auth)
    rows = selectors.open_flags_for(request.auth, request=request)
    page, info = take_page(rows, paging)
    return FlagPage(**info.dict(), items=[_out(r.flag, r.detail_shown) for r in page])


def _flag_for(request, flag_uuid: UUID) -> tuple[Flag, bool]:
    """The flag, if a service of the caller has the student in its care and the policy lets
    them read the student's risk (audited); its reason only if their service raised it or
    the policy shows every service's risk."""
    user = request.auth
    _clinical(user)
    flag = selectors.get_flag_for_user(user, flag_uuid)
    decisions = decide_many(
        user, flag.student, ["identity", "risk"], request=request, action="risk.flag.read",
        gate="identity",
    )  # fmt: skip
    if len(decisions) < 2 or not all(d.allowed for d in decisions.values()):
        raise Http404("No such flag.")
    return flag, decisions["risk"].may_read_row(flag.service_id)


@router.get("/flags/{flag_uuid}", response={200: FlagOut, **COMMON}, summary="A flag")
def read_flag(request, flag_uuid: UUID):
    """One flag of a student in my services' care."""
    flag, detail_shown = _flag_for(request, flag_uuid)
    return _out(flag, detail_shown)


@router.post(
    "/flags/{flag_uuid}/acknowledge", response={200: FlagOut, **COMMON}, summary="Acknowledge"
)
def acknowledge(request, flag_uuid: UUID):
    """Acknowledge the flag for my service; a flag acknowledged already is refused."""
    flag, detail_shown = _flag_for(request, flag_uuid)
    flag = services.acknowledge_flag(actor=request.auth, flag=flag, request=request)
    return _out(flag, detail_shown)
