from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
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
from joinedup.people.models import Student
from joinedup.people.services import update_trusted_contact
from joinedup.record.selectors import consents_of


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
