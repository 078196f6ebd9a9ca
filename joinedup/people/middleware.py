"""Request id for the audit log, and the staff rules: a second factor first, idle timeout."""

import uuid

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect

# Paths a member of staff may reach before enrolling a second factor.
_ENROLMENT_PATHS = ("/accounts/", "/static/", "/i18n/")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class StaffSecurityMiddleware:
    """Staff must have a TOTP authenticator before any other page, and idle sessions expire."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not hasattr(user, "student_record"):
            request.session.set_expiry(settings.STAFF_IDLE_TIMEOUT)
            if not request.path.startswith(_ENROLMENT_PATHS) and not _has_totp(request):
                return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_totp(request) -> bool:
    # Asked on every request, never cached in the session: a removed authenticator must send
    # the member of staff back to enrolment at once.
    return Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
