from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.totp.views import ActivateTOTPView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from joinedup.evaluation.reports import can_run_reports
from joinedup.lib.http import safe_next
from joinedup.people.middleware import is_staff_user
from joinedup.people.models import Organisation, Role, Student
from joinedup.people.permissions import can_view_caseload
from joinedup.people.services import update_language


@login_required
def home(request):
    """Students go to their own record, clinical staff to My day, managers and
    researchers to their reports, academic staff to the concerns they raised."""
    if hasattr(request.user, "student_record"):
        return redirect("portal:home")
    if can_view_caseload(request.user):
        return redirect("record:my-day")
    if can_run_reports(request.user):
        return redirect("evaluation:report")
    if request.user.memberships.filter(role=Role.ACADEMIC).exists():
        return redirect("risk:concerns")
    if request.user.memberships.filter(role=Role.ORG_ADMIN).exists():
        return redirect("governance:overrides")
    # Anyone else: the service directory every signed-in user may use.
    return redirect("referrals:directory")


@require_POST
def choose_language(request):
    """Anyone not on staff pages chooses English or Welsh (a cookie); a student's choice is
    also kept with their record, so the emails and texts sent to them are in it too."""
    back = safe_next(request, reverse("home"))
    language = request.POST.get("language", "")
    if language not in Student.Language.values:
        messages.error(request, _("Choose English or Cymraeg."))
        return redirect(back)
    response = redirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 60 * 60,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    student = getattr(request.user, "student_record", None)
    if student is not None and not is_staff_user(request.user):
        update_language(actor=request.user, student=student, language=language)
    return response


def admin_login(request):
    """Django admin's own sign-in form is never offered: it would skip the second factor and
    the rate limits. Whoever asks for it goes through allauth's sign-in instead."""
    return redirect_to_login(safe_next(request, "/admin/"))


class _ActivateTOTPView(ActivateTOTPView):
    """allauth's enrolment page. Activating checks a code from the new authenticator, so the
    session has shown the second factor and staff pages open."""

    def form_valid(self, form):
        response = super().form_valid(form)
        record_authentication(self.request, self.request.user, "mfa", type="totp")
        return response


activate_totp = _ActivateTOTPView.as_view()


def privacy(request):
    """The privacy notice: what is held, why, who sees it, the student's rights, and each
    organisation's data protection officer. Anyone may read it."""
    from joinedup.consent.rules import CATEGORIES, STUDENT_WORDS

    organisations = Organisation.objects.exclude(data_protection_email="").order_by("name")
    return render(request, "privacy.html", {
        "held": [_(STUDENT_WORDS[c]) for c in CATEGORIES], "organisations": organisations,
    })  # fmt: skip
