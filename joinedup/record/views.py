from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.policy import readable_students, seats_of
from joinedup.people.models import Service
from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.record.selectors import get_record_for_user


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
    seat = next(s for s in seats_of(request.user) if s.service_id)
    append([
        Entry(action="record.caseload.listed", actor=request.user, student=student,
              category="identity", allowed=True, basis="relationship",
              reason="Listed on the caseload.", actor_role=seat.role, actor_service=seat.place,
              actor_organisation=seat.organisation_name, request_id=request_id_of(request))
        for student in page
    ])  # fmt: skip
    return render(request, "record/caseload.html", {"page": page, "query": query})


@login_required
def student_detail(request, student_uuid):
    """The student's record: each category the policy allows, and why the others are hidden."""
    record = get_record_for_user(request.user, student_uuid, request=request)
    seats = seats_of(request.user)
    return render(request, "record/student_detail.html", {
        "record": record,
        "is_clinical": can_view_caseload(request.user),
        "is_crisis": any(s.service_id in crisis_service_ids() for s in seats),
    })  # fmt: skip
