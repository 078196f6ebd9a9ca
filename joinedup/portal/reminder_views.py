"""The student's choice of how they are reminded of appointments and questionnaires."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from joinedup.portal.views import _own_student
from joinedup.reminders.forms import ReminderPreferenceForm
from joinedup.reminders.services import preference_of, set_reminder_preference


@login_required
def reminders(request):
    """Email, text message, both or none; with the addresses reminders would go to."""
    student = _own_student(request)
    form = ReminderPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"channel": preference_of(student)},
    )
    if request.method == "POST" and form.is_valid():
        set_reminder_preference(
            actor=request.user,
            student=student,
            channel=form.cleaned_data["channel"],
            request=request,
        )
        messages.success(request, _("Your reminder choice is saved."))
        return redirect("portal:reminders")
    email = student.email or request.user.email
    return render(
        request,
        "portal/reminders.html",
        {"form": form, "email": email, "phone": student.phone},
        status=400 if form.errors else 200,
    )
