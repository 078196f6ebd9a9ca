"""Questionnaire administrations: a student's, one with its answers, and recording one.

Scores always come from `joinedup.measures.scoring`, run on the answers by the recording
service: there is no field for a total, and a total sent anyway is ignored.
"""

import datetime as dt
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from joinedup.api.errors import COMMON, form_errors
from joinedup.api.paging import PageInfo, PageQuery, take_page
from joinedup.measures import instruments, scoring
from joinedup.measures.forms import QuestionnaireForm, SessionForm
from joinedup.measures.models import Administration
from joinedup.measures.selectors import get_episode_for_user, get_outcomes_for_user, item_texts
from joinedup.measures.services import record_administration
from joinedup.people.permissions import can_view_caseload

router = Router(tags=["administrations"])

MeasureCode = Literal["PHQ-9", "GAD-7", "CORE-10", "CORE-OM", "WEMWBS", "SWEMWBS"]
assert set(MeasureCode.__args__) == set(instruments.CODES)  # noqa: S101


class AdministrationOut(Schema):
    uuid: UUID
    student_uuid: UUID
    code: str
    service: str
    session_number: int | None
    completed_at: dt.datetime
    method: str
    is_valid: bool
    is_prorated: bool
    total: float | None
    main_score: float | None
    band: str
    is_case: bool | None
    has_risk: bool
    risk_unanswered: bool
    subscales: dict[str, float | None]


class AnswerOut(Schema):
    item: int
    value: int


class AdministrationDetail(AdministrationOut):
    answers: list[AnswerOut]


class AdministrationPage(PageInfo):
    items: list[AdministrationOut]


class AdministrationIn(Schema):
    episode: UUID = Field(description="An open episode of care of your service.")
    code: MeasureCode
    session_number: int = Field(ge=1, le=200)
    completed_on: dt.date = Field(description="Not in the future.")
    answers: list[int | None] = Field(
        max_length=100,
        description="One per item, in item order: the position of the chosen option "
        "(as printed); null for an unanswered item.",
    )
    save_unscored: bool = Field(
        False, description="Save even though too many items are unanswered to score it."
    )
    method: Literal["in_session", "imported"] = "in_session"


def _out(a: Administration, cls=AdministrationOut, **extra):
    return cls(
        uuid=a.uuid,
        student_uuid=a.student.uuid,
        code=a.code,
        service=a.service.name,
        session_number=a.session_number,
        completed_at=a.completed_at,
        method=a.method,
        is_valid=a.is_valid,
        is_prorated=a.is_prorated,
        total=a.total,
        main_score=a.main_score,
        band=a.band,
        is_case=a.is_case,
        has_risk=a.has_risk,
        risk_unanswered=a.risk_unanswered,
        subscales=a.subscales,
        **extra,
    )


def _visible(user, student_uuid, request) -> list[Administration]:
    """The student's administrations the caller may read, as on the questionnaires page."""
    view = get_outcomes_for_user(user, student_uuid, request=request)
    return [a for t in view.trajectories for a in t.administrations]


@router.get(
    "/students/{student_uuid}/administrations",
    response={200: AdministrationPage, **COMMON},
    summary="A student's questionnaires",
)
def list_administrations(
    request, student_uuid: UUID, paging: PageQuery, code: MeasureCode | None = None
):
    """The student's questionnaires, by measure then date. A care relationship alone shows
    your own services' questionnaires; the student's consent shows every service's. 404
    unless identity and outcomes are allowed (audited)."""
    rows = [
        a for a in _visible(request.auth, student_uuid, request) if code is None or a.code == code
    ]
    page, info = take_page(rows, paging)
    return AdministrationPage(**info.dict(), items=[_out(a) for a in page])


@router.get(
    "/administrations/{administration_uuid}",
    response={200: AdministrationDetail, **COMMON},
    summary="A questionnaire",
)
def read_administration(request, administration_uuid: UUID):
    """One questionnaire with its answers, if the caller may read it; one they may not is
    refused exactly as one that does not exist."""
    found = (
        Administration.objects.filter(uuid=administration_uuid).select_related("student").first()
    )
    try:
        visible = _visible(request.auth, found.student.uuid, request) if found else []
    except Http404:  # the student's outcomes are refused: say nothing of the student
        visible = []
    administration = next((a for a in visible if a.pk == found.pk), None)
    if administration is None:
        raise Http404("No such questionnaire.")
    answers = [AnswerOut(item=a.item, value=a.value) for a in administration.answers.all()]
    return _out(administration, AdministrationDetail, answers=answers)


@router.post(
    "/administrations",
    response={201: AdministrationDetail, **COMMON},
    summary="Record a questionnaire",
)
def create_administration(request, payload: AdministrationIn):
    """Record a questionnaire completed in a session of an open episode of your service.
    It is scored here from the answers; a positive risk item raises a risk flag. The same
    checks as the page's form: every answer one of the measure's options, and too many
    unanswered items need `save_unscored`."""
    user = request.auth
    if not can_view_caseload(user):
        raise PermissionDenied("Only practitioners, triage and liaison staff record these.")
    episode = get_episode_for_user(user, payload.episode)
    instrument = instruments.get(payload.code)
    try:
        scoring.score(payload.code, payload.answers)
    except ValueError as error:
        raise ValidationError({"answers": [str(error)]}) from error
    form = QuestionnaireForm(
        {
            **{f"item_{n}": str(v) for n, v in enumerate(payload.answers, 1) if v is not None},
            **({"save_unscored": "on"} if payload.save_unscored else {}),
        },
        instrument=instrument,
        texts=item_texts(instrument),
    )
    session = SessionForm(
        {"session_number": payload.session_number, "completed_on": payload.completed_on}
    )
    for checked in (form, session):
        if not checked.is_valid():
            raise form_errors(checked)
    administration = record_administration(
        actor=user,
        student=episode.student,
        service=episode.service,
        code=payload.code,
        answers=form.answers(),
        method=payload.method,
        episode=episode,
        session_number=payload.session_number,
        completed_at=_completed_at(payload.completed_on),
        request=request,
    )
    answers = [AnswerOut(item=a.item, value=a.value) for a in administration.answers.all()]
    return Status(201, _out(administration, AdministrationDetail, answers=answers))


def _completed_at(day: dt.date) -> dt.datetime:
    """As the page records it: now if completed today, else midday of that day."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
