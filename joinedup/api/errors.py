"""Errors as JSON: a sentence in `detail`, and per-field messages in `errors` where the
fault is in one field. Input of the wrong shape is a 422; a service's refusal a 400; a stale
version a 409; a record the caller may not see a 404, exactly as if it did not exist; a role
that may not do this at all a 403."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from pydantic import Field

from joinedup.referrals.services import ConflictError


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in words.")
    errors: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages by the name of the field at fault."
    )


# django-ninja's own messages, said more plainly.
PLAIN_WORDS = {"Cannot parse request body": "The request body is not valid JSON."}
TOO_DEEP = "The request body nests lists or objects too deeply to read."

# The names the endpoints give their schema-typed parameters, which are not the caller's.
GROUPED_PARAMETERS = frozenset({"payload", "paging", "query"})

# Responses every operation may give; listed in the schema so clients know to expect them.
COMMON = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def form_errors(form) -> DjangoValidationError:
    """A form's errors as a ValidationError keyed by field (`detail` for the whole form)."""
    return DjangoValidationError(
        {name if name != "__all__" else "detail": errors for name, errors in form.errors.items()}
    )


def install(api) -> None:
    """Register the handlers that turn exceptions into the JSON above."""

    def respond(request, status, detail, errors=None):
        return api.create_response(
            request, {"detail": detail, "errors": errors or {}}, status=status
        )

    @api.exception_handler(DjangoValidationError)
    def refused(request, exc):
        if hasattr(exc, "error_dict"):
            errors = {name: [str(m) for m in e.messages] for name, e in _flat(exc).items()}
            detail = " ".join(m for messages in errors.values() for m in messages)
        else:
            errors, detail = {}, " ".join(exc.messages)
        return respond(request, 409 if isinstance(exc, ConflictError) else 400, detail, errors)

    @api.exception_handler(SchemaValidationError)
    def malformed(request, exc):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            # ("body", "payload", "reason") → "reason"; ("query", "paging", "page") → "page";
            # ("path", "student_uuid") → "student_uuid": the field as the caller named it.
            loc = [str(part) for part in error.get("loc", ())[1:]]
            loc = (loc[1:] if loc and loc[0] in GROUPED_PARAMETERS else loc) or ["body"]
            message = error.get("msg", "").removeprefix("Value error, ")
            errors.setdefault(".".join(loc), []).append(message)
        detail = "Check these fields: " + ", ".join(errors) + "."
        return respond(request, 422, detail, errors)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return respond(request, 404, str(exc) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return respond(request, 403, str(exc) or "You may not do this.")

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if isinstance(exc.__cause__, RecursionError):  # django-ninja's parse of the body
            return respond(request, 400, TOO_DEEP)
        return respond(request, exc.status_code, PLAIN_WORDS.get(str(exc), str(exc)))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return respond(
            request,
            401,
            "Send an OAuth 2.0 bearer token (scope api.read or api.write), or sign in as a "
            "member of staff.",
        )


def _flat(exc: DjangoValidationError) -> dict[str, DjangoValidationError]:
    return {
        ("detail" if name == "__all__" else name): DjangoValidationError(errors)
        for name, errors in exc.error_dict.items()
    }
