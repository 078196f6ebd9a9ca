from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from joinedup.consent.policy import get_student_for_user
from joinedup.lib.http import safe_next
from joinedup.people.permissions import can_view_caseload, capability_required, is_staff_member
from joinedup.referrals.work import forms, selectors, services


@login_required
@capability_required(is_staff_member)
def task_list(request):
    """My open tasks, my teams', those I set; a manager's services' overdue tasks."""
    tasks = selectors.task_list_for(request.user, request=request)
    return render(request, "referrals/tasks.html", {"tasks": tasks})


@login_required
@capability_required(can_view_caseload)
@require_http_methods(["GET", "POST"])
def task_create(request, student_uuid=None):
    """Set a task for a colleague or a team, about a student (from their record) or not."""
    student = student_uuid and get_student_for_user(request.user, student_uuid, request=request)
    form = forms.TaskForm(
        request.POST or None, services=services.clinical_services_of(request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service, assignee = data["assign_to"]
        try:
            services.set_task(actor=request.user, service=service, assignee=assignee,
                              student=student or None, title=data["title"],
                              detail=data["detail"], due_on=data["due_on"],
                              request=request)  # fmt: skip
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, _("Task set."))
            if student:
                return redirect("record:student-detail", student.uuid)
            return redirect("referrals:tasks")
    return render(request, "referrals/task_form.html", {"form": form, "student": student})


@login_required
@require_POST
def task_done(request, task_uuid):
    """Mark a task done (saying what was done, where it asks)."""
    task = selectors.get_task_for_user(request.user, task_uuid)
    form = forms.DoneForm(request.POST)
    form.is_valid()
    try:
        services.complete_task(actor=request.user, task=task,
                               outcome=form.cleaned_data.get("outcome", ""),
                               request=request)  # fmt: skip
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Marked done."))
    return redirect(safe_next(request, "referrals:tasks"))
