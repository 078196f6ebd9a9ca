"""Pages of case review panels."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.people.permissions import can_view_caseload, capability_required
from joinedup.risk import forms, panels


@login_required
@capability_required(can_view_caseload)
def panel_list(request):
    """My panels, my open actions (overdue first), and scheduling a new panel."""
    form = forms.PanelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        panel = panels.schedule_panel(actor=request.user, request=request, **form.cleaned_data)
        return redirect("risk:panel-detail", panel.uuid)
    return render(
        request,
        "risk/panel_list.html",
        {
            "panels": panels.panels_for(request.user),
            "form": form,
            "actions": panels.open_actions_of(request.user),
        },
    )


@login_required
@capability_required(can_view_caseload)
def panel_detail(request, panel_uuid, *, action_form=None):
    panel = panels.get_panel_for_user(request.user, panel_uuid)
    return render(
        request,
        "risk/panel_detail.html",
        {
            "panel": panel,
            "members": panel.members.select_related("user", "service"),
            "cases": panels.cases_for(request.user, panel, request=request),
            "actions": panel.actions.select_related("owner", "case__student"),
            "action_form": action_form or forms.PanelActionForm(panel=panel),
        },
        status=400 if action_form else 200,
    )


@login_required
@capability_required(can_view_caseload)
@require_POST
def panel_step(request, panel_uuid, step):
    """Invite, put a case on the agenda, record attendance, a decision or an action."""
    panel = panels.get_panel_for_user(request.user, panel_uuid)
    post, user = request.POST, request.user
    try:
        if step == "invite":
            panels.invite(actor=user, panel=panel, email=post.get("email", ""), request=request)
        elif step == "case":
            panels.add_case(
                actor=user,
                panel=panel,
                student_number=post.get("student_number", ""),
                summary=post.get("summary", ""),
                request=request,
            )
        elif step == "attendance":
            attended = {int(pk) for pk in post.getlist("attended") if pk.isdigit()}
            panels.record_attendance(
                actor=user, panel=panel, attended_ids=attended, request=request
            )
        elif step == "decision":
            case = panel.cases.filter(uuid=post.get("case")).first() or _missing()
            panels.record_decision(
                actor=user, case=case, decision=post.get("decision", ""), request=request
            )
        elif step == "action":
            form = forms.PanelActionForm(post, panel=panel)
            if not form.is_valid():
                return panel_detail(request, panel_uuid, action_form=form)
            panels.add_action(actor=user, panel=panel, request=request, **form.cleaned_data)
        elif step == "complete":
            action = panel.actions.filter(uuid=post.get("action")).first() or _missing()
            panels.complete_action(actor=user, action=action, request=request)
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("risk:panel-detail", panel.uuid)


def _missing():
    raise Http404
