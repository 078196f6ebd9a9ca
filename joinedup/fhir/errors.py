"""FHIR errors: every refusal is an OperationOutcome with a 4xx status and words a person can
act on, naming the field (and, in a Bundle, the entry) that was wrong."""

from django.http import JsonResponse

from joinedup.fhir.mapping import FHIR_JSON


class FhirError(Exception):
    """A request the server refuses; `expression` is the FHIRPath of the field at fault."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str = "invalid",
        expression: str = "",
        allow: str = "",
    ):
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.expression = expression
        self.allow = allow  # for a 405: the methods the endpoint takes

    def issues(self) -> list[dict]:
        issue = {"severity": "error", "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = [self.expression]
        return [issue]


class BundleError(FhirError):
    """Several problems at once (a Bundle with more than one bad entry)."""

    def __init__(self, status: int, errors: list[FhirError]):
        super().__init__(status, "; ".join(e.diagnostics for e in errors))
        self.errors = errors

    def issues(self) -> list[dict]:
        return [issue for error in self.errors for issue in error.issues()]


def outcome_response(error: FhirError, headers=None) -> JsonResponse:
    if error.allow:
        headers = (headers or {}) | {"Allow": error.allow}
    return fhir_response(
        {"resourceType": "OperationOutcome", "issue": error.issues()},
        status=error.status,
        headers=headers,
    )


def fhir_response(resource: dict, *, status: int = 200, headers=None) -> JsonResponse:
    return JsonResponse(
        resource,
        status=status,
        content_type=FHIR_JSON,
        headers=headers,
        json_dumps_params={"ensure_ascii": False},
    )


def wrong_method(allow: str, diagnostics: str) -> FhirError:
    """A 405 naming the methods the endpoint takes, in words and in the Allow header."""
    return FhirError(405, diagnostics, code="not-supported", allow=allow)


def not_found(resource_type: str, key: str) -> FhirError:
    # Missing and forbidden look the same, so ids cannot be probed.
    return FhirError(404, f"{resource_type}/{key} was not found.", code="not-found")
