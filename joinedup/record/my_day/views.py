from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.record.my_day.selectors import my_day_for


@login_required
@capability_required(can_view_caseload)
@require_GET
def my_day(request):
    """A practitioner's day: what is due of them today, and the caseload allocated to them."""
    day = my_day_for(request.user, request=request)
    return render(request, "record/my_day.html", {"day": day, "here": reverse("record:my-day")})
