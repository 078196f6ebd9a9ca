"""Pages for concerns: raising one, the triage queue, the thread, the private code."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import UUIDField
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.consent.policy import (
    audit_listing,
    decide,
    decide_many,
    readable_students,
    seats_of,
)
from joinedup.consent.rules import Decision
from joinedup.people.models import Service, Student
from joinedup.risk import concerns, forms
from joinedup.risk.models import Concern

# The audit action of reading a concern as its service's triage.
CONCERN_READ = "risk.concern.read"


def _uuid_or_none(value):
    """The uuid a link names, or None for none or a malformed one (the form starts empty)."""
    try:
        return UUIDField(required=False).clean(value)
    except ValidationError:
        return None


def _triage_service_ids(user) -> list[int]:
    return [
        s.service_id
        for s in seats_of(user)
        if s.service_id and s.role in ("triage", "practitioner", "liaison")
    ]


@login_required
def concern_create(request):
    """Raise a concern; then see guidance: what to do now, and where to signpost."""
    is_student = hasattr(request.user, "student_record")
    initial = {}
    if request.method == "GET" and (uuid := _uuid_or_none(request.GET.get("student"))):
        student = Student.objects.filter(uuid=uuid).first()
        if student and decide(request.user, student, "identity", request=request).allowed:
            initial["student_number"] = student.student_number
    form = forms.ConcernForm(request.POST or None, is_student=is_student, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern, code = concerns.raise_concern(
                reporter=request.user,
                student=concerns.find_student_for_concern(request.user, data["student_number"]),
                student_number=data["student_number"],
                observed=data["observed"],
                urgency=data["urgency"],
                student_knows=data["student_knows"],
                student_agreed=data["student_agreed"],
                anonymous=data.get("anonymous", False),
                request=request,
            )
        except ValidationError as error:
            for name, errors in error.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            # Post, redirect, get: reloading the guidance must not raise the concern again.
            request.session["concern_raised"] = {"uuid": str(concern.uuid), "code": code}
            return redirect("risk:concern-raised")
    return render(request, "risk/concern_form.html", {"form": form})


@login_required
def concern_raised(request):
    """Guidance after raising a concern; an anonymous student's code is shown once. The
    student is named only to a reporter the policy lets read their name (a tutor, about a
    student of their department), so a mistyped number shows; anyone else is told the same
    whether or not the number they gave is a student's."""
    raised = request.session.get("concern_raised")
    concern = (
        raised
        and Concern.objects.filter(uuid=raised["uuid"]).select_related("service", "student").first()
    )
    if concern is None:
        return redirect("risk:concerns")
    code = raised.pop("code", "")
    request.session["concern_raised"] = raised
    named = concern.student is not None and (
        decide(request.user, concern.student, "identity", request=request).allowed
    )
    signposts = Service.objects.filter(
        organisation_id=concern.service.organisation_id
    ).select_related("directory_entry")
    return render(
        request,
        "risk/concern_raised.html",
        {"concern": concern, "code": code, "signposts": signposts, "named": named},
    )


@login_required
def concern_list(request):
    """Concerns I raised (each named when I may know who the student is: a tutor their own
    department's students), and, for triage, the concerns waiting for my services."""
    mine = list(Concern.objects.filter(reporter=request.user).select_related("service", "student"))
    known = set(
        readable_students(
            request.user, "identity", among=[c.student_id for c in mine if c.student_id]
        ).values_list("pk", flat=True)
    )
    for concern in mine:
        concern.named = concern.student_id in known
    audit_listing(
        request.user,
        [c.student for c in mine if c.named],
        action="risk.concerns.raised_listed",
        reason="Listed among the concerns they raised.",
        request=request,
    )
    queue = list(
        Concern.objects.filter(
            service_id__in=_triage_service_ids(request.user), outcome=""
        ).select_related("student", "service")
    )
    audit_listing(
        request.user,
        [c.student for c in queue if c.student is not None],
        action="risk.concerns.listed",
        reason="Listed on the concerns queue.",
        request=request,
        categories=lambda student: ("identity", "risk"),
    )
    return render(request, "risk/concern_list.html", {"mine": mine, "queue": queue})


@dataclass(frozen=True)
class _Seen:
    """A concern as the user may see it: as its service's triage (with the policy's
    decision on the student's name) or as the person who raised it."""

    concern: Concern
    as_triage: bool
    identity: Decision | None = None


def _concern_for(request, concern_uuid) -> _Seen:
    """The concern as the user may see it; 404 when nothing lets them.

    Its service's triage see it while the policy lets them read it (a concern is a row of
    the student's risk, written by that service; it ends with the care relationship the
    concern opened), and the student's name only when the policy allows; the person who
    raised it always sees what they raised, never the student. A concern whose number
    matched no student holds no one's data: its service's triage see it."""
    user = request.user
    concern = (
        Concern.objects.filter(uuid=concern_uuid)
        .select_related("student", "service__organisation", "reporter")
        .first()
    )
    if concern is None:
        raise Http404
    if concern.service_id in _triage_service_ids(user):
        if concern.student is None:
            return _Seen(concern, as_triage=True)
        decisions = decide_many(
            user, concern.student, ["identity", "risk"], request=request, action=CONCERN_READ
        )
        if decisions["risk"].may_read_row(concern.service_id):
            return _Seen(concern, as_triage=True, identity=decisions["identity"])
    if concern.reporter_id == user.pk:
        return _Seen(concern, as_triage=False)
    raise Http404


def _detail_context(request, seen: _Seen, **forms_shown) -> dict:
    return {
        "concern": seen.concern,
        "as_triage": seen.as_triage,
        "identity": seen.identity,
        "message_form": forms.MessageForm(),
        "outcome_form": forms.OutcomeForm(),
        **forms_shown,
        "shared": (
            "" if seen.as_triage else concerns.shared_with_reporter(seen.concern, request.user)
        ),
    }


@login_required
def concern_detail(request, concern_uuid):
    seen = _concern_for(request, concern_uuid)
    return render(request, "risk/concern_detail.html", _detail_context(request, seen))


@login_required
@require_POST
def concern_action(request, concern_uuid, action):
    """Pick up, record an outcome, or write in the thread; bad input is shown with the
    form, nothing lost."""
    seen = _concern_for(request, concern_uuid)
    concern, as_triage = seen.concern, seen.as_triage
    if action not in ("message", "acknowledge", "outcome") or (
        action != "message" and not as_triage
    ):
        raise Http404
    forms_shown = {}
    try:
        if action == "message":
            form = forms_shown["message_form"] = forms.MessageForm(request.POST)
            if form.is_valid():
                concerns.add_message(
                    concern=concern,
                    text=form.cleaned_data["text"],
                    actor=request.user,
                    from_reporter=not as_triage,
                    request=request,
                )
        elif action == "acknowledge":
            form = None
            concerns.acknowledge_concern(actor=request.user, concern=concern, request=request)
        else:
            form = forms_shown["outcome_form"] = forms.OutcomeForm(request.POST)
            if form.is_valid():
                concerns.record_concern_outcome(
                    actor=request.user,
                    concern=concern,
                    outcome=form.cleaned_data["outcome"],
                    request=request,
                )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("risk:concern-detail", concern.uuid)
    if form is not None and form.errors:
        return render(
            request,
            "risk/concern_detail.html",
            _detail_context(request, seen, **forms_shown),
            status=400,
        )
    messages.success(request, _("Saved."))
    if action == "outcome":
        # The concern leaves the queue; its end may end the service's access to the student.
        return redirect("risk:concerns")
    return redirect("risk:concern-detail", concern.uuid)


def concern_private(request, code):
    """An anonymous student reads replies and writes back with their private code."""
    concern = (
        Concern.objects.filter(code_digest=concerns.digest(code)).select_related("service").first()
    )
    if concern is None:
        raise Http404
    form = forms.MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            concerns.add_message(
                concern=concern, text=form.cleaned_data["text"], from_reporter=True,
                request=request,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("risk:concern-private", code)
    return render(request, "risk/concern_private.html", {"concern": concern, "form": form})
