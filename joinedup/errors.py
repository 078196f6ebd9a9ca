"""Errors in the form each caller reads: the API's JSON (`detail`, `errors`), a FHIR
OperationOutcome, OAuth 2.0's error object at `/o/`, and a page for people.

The URLconf's error handlers answer through `error_response`, and `BadInputMiddleware`
refuses input no view can read before any view (or the OAuth check) tries, turns any other
error under /api/ or /fhir/ that is not JSON into JSON (a partner system never gets an HTML
page), and answers a missing page with the product's own page in development too. While
the database cannot be reached, every request is answered 503 (`unavailable`) with a page
that asks the database nothing.
"""

import json
import re
import sys
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

from joinedup.fhir.errors import FhirError, outcome_response

# A % that does not begin two hex digits. oauthlib refuses such a query string by raising,
# and Django reads it as something the sender did not mean.
BROKEN_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
FORM = "application/x-www-form-urlencoded"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What the FHIR server answers in: a client accepting none of them is answered 406.
FHIR_ANSWERS = ("application/fhir+json", "application/json", "application/json+fhir",
                "application/fhir+ndjson", "application/ndjson")  # fmt: skip
FHIR_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    500: "exception",
    503: "transient",
}
OAUTH_CODES = {401: "invalid_client", 500: "server_error"}  # any other: invalid_request
# Headers a replaced error response keeps: they tell the client what to do next.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
RETRY_AFTER_SECONDS = 30


def audience(request) -> str:
    """Who reads errors at this path: "api", "fhir", "oauth" or "page"."""
    path = request.path_info
    for prefix, name in (("/api", "api"), ("/fhir", "fhir"), ("/o", "oauth")):
        if path == prefix or path.startswith(f"{prefix}/"):
            return name
    return "page"


def error_response(request, status: int, message: str, *, headers=None):
    """An error saying `message`, in the form the caller at this path reads."""
    match audience(request):
        case "api":
            body = {"detail": message, "errors": {}}
            return JsonResponse(body, status=status, headers=headers)
        case "fhir":
            error = FhirError(status, message, code=FHIR_CODES.get(status, "processing"))
            return outcome_response(error, headers)
        case "oauth":
            code = OAUTH_CODES.get(status, "invalid_request")
            body = {"error": code, "error_description": message}
            return JsonResponse(body, status=status, headers=headers)
    response = render(request, "400.html", {"problem": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# The URLconf's handlers (handler400, handler403, handler404, handler500) ------------------


def bad_request(request, exception):
    if isinstance(exception, RequestDataTooBig):
        return error_response(
            request, 413, _("The request body is larger than this server accepts.")
        )
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return error_response(
            request, 400, _("The request has more fields than this server accepts.")
        )
    return error_response(request, 400, _("The request could not be read."))


def permission_denied(request, exception):
    _audit_refusal(request)
    if audience(request) == "page":
        from joinedup.consent.policy import seats_of
        from joinedup.people.models import Role

        user = getattr(request, "user", None)
        admin = bool(user and user.is_authenticated) and any(
            seat.role == Role.ORG_ADMIN for seat in seats_of(user)
        )
        # An organisation admin is the one others are told to ask: told what they can do.
        return render(request, "403.html", {"is_org_admin": admin}, status=403)
    return error_response(request, 403, _("You may not do this."))


def _audit_refusal(request) -> None:
    """A signed-in person refused a page or an operation is in the audit log, under the
    organisation they work in, so its admins find refused attempts as well as refused reads."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    from joinedup.audit.services import Entry, append, request_id_of
    from joinedup.consent.policy import seats_of

    seat = next(iter(seats_of(user)), None)
    append([Entry(
        action="http.refused", actor=user, allowed=False,
        actor_role=seat.role if seat else ("student" if hasattr(user, "student_record") else ""),
        actor_service=seat.place if seat else "",
        actor_organisation=seat.organisation_name if seat else "",
        reason=f"{request.method} {request.path}"[:500], request_id=request_id_of(request),
    )])  # fmt: skip


def page_not_found(request, exception):
    match audience(request):
        case "page":
            return defaults.page_not_found(request, exception)
        case "api":
            message = _("There is no such operation. The operations are listed at /api/docs.")
        case "fhir":
            message = _("There is no such endpoint. What is supported: /fhir/metadata.")
        case _:
            message = _("There is no such endpoint.")
    return error_response(request, 404, message)


def server_error(request):
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return unavailable(request)
    if audience(request) == "page":
        return defaults.server_error(request)
    return error_response(
        request,
        500,
        _("The server failed to complete this request. The fault is ours, and it is logged."),
    )


def unavailable(request):
    """The database cannot be reached (restarting, failing over): 503, try again shortly. The
    page asks the database nothing, so it shows while the database is away."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if audience(request) != "page":
        return error_response(
            request, 503, _("The service is unavailable for a moment. Try again shortly."),
            headers=headers,
        )  # fmt: skip
    return HttpResponse(render_to_string("503.html"), status=503, headers=headers)


# The middleware ---------------------------------------------------------------------------


class BadInputMiddleware:
    """Refuse what no view can read, before any view tries: a query string or form body
    with a broken %-escape or text that is not UTF-8 (400), a body that is not JSON sent
    to the API or FHIR (415; the OAuth check would otherwise consume a multipart body), and
    a FHIR request accepting no answer but XML (406)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = _refusal(request)
        if refusal is not None:
            return error_response(request, *refusal)
        return _as_json(request, _as_product_page(request, self.get_response(request)))


def _refusal(request) -> tuple[int, str] | None:
    if not _is_form_encoded(_raw(request.META.get("QUERY_STRING", ""))):
        return 400, _(
            "The query string cannot be read: each % must begin a two-digit hex code, and "
            "the text must be UTF-8."
        )
    kind = audience(request)
    if kind == "fhir" and not any(request.accepts(media) for media in FHIR_ANSWERS):
        return 406, _(
            "This server answers in JSON only: accept application/fhir+json (or, for export "
            "files, application/fhir+ndjson)."
        )
    has_body = request.method in BODY_METHODS and _content_length(request) > 0
    # A FHIR search sent as a form (POST <type>/_search) is the one body that is not JSON.
    form_search = kind == "fhir" and request.path_info.endswith("/_search")
    form_search = form_search and (request.content_type or "").lower() == FORM
    if (
        kind in ("api", "fhir")
        and has_body
        and not form_search
        and not _is_json(request.content_type)
    ):
        if kind == "fhir":
            return 415, _("Send the resource as JSON (Content-Type: application/fhir+json).")
        return 415, _("Send the body as JSON (Content-Type: application/json).")
    is_form = has_body and (request.content_type or "").lower() == FORM
    if is_form and not _is_form_encoded(request.body):
        return 400, _(
            "The form body cannot be read: each % must begin a two-digit hex code, and the "
            "text must be UTF-8."
        )
    return None


def _raw(text: str) -> bytes:
    try:
        return text.encode("iso-8859-1")  # how WSGI carries the bytes sent (PEP 3333)
    except UnicodeEncodeError:
        return text.encode()


def _is_form_encoded(raw: bytes) -> bool:
    if BROKEN_ESCAPE.search(raw):
        return False
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _is_json(content_type: str | None) -> bool:
    content_type = (content_type or "").lower()
    return content_type in ("application/json", "application/json+fhir") or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


# Django's development 404 page says it is one; it lists every route of the site.
DEVELOPMENT_404 = b"<code>DEBUG = True</code>"


def _as_product_page(request, response):
    """A missing page as people see it in production, in development too: a demo's visitor
    following an old link reads what to do next, not the site's list of routes."""
    if (settings.DEBUG and response.status_code == 404 and not response.streaming
            and DEVELOPMENT_404 in response.content):  # fmt: skip
        return page_not_found(request, Http404())
    return response


def _as_json(request, response):
    """An error under /api/ or /fhir/ that is not JSON (such as django-ninja's 405) as
    JSON; at /o/, a JSON error sent as HTML (as django-oauth-toolkit sends some) relabelled."""
    kind = audience(request)
    if response.status_code < 400 or kind == "page" or _is_json(_media_type(response)):
        return response
    if kind == "oauth":
        if not response.streaming and response.content.startswith(b"{"):
            try:
                json.loads(response.content)
            except ValueError:
                return response
            response["Content-Type"] = "application/json"
        return response
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return error_response(request, response.status_code, _words(response), headers=headers)


def _media_type(response) -> str:
    return response.get("Content-Type", "").split(";")[0].strip()


def _words(response) -> str:
    if response.status_code == 405 and response.has_header("Allow"):
        return _("This method is not allowed here. Use: %(allowed)s.") % {
            "allowed": response["Allow"]
        }
    try:
        return f"{HTTPStatus(response.status_code).phrase}."
    except ValueError:
        return _("The request failed.")
