from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Students go to their own record, staff to their caseload."""
    if hasattr(request.user, "student_record"):
        return redirect("portal:home")
    return redirect("record:caseload")
