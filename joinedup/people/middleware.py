"""Request id for the audit log, and the staff rules: a second factor first, idle timeout,
and no response carrying personal data kept in any cache."""

import re
import time
import uuid

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from joinedup.lib import logs

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Paths a member of staff may reach before enrolling a second factor.
_ENROLMENT_PATHS = ("/accounts/", "/static/", "/i18n/")
# Machine clients are told in JSON, never sent to a sign-in page.
_MACHINE_PATHS = ("/api/", "/fhir/", "/fhir", "/o/")
# A staff session's expiry is moved on at most once a minute, so page views do not each
# write the session: the idle timeout holds to within that minute.
IDLE_REFRESH_SECONDS = 60
_EXTENDED_AT = "joinedup_extended_at"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        # A proxy's id is kept when it is one; anything else (too long, other characters
        # that could forge a log line) is replaced.
        request.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = logs.request_id.set(request.request_id)
        try:
            response = self.get_response(request)
            response["X-Request-Id"] = request.request_id
            logs.log_request(request, response, started)
        finally:
            logs.request_id.reset(token)
        return response


class NoStoreMiddleware:
    """Any response may carry personal data, so no cache keeps one (static files are served
    before this, by WhiteNoise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, " + response["Cache-Control"]
        return response


def is_staff_user(user) -> bool:
    """Staff rules apply to anyone with a staff membership or the admin flag, whether or not
    they also have a student record."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_joinedup_is_staff", None)
    if cached is None:
        cached = user.is_staff or user.memberships.exists()
        user._joinedup_is_staff = cached
    return cached


def passed_second_factor(request) -> bool:
    """Whether this session's sign-in included the second factor (allauth records each
    method a session authenticated with)."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class StaffSecurityMiddleware:
    """Staff reach nothing until their session has passed a second factor (enrolling one
    counts, as it proves the authenticator), and idle staff sessions expire."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if is_staff_user(user):
            _extend(request.session)
            if not request.path.startswith(_ENROLMENT_PATHS):
                if not _has_totp(user):
                    return _refuse(request, enrol=True)
                if not passed_second_factor(request):
                    # Signed in some other way than allauth's two-step flow: start again.
                    logout(request)
                    return _refuse(request, enrol=False)
        return self.get_response(request)


def _extend(session) -> None:
    now = int(time.time())
    stale = now - session.get(_EXTENDED_AT, 0) >= IDLE_REFRESH_SECONDS
    if stale or session.get_expiry_age() != settings.STAFF_IDLE_TIMEOUT:
        session.set_expiry(settings.STAFF_IDLE_TIMEOUT)
        session[_EXTENDED_AT] = now


def _refuse(request, *, enrol: bool):
    if request.path.startswith(_MACHINE_PATHS):
        detail = (
            _("Set up a second factor before using this.")
            if enrol
            else _("Sign in with your second factor first.")
        )
        return JsonResponse({"detail": detail}, status=401)
    if enrol:
        return redirect("mfa_activate_totp")
    messages.info(request, _("Sign in with your password and your authenticator app's code."))
    return redirect_to_login(request.get_full_path())


def _has_totp(user) -> bool:
    # Asked on every request, never cached in the session: a removed authenticator must send
    # the member of staff back to enrolment at once.
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class LanguageMiddleware:
    """Students read their pages in English or Welsh: their own choice once made, else the
    browser's (LocaleMiddleware, before this, has read the cookie and the browser). Staff pages
    are in English only, so staff always see them so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        language = None
        if is_staff_user(user):
            language = settings.LANGUAGE_CODE
        elif user.is_authenticated and (student := getattr(user, "student_record", None)):
            language = student.language or None
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
