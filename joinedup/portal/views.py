from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from joinedup.audit.selectors import visits_to
from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import ConsentGrant, SharingRequest, consent_active_at
from joinedup.consent.policy import decide_many, department_seat, grants_reaching, service_seat
from joinedup.consent.rules import CATEGORIES, STUDENT_WORDS
from joinedup.consent.services import (
    answer_sharing_request,
    record_consent,
    withdraw_all_consents,
    withdraw_consent,
)
from joinedup.feedback.selectors import open_invitations
from joinedup.fhir.selectors import student_bundle
from joinedup.lib.http import safe_next
from joinedup.lib.pdf import render_pdf
from joinedup.measures import instruments
from joinedup.measures.forms import QuestionnaireForm
from joinedup.measures.outcomes import reliable_change
from joinedup.measures.selectors import get_outcomes_for_user, item_texts
from joinedup.measures.services import complete_from_link, link_from_token
from joinedup.messaging.selectors import unread_by_student
from joinedup.people.models import Service, Student
from joinedup.people.rules import phone_to_call
from joinedup.people.services import (
    update_name_and_pronouns,
    update_national_data_opt_out,
    update_notifications,
    update_trusted_contact,
)
from joinedup.portal.exports import in_words, subject_access, visit_in_words
from joinedup.portal.selectors import (
    DEPARTMENT_SHAREABLE,
    SHAREABLE,
    consent_choices,
    my_record,
)
from joinedup.record.selectors import consents_of, preview_for_service
from joinedup.referrals.directory.help_now import help_now_for
from joinedup.risk.forms import SafetyPlanForm, StudentViewForm
from joinedup.risk.models import Flag
from joinedup.risk.selectors import return_plans_for, safety_plans_for
from joinedup.risk.services import record_student_view, save_safety_plan


def _own_student(request) -> Student:
    student = getattr(request.user, "student_record", None)
    if student is None:
        raise PermissionDenied
    return student


@login_required
def home(request):
    """The student's own page: who they are to us, their consents, and who looked."""
    student = _own_student(request)
    decide_many(request.user, student, ["identity", "engagement"], request=request)
    accesses = Paginator([visit_in_words(v) for v in visits_to(student)], 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/home.html",
        {
            "student": student,
            "consents": consents_of(student),
            "accesses": accesses,
            "mine": my_record(student),
            "invitations": open_invitations(student),
            "sharing_requests": _sharing_requests(student),
            "new_messages": unread_by_student(student),
        },
    )


def _sharing_requests(student) -> list:
    waiting = SharingRequest.objects.waiting().filter(student=student).select_related("service")
    return [(asked, _(STUDENT_WORDS[asked.category])) for asked in waiting]


@login_required
@require_POST
def sharing_answer(request, request_uuid):
    """The student's one-tap answer to a request to share: yes records a consent."""
    student = _own_student(request)
    asked = SharingRequest.objects.filter(uuid=request_uuid, student=student).first()
    if asked is None:
        raise Http404
    answer = request.POST.get("answer")
    if answer not in ("yes", "no"):
        messages.error(request, _("Choose yes or no."))
        return redirect("portal:home")
    try:
        answer_sharing_request(
            actor=request.user, asked=asked, share=answer == "yes", request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        text = (
            _("Thank you. %(service)s can now see %(what)s. You can stop sharing at any time.")
            if answer == "yes"
            else _("Thank you. Nothing more is shared with %(service)s.")
        )
        messages.success(
            request,
            text % {"service": asked.service.name, "what": _(STUDENT_WORDS[asked.category])},
        )
    return redirect("portal:home")


@login_required
@require_POST
def grant_withdraw(request, grant_uuid):
    student = _own_student(request)
    grant = ConsentGrant.objects.filter(uuid=grant_uuid, student=student).first()
    if grant is None:
        raise Http404
    withdraw_consent(actor=request.user, grant=grant, request=request)
    messages.success(
        request,
        _("You stopped sharing %(what)s with %(whom)s. It applies straight away.")
        % {"what": _(STUDENT_WORDS[grant.category]), "whom": grant.recipient_in_words},
    )
    return redirect(safe_next(request, reverse("portal:home")))


class TrustedContactForm(forms.ModelForm):
    class Meta:
        model = Student
        fields = [
            "trusted_contact_name",
            "trusted_contact_relationship",
            "trusted_contact_phone",
            "trusted_contact_permission",
        ]
        widgets = {
            "trusted_contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
        }
        labels = {
            "trusted_contact_name": gettext_lazy("Their name"),
            "trusted_contact_relationship": gettext_lazy("Who they are to you"),
            "trusted_contact_phone": gettext_lazy("Their phone number"),
            "trusted_contact_permission": gettext_lazy(
                "If we are seriously worried about your safety, may we contact them?"
            ),
        }

    def clean(self):
        """Someone we may call needs a name and a phone number (in the UK, or abroad with its
        country code); a number given is always one we could call; "never contact them", or
        every field empty, needs neither."""
        data = super().clean()
        name = data.get("trusted_contact_name", "").strip()
        phone = data.get("trusted_contact_phone", "").strip()
        may_call = data.get("trusted_contact_permission") in ("serious_concern", "ask_me_first")
        if (may_call or phone) and not name:
            self.add_error(
                "trusted_contact_name", _("Enter their name, so that we know who to call.")
            )
        if may_call and not phone:
            self.add_error(
                "trusted_contact_phone", _("Enter their phone number, so that we can call them.")
            )
        elif phone and (callable_ := phone_to_call(phone)) is None:
            self.add_error(
                "trusted_contact_phone",
                _("Enter a UK phone number, like 07700 900123, or a number abroad starting "
                  "with + and its country code, like +33 1 23 45 67 89."),
            )  # fmt: skip
        elif phone:
            data["trusted_contact_phone"] = callable_
        return data


@login_required
def trusted_contact(request):
    student = _own_student(request)
    form = TrustedContactForm(request.POST or None, instance=student)
    if request.method == "POST" and form.is_valid():
        update_trusted_contact(actor=request.user, student=student, **form.cleaned_data)
        messages.success(
            request,
            _("Your trusted contact is saved.")
            if form.cleaned_data["trusted_contact_name"]
            else _("You have no trusted contact now."),
        )
        return redirect("portal:home")
    return render(request, "portal/trusted_contact.html", {"form": form})


@login_required
def scores(request):
    """The student's own questionnaire scores over time, in plain words."""
    student = _own_student(request)
    view = get_outcomes_for_user(request.user, student.uuid, request=request)
    trajectories = [
        (t, PLAIN_NAMES[t.instrument.code], _kind_summary(t)) for t in view.trajectories
    ]
    return render(request, "portal/scores.html", {"trajectories": trajectories})


def _kind_summary(trajectory) -> str:
    """How things have gone since the first questionnaire, without clinical terms.

    Only a reliable change counts as one (`outcomes.reliable_change`, `measures.md` §7; the
    WEMWBS's published meaningful change where it has no reliable change index); a measure
    with neither cannot tell a change from the measure's own noise.
    """
    scored = trajectory.scored
    if len(scored) < 2:
        return _("This is your first one. Later ones will show how things change.")
    change = reliable_change(
        trajectory.instrument.code, scored[0].main_score, scored[-1].main_score
    )
    improved, worsened = change.reliable_improvement, change.reliable_deterioration
    if improved is None:
        improved, worsened = change.meaningful_improvement, change.meaningful_deterioration
    if improved is None and change.change:
        return _("Your practitioner can talk with you about how your answers have changed.")
    if improved:
        return _("Your latest answers suggest things are better than when you started.")
    if worsened:
        return _(
            "Your latest answers suggest things are harder than when you started. It may help "
            "to talk about this with your practitioner."
        )
    return _("Your latest answers are about the same as your first ones.")


PLAIN_NAMES = {
    "PHQ-9": gettext_lazy("Low mood"),
    "GAD-7": gettext_lazy("Worry and anxiety"),
    "CORE-10": gettext_lazy("How you have been feeling"),
    "CORE-OM": gettext_lazy("How you have been feeling"),
    "WEMWBS": gettext_lazy("Wellbeing"),
    "SWEMWBS": gettext_lazy("Wellbeing"),
}


def questionnaire_complete(request, token):
    """Questionnaires from a one-time link, completed on the student's own device.

    The link is the authority (signed, expiring, single use), so no sign-in is needed; the
    page shows no personal data, only the service's name and the questions.
    """
    link = link_from_token(token)
    if link is None:
        raise Http404
    if not link.is_usable():
        return render(request, "portal/questionnaire_gone.html", status=410)
    data = request.POST if request.method == "POST" else None
    forms_by_code = {
        code: QuestionnaireForm(
            data, prefix=code, instrument=instrument, texts=item_texts(instrument)
        )
        for code in link.codes
        for instrument in [instruments.get(code)]
    }
    valid = [form.is_valid() for form in forms_by_code.values()]  # every form shows its errors
    if data is not None and all(valid):
        try:
            recorded = complete_from_link(
                link=link,
                request=request,
                answers_by_code={code: form.answers() for code, form in forms_by_code.items()},
            )
        except ValidationError:
            return render(request, "portal/questionnaire_gone.html", status=410)
        return render(request, "portal/questionnaire_done.html", _risk_help(link, recorded))
    return render(
        request, "portal/questionnaire_form.html", {"link": link, "forms": forms_by_code.values()}
    )


def _risk_help(link, recorded) -> dict:
    """Help now after a positive risk answer (with when the service will be in touch, as the
    flag it raised is due) or an unanswered risk item."""
    has_risk = any(a.has_risk for a in recorded)
    if not (has_risk or any(a.risk_unanswered for a in recorded)):
        return {}
    flag = (
        Flag.objects.filter(administration__in=recorded)
        .select_related("service")
        .order_by("due_at")
    ).first()
    return {
        "has_risk": has_risk,
        "flag": flag,
        "help": help_now_for(link.episode.student.university),
    }


@login_required
def safety_plan(request):
    """The student's safety plans: they read every part and edit their own words."""
    student = _own_student(request)
    decision = decide_many(request.user, student, ["risk"], request=request)["risk"]
    plans = safety_plans_for(request.user, student, decision)
    chosen = next((p for p in plans if str(p.uuid) == request.POST.get("plan")), None)

    def form_for(plan, data=None):
        # Several plans' forms share the page: each has its own field ids.
        return SafetyPlanForm(
            data, instance=plan, student_part_only=True, auto_id=f"id_plan{plan.pk}_%s"
        )

    form = form_for(chosen, request.POST) if chosen else None
    if form is not None and form.is_valid():
        try:
            save_safety_plan(
                actor=request.user,
                student=student,
                service=chosen.service,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your safety plan is saved."))
            return redirect("portal:safety-plan")
    forms_by_plan = [(p, form if p == chosen else form_for(p)) for p in plans]
    return render(request, "portal/safety_plan.html", {
        "plans": forms_by_plan, "help": help_now_for(student.university),
    })  # fmt: skip


@login_required
def safety_plan_pdf(request):
    """My safety plans as a PDF to keep on my phone or print: every part, each phone number
    one to tap, and the national lines."""
    student = _own_student(request)
    decision = decide_many(
        request.user, student, ["risk"], request=request, action="portal.safety_plan.downloaded"
    )["risk"]
    pdf = render_pdf("portal/safety_plan.pdf.html", {
        "plans": safety_plans_for(request.user, student, decision), "student": student,
        "help": help_now_for(student.university),
        "produced": timezone.localtime().strftime("%-d %B %Y"),
    })  # fmt: skip
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="my-safety-plan.pdf"'
    return response


@login_required
def return_plans(request):
    """The student's return-to-study plans, and their own view of each."""
    student = _own_student(request)
    decision = decide_many(request.user, student, ["risk"], request=request)["risk"]
    plans = return_plans_for(request.user, student, decision)
    chosen = next((p for p in plans if str(p.uuid) == request.POST.get("plan")), None)
    form = StudentViewForm(request.POST if chosen else None)
    if chosen and form.is_valid():
        record_student_view(
            actor=request.user, plan=chosen, request=request, text=form.cleaned_data["student_view"]
        )
        messages.success(request, _("Your view is saved."))
        return redirect("portal:return-plans")
    return render(
        request, "portal/return_plans.html", {"plans": plans, "form": form, "chosen": chosen}
    )


class NameForm(forms.ModelForm):
    class Meta:
        model = Student
        fields = ["preferred_name", "pronouns"]
        labels = {
            "preferred_name": gettext_lazy("The name you want us to use"),
            "pronouns": gettext_lazy("Your pronouns (optional)"),
        }
        help_texts = {
            "preferred_name": gettext_lazy(
                "Every service sees this name. Leave it empty to use your legal first name."
            ),
        }


@login_required
def name(request):
    """The student's preferred name and pronouns, used everywhere at once."""
    student = _own_student(request)
    form = NameForm(request.POST or None, instance=student)
    if request.method == "POST" and form.is_valid():
        update_name_and_pronouns(actor=request.user, student=student, **form.cleaned_data)
        messages.success(request, _("Saved. Every service now sees this name."))
        return redirect("portal:home")
    return render(request, "portal/name.html", {"form": form})


@login_required
def consents(request):
    """Share or stop sharing each kind of information with each service in your care, and
    with your department; each shows what the policy applies now, whichever consent it
    comes through; see exactly what each service would see."""
    student = _own_student(request)
    if request.method == "POST":
        _toggle(request, student)
        return redirect("portal:consents")
    active = consents_of(student).filter(consent_active_at(timezone.now()))
    return render(
        request,
        "portal/consents.html",
        {"recipients": consent_choices(student), "active": active},
    )


def _toggle(request, student) -> None:
    """Share one category with one recipient, or stop every consent through which it
    reaches them (an organisation-wide one included: the button said so)."""
    category = request.POST.get("category", "")
    try:
        service_uuid = forms.UUIDField(required=False).clean(request.POST.get("service"))
    except ValidationError:  # a malformed uuid names no service
        service_uuid = None
    service = (
        Service.objects.filter(uuid=service_uuid).select_related("organisation").first()
        if service_uuid
        else None
    )
    department = student.department if request.POST.get("department") else None
    allowed = DEPARTMENT_SHAREABLE if department else SHAREABLE
    if (service is None and department is None) or category not in allowed:
        append(
            [
                Entry(
                    "consent.grant.refused",
                    actor=request.user,
                    student=student,
                    category=category if category in CATEGORIES else "",
                    actor_role="student",
                    reason="Not a category this recipient may hold.",
                    request_id=request_id_of(request),
                )
            ]
        )
        messages.error(
            request,
            _(
                "That cannot be shared with them: case notes never leave the service that wrote "
                "them, and academic staff never see clinical information."
            ),
        )
        return
    purpose = "academic_support" if department else "direct_care"
    seat = department_seat(department) if department else service_seat(service)
    whom = department.name if department else service.name
    if request.POST.get("share") == "on":
        record_consent(
            actor=request.user,
            student=student,
            category=category,
            purpose=purpose,
            how_given="portal",
            recipient_service=service,
            recipient_department=department,
            request=request,
        )
        messages.success(
            request,
            _("%(whom)s can now see %(what)s. You can stop sharing at any time.")
            % {"whom": whom, "what": _(STUDENT_WORDS[category])},
        )
        return
    grants = list(
        grants_reaching(student, seat, category, purpose).select_related(
            "recipient_service__organisation", "recipient_organisation", "recipient_department"
        )
    )
    for grant in grants:
        withdraw_consent(actor=request.user, grant=grant, request=request)
    stopped = sorted({str(grant.recipient_in_words) for grant in grants}) or [whom]
    messages.success(
        request,
        _("You stopped sharing %(what)s with %(whom)s. It applies straight away.")
        % {"what": _(STUDENT_WORDS[category]), "whom": ", ".join(stopped)},
    )


@login_required
def consent_preview(request, service_uuid):
    """Exactly what a service would see of your record, now."""
    student = _own_student(request)
    service = Service.objects.filter(uuid=service_uuid).select_related("organisation").first()
    if service is None:
        raise Http404
    return render(
        request,
        "record/student_detail.html",
        {
            "record": preview_for_service(service, student),
            "service": service,
            "preview": True,
            "whom": service.name,
        },
    )


@login_required
def consents_withdraw_all(request):
    """Stop sharing everything, after the student has seen what that stops and confirmed."""
    student = _own_student(request)
    active = consents_of(student).filter(consent_active_at(timezone.now()))
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "portal/consents_withdraw_all.html", {"active": active})
    count = withdraw_all_consents(actor=request.user, student=student, request=request)
    messages.success(
        request,
        ngettext(
            "You stopped sharing %(n)d thing. Services now see only what they write themselves.",
            "You stopped sharing %(n)d things. Services now see only what they write themselves.",
            count,
        )
        % {"n": count},
    )
    return redirect("portal:consents")


@login_required
@require_POST
def notifications(request):
    """Whether to be told when a new service opens the record, or emergency access is used."""
    student = _own_student(request)
    update_notifications(
        actor=request.user,
        student=student,
        notify_new_access=request.POST.get("notify_new_access") == "on",
        notify_break_glass=request.POST.get("notify_break_glass") == "on",
    )
    messages.success(request, _("Your choices are saved."))
    return redirect("portal:home")


class OptOutForm(forms.Form):
    opted_out = forms.TypedChoiceField(
        label=gettext_lazy("Your choice"),
        choices=[
            (
                "no",
                gettext_lazy(
                    "Yes, my NHS care may be used, without my name, for research and planning"
                ),
            ),
            ("yes", gettext_lazy("No, leave my NHS care out of research and planning")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose whether your NHS care may be used.")},
    )


@login_required
def choices(request):
    """The student's choices about their data: the national data opt-out, and links to
    reminders and notifications of who looks."""
    student = _own_student(request)
    initial = {"opted_out": "yes" if student.national_data_opt_out else "no"}
    form = OptOutForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        opted_out = form.cleaned_data["opted_out"]
        update_national_data_opt_out(
            actor=request.user, student=student, opted_out=opted_out, request=request
        )
        messages.success(request, _("Saved: your NHS care is left out of research and planning.")
                         if opted_out else _("Saved: your NHS care may be used, without your "
                                             "name, for research and planning."))  # fmt: skip
        return redirect("portal:choices")
    return render(request, "portal/choices.html", {"form": form, "student": student},
                  status=400 if form.errors else 200)  # fmt: skip


@login_required
def my_data(request, fmt):
    """A subject access download: everything held about the student that they may see, as
    JSON, as a readable PDF, or as a FHIR Bundle. Only ever one's own: any other user is
    refused in words, and the attempt is audited."""
    student = getattr(request.user, "student_record", None)
    append(
        [
            Entry(
                "portal.data.downloaded" if student else "portal.data.refused",
                actor=request.user,
                student=student,
                category="identity",
                actor_role="student" if student else "",
                basis="self" if student else "",
                allowed=student is not None,
                reason=fmt,
                request_id=request_id_of(request),
            )
        ]
    )
    if student is None:
        return render(request, "portal/not_yours.html", status=403)
    if fmt == "fhir.json":
        response = JsonResponse(
            student_bundle(request.user, student, request=request),
            content_type="application/fhir+json",
            json_dumps_params={"indent": 2},
        )
        response["Content-Disposition"] = 'attachment; filename="my-joinedup-record.fhir.json"'
        return response
    data = subject_access(student)
    if fmt == "pdf":
        response = HttpResponse(
            render_pdf(
                "portal/my_data.pdf.html",
                {
                    "data": in_words(data, student),
                    "produced": timezone.localtime().strftime("%-d %B %Y, %H:%M"),
                },
            ),
            content_type="application/pdf",
        )
    else:
        response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="my-joinedup-record.{fmt}"'
    return response
