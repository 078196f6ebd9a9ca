from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.measures import instruments
from joinedup.measures.forms import LinkForm, QuestionnaireForm, SessionForm
from joinedup.measures.models import Administration
from joinedup.measures.selectors import (
    due_for,
    get_episode_for_user,
    get_outcomes_for_user,
    item_texts,
    worklist_for,
)
from joinedup.measures.services import (
    record_administration,
    send_completion_link,
)
from joinedup.people.permissions import can_view_caseload, capability_required


@login_required
@capability_required(can_view_caseload)
def worklist(request):
    """Questionnaires due across my services."""
    page = worklist_for(request.user, page_number=request.GET.get("page"), request=request)
    return render(request, "measures/worklist.html", {"page": page, "keep_query": True})


@login_required
def outcomes(request, student_uuid):
    """A student's questionnaires: a chart and table per measure, and what is due."""
    view = get_outcomes_for_user(request.user, student_uuid, request=request)
    return render(
        request, "measures/outcomes.html", {"view": view, "measure_codes": instruments.CODES}
    )


def _instrument_or_404(code: str):
    try:
        return instruments.get(code)
    except ValueError:
        raise Http404("No such measure.") from None


@login_required
@capability_required(can_view_caseload)
def administration_create(request, episode_uuid, code):
    """Record a questionnaire in a session, every item on one screen."""
    episode = get_episode_for_user(request.user, episode_uuid)
    instrument = _instrument_or_404(code)
    data = request.POST if request.method == "POST" else None
    form = QuestionnaireForm(data, instrument=instrument, texts=item_texts(instrument))
    due = due_for([episode])[0]
    session = SessionForm(
        data, initial={"session_number": due.session_number, "completed_on": timezone.localdate()}
    )
    if data is not None and all([form.is_valid(), session.is_valid()]):
        try:
            record_administration(
                actor=request.user,
                student=episode.student,
                service=episode.service,
                code=code,
                answers=form.answers(),
                method=Administration.Method.IN_SESSION,
                episode=episode,
                session_number=session.cleaned_data["session_number"],
                completed_at=_completed_at(session.cleaned_data["completed_on"]),
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(code)s saved.") % {"code": code})
            return redirect("measures:outcomes", episode.student.uuid)
    return render(
        request,
        "measures/administration_form.html",
        {"episode": episode, "form": form, "session": session, "instrument": instrument},
    )


def _completed_at(day):
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.combine(day, time(12)))


@login_required
@capability_required(can_view_caseload)
@require_POST
def link_create(request, episode_uuid):
    """Send the student a one-time link to complete questionnaires before a session."""
    episode = get_episode_for_user(request.user, episode_uuid)
    due = due_for([episode])[0]
    form = LinkForm(request.POST, codes=instruments.CODES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("measures:outcomes", episode.student.uuid)
    token = send_completion_link(
        actor=request.user,
        episode=episode,
        codes=form.cleaned_data["codes"],
        session_number=form.cleaned_data["session_number"] or due.session_number,
        request=request,
    )
    url = request.build_absolute_uri(reverse("portal:questionnaire-complete", args=[token]))
    messages.success(
        request,
        _(
            "A link has been emailed to the student. It works once. You can also give it to "
            "them: %(url)s"
        )
        % {"url": url},
    )
    return redirect("measures:outcomes", episode.student.uuid)
