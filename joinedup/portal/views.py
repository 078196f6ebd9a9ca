from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from joinedup.audit.selectors import accesses_to
from joinedup.consent.models import ConsentGrant
from joinedup.consent.policy import decide_many
from joinedup.consent.services import withdraw_consent
from joinedup.lib.forms import StyledFormMixin
from joinedup.measures import instruments
from joinedup.measures.forms import QuestionnaireForm
from joinedup.measures.selectors import get_outcomes_for_user, item_texts
from joinedup.measures.services import complete_from_link, link_from_token
from joinedup.people.models import Student
from joinedup.people.services import update_name_and_pronouns, update_trusted_contact
from joinedup.record.selectors import consents_of
from joinedup.risk.forms import SafetyPlanForm, StudentViewForm
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
    accesses = Paginator(accesses_to(student).select_related("actor"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "portal/home.html",
        {"student": student, "consents": consents_of(student), "accesses": accesses},
    )


@login_required
@require_POST
def grant_withdraw(request, grant_uuid):
    student = _own_student(request)
    grant = ConsentGrant.objects.filter(uuid=grant_uuid, student=student).first()
    if grant is None:
        raise Http404
    withdraw_consent(actor=request.user, grant=grant, request=request)
    messages.success(request, _("Consent withdrawn. It stopped applying straight away."))
    return redirect("portal:home")


class TrustedContactForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Student
        fields = [
            "trusted_contact_name",
            "trusted_contact_relationship",
            "trusted_contact_phone",
            "trusted_contact_permission",
        ]
        labels = {
            "trusted_contact_name": gettext_lazy("Their name"),
            "trusted_contact_relationship": gettext_lazy("Who they are to you"),
            "trusted_contact_phone": gettext_lazy("Their phone number"),
            "trusted_contact_permission": gettext_lazy(
                "If we are seriously worried about your safety, may we contact them?"
            ),
        }


@login_required
def trusted_contact(request):
    student = _own_student(request)
    form = TrustedContactForm(request.POST or None, instance=student)
    if request.method == "POST" and form.is_valid():
        update_trusted_contact(actor=request.user, student=student, **form.cleaned_data)
        messages.success(request, _("Your trusted contact is saved."))
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
    """How things have gone since the first questionnaire, without clinical terms."""
    scored = trajectory.scored
    if len(scored) < 2:
        return _("This is your first one. Later ones will show how things change.")
    change = scored[-1].main_score - scored[0].main_score
    if change == 0:
        return _("Your latest answers are about the same as your first ones.")
    if (change < 0) == (trajectory.instrument.improvement == "decrease"):
        return _("Your latest answers suggest things are better than when you started.")
    return _(
        "Your latest answers suggest things are harder than when you started. It may help to "
        "talk about this with your practitioner."
    )


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
        return render(
            request,
            "portal/questionnaire_done.html",
            {"has_risk": any(a.has_risk for a in recorded)},
        )
    return render(
        request, "portal/questionnaire_form.html", {"link": link, "forms": forms_by_code.values()}
    )


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
    return render(request, "portal/safety_plan.html", {"plans": forms_by_plan})


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


class NameForm(StyledFormMixin, forms.ModelForm):
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
