from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from joinedup.evaluation.reports import can_run_reports
from joinedup.people.models import Role
from joinedup.people.permissions import can_view_caseload


@login_required
def home(request):
    """Students go to their own record, clinical staff to their caseload, managers and
    researchers to their reports, academic staff to the concerns they raised."""
    if hasattr(request.user, "student_record"):
        return redirect("portal:home")
    if can_view_caseload(request.user):
        return redirect("record:caseload")
    if can_run_reports(request.user):
        return redirect("evaluation:report")
    if request.user.memberships.filter(role=Role.ACADEMIC).exists():
        return redirect("risk:concerns")
    return redirect("record:caseload")
