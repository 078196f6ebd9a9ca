from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from joinedup.consent.policy import audit_listing, readable_students, seats_of
from joinedup.people.models import Service
from joinedup.people.permissions import can_record_consent, can_view_caseload, capability_required
from joinedup.record.selectors import get_record_for_user
from joinedup.risk.selectors import current_levels


def crisis_service_ids() -> set[int]:
    return set(Service.objects.filter(kind=Service.Kind.CRISIS).values_list("pk", flat=True))


PAGE_SIZE = 25


@login_required
@capability_required(can_view_caseload)
def caseload(request):
    """Students with an open care relationship to one of my services."""
    query = request.GET.get("q", "")
    students = (
        readable_students(request.user, "identity", bases=("relationship",))
        .search(query)
        .select_related("university")
        .order_by("preferred_name", "legal_family_name", "pk")
    )
    page = Paginator(students, PAGE_SIZE).get_page(request.GET.get("page"))
    levels = current_levels(request.user, [student.pk for student in page])
    audit_listing(
        request.user,
        list(page),
        action="record.caseload.listed",
        reason="Listed on the caseload.",
        request=request,
        categories=lambda s: ("identity", "risk") if s.pk in levels else ("identity",),
    )
    for student in page:
        student.risk_level = levels.get(student.pk, "")
    return render(request, "record/caseload.html", {"page": page, "query": query})


@login_required
def student_detail(request, student_uuid):
    """The student's record: each category the policy allows, and why the others are hidden."""
    record = get_record_for_user(request.user, student_uuid, request=request)
    seats = seats_of(request.user)
    risk = record.section("risk").decision if len(record.sections) > 1 else None
    # A service that no longer works with the student reads what it wrote, and acts no more.
    in_care = record.section("identity").decision.basis != "authored"
    return render(request, "record/student_detail.html", {
        "record": record,
        "is_clinical": can_view_caseload(request.user) and in_care,
        "may_ask": can_record_consent(request.user) and in_care,
        "whom": _("you"),
        "is_crisis": any(s.service_id in crisis_service_ids() for s in seats),
        "risk_level": current_levels(request.user, [record.student.pk]).get(record.student.pk)
        if risk and risk.allowed else None,
    })  # fmt: skip
