"""The service report, for service managers and researchers: the same builder, the same
disclosure control and the same audit as the report page."""

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from ninja import Query, Router, Schema
from pydantic import Field

from joinedup.api.errors import COMMON, form_errors
from joinedup.evaluation import reports
from joinedup.evaluation.report_views import ReportForm

router = Router(tags=["reports"])

Breakdown = Literal[
    "",
    "gender",
    "ethnicity_group",
    "disability",
    "is_international",
    "first_in_family",
    "care_experienced",
    "sexual_orientation",
    "age_band",
    "level_of_study",
    "year_of_study",
    "practitioner",
]
assert set(Breakdown.__args__) == {"", *reports.BREAKDOWNS}  # noqa: S101


class ReportQuery(Schema):
    start: dt.date = Field(description="First day of the period.")
    end: dt.date = Field(description="The day after the period (not included).")
    service: list[UUID] = Field(
        min_length=1, max_length=50, description="The services to report on, by uuid."
    )
    breakdown: Breakdown = Field("", description="A student attribute to break figures down by.")


class ReportOut(Schema):
    description: str
    report: dict[str, Any] = Field(
        description="Tables and chart data for each student group, every figure already "
        "through disclosure control (small numbers suppressed), as on the report page."
    )


@router.get("/reports", response={200: ReportOut, **COMMON}, summary="A service report")
def service_report(request, query: Query[ReportQuery]):
    """The service report for a period and services, optionally by student group: for
    service managers (their own organisation's services) and researchers. No student is
    named in it; each run is audited."""
    user = request.auth
    if not reports.can_run_reports(user):
        raise PermissionDenied("Only service managers and researchers run reports.")
    allowed = reports.report_services_for(user).filter(uuid__in=query.service)
    if len(allowed) != len(set(query.service)):
        raise ValidationError({"service": ["You cannot report on one or more of these services."]})
    form = ReportForm(
        {
            "start": query.start,
            "end": query.end,
            "service": [s.pk for s in allowed],
            "breakdown": query.breakdown,
        },
        user=user,
    )
    if not form.is_valid():
        raise form_errors(form)
    parameters = form.parameters()
    description = reports.describe(parameters, form.cleaned_data["service"])
    built = reports.build_report(parameters)
    reports.record_report_run(
        actor=user, action="api.report.viewed", description=description, request=request
    )
    return ReportOut(description=description, report=built)
