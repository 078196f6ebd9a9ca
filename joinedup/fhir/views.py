"""The FHIR R4 REST interface: capability statement, read, search, create, transaction.

Clients authenticate with an OAuth 2.0 bearer token (client credentials); the acting user is
the application's system user, whose one membership is the seat the access policy decides
for. Token-authenticated views are exempt from CSRF (no cookies are involved) and never see
the staff second-factor redirect (the session user is anonymous).
"""

import functools
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core

from joinedup.fhir import capability, everything, export, importing, smart
from joinedup.fhir.access import KINDS, caseload_of
from joinedup.fhir.errors import FhirError, fhir_response, outcome_response, wrong_method
from joinedup.fhir.importing_patients import client_service
from joinedup.fhir.mapping import bundle, group_resource, profiled, versioned
from joinedup.fhir.models import ClientRegistration, ExportFile, ExportJob
from joinedup.fhir.scopes import covers
from joinedup.fhir.search import (
    PARAMETERS,
    date_range,
    ignored_notice,
    only_elements,
    page_size,
    search,
    unknown_parameters,
)
from joinedup.fhir.selectors import find_student_by_id, read_resource, student_record

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class Client:
    """The acting system user, with the token's scopes and those it was registered with
    (None when registered elsewhere): an interaction needs both to allow it."""

    user: object
    scopes: frozenset[str]
    registered: frozenset[str] | None = None

    def may(self, resource_type: str, mode: str) -> bool:
        return covers(self.scopes, resource_type, mode) and (
            self.registered is None or covers(self.registered, resource_type, mode)
        )


def fhir_endpoint(view):
    """Authenticate the bearer token, and turn every `FhirError` into an OperationOutcome."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            request.fhir_client = _authenticate(request)
            return view(request, *args, **kwargs)
        except FhirError as error:
            headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
            return outcome_response(error, headers)

    return wrapper


def _authenticate(request) -> Client:
    valid, core_request = get_oauthlib_core().verify_request(request, scopes=[])
    token = getattr(core_request, "access_token", None)
    if not valid or token is None:
        raise FhirError(
            401,
            "Send a valid access token: Authorization: Bearer <token> (from /o/token/).",
            code="login",
        )
    application = token.application
    user = application.user if application is not None else None
    if user is None or not user.is_active or user.memberships.count() != 1:
        raise FhirError(
            403,
            "This client is not set up to act for exactly one service. Ask an administrator to "
            "register it with the create_client command.",
            code="forbidden",
        )
    registered = ClientRegistration.objects.filter(client_id=application.client_id).first()
    return Client(
        user=user,
        scopes=frozenset(token.scope.split()),
        registered=frozenset(registered.scopes.split()) if registered else None,
    )


def _require(client: Client, resource_type: str, mode: str) -> None:
    if not client.may(resource_type, mode):
        raise FhirError(
            403,
            f"This client's token lacks the scope system/{resource_type}.{mode}.",
            code="forbidden",
        )


def _known(resource_type: str) -> None:
    if resource_type == "Group":
        raise FhirError(
            404,
            "A Group is read at /fhir/Group/<id> and found at /fhir/Group; it keeps no "
            "versions or history here, and no one is in its compartment.",
            code="not-supported",
        )
    if resource_type not in settings.FHIR_RESOURCES:
        raise FhirError(
            404,
            f"This server does not support {resource_type}. Supported: "
            f"{', '.join(settings.FHIR_RESOURCES)}.",
            code="not-supported",
        )


def base_url(request) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


def token_url(request) -> str:
    return request.build_absolute_uri(reverse("oauth2_provider:token"))


@csrf_exempt
def metadata(request):
    """The CapabilityStatement: public, as FHIR clients read it before they authenticate."""
    if request.method != "GET":
        return _get_only()
    return fhir_response(capability.statement(base_url(request), token_url(request)))


@csrf_exempt
def smart_configuration(request):
    """SMART's discovery document: where and how a backend service gets a token (public)."""
    if request.method != "GET":
        return _get_only()
    scopes = settings.OAUTH2_PROVIDER["SCOPES"]
    document = smart.configuration(
        token_url=token_url(request), scopes=[s for s in scopes if s.startswith("system/")]
    )
    return JsonResponse(document)


def _get_only():
    return outcome_response(wrong_method("GET", "Use GET."))


@fhir_endpoint
def type_endpoint(request, resource_type: str):
    """GET: search. POST: create (QuestionnaireResponse and ServiceRequest only)."""
    _known(resource_type)
    client = request.fhir_client
    if request.method == "POST":
        if resource_type not in importing.CREATABLE:
            raise wrong_method("GET", f"{resource_type} cannot be created here. This server "
                               f"accepts {', '.join(importing.CREATABLE)}.")  # fmt: skip
        _require(client, resource_type, "write")
        resource = importing.read_body(request, MAX_BODY_BYTES)
        found = _existing(request, resource_type)
        if found is not None:
            return _created(request, importing.Made(found, is_new=False))
        return _created(request, importing.create(client.user, resource_type, resource,
                                                  request=request))  # fmt: skip
    if request.method != "GET":
        if resource_type not in importing.CREATABLE:
            raise wrong_method("GET", f"Use GET to search {resource_type}.")
        raise wrong_method("GET, POST", "Use GET to search or POST to create.")
    return _search(request, resource_type, request.GET)


def _existing(request, resource_type: str) -> dict | None:
    """A conditional create (`If-None-Exist: <search>`, or the search as the POST's query):
    the one resource the search finds, None when it finds none; more than one is refused
    (412), and nothing is created."""
    condition = request.headers.get("If-None-Exist")
    if condition is None:
        # Some clients (fhirpy's `create(**search)`) send the condition as the POST's query.
        query = request.GET
        if not any(not name.startswith("_") for name in query):
            return None
        condition = query.urlencode()
    # The search alone, or a whole search URL ("https://…/fhir/Observation?identifier=…").
    params = QueryDict(condition.strip().split("?", 1)[-1])
    if not params:
        raise FhirError(400, "If-None-Exist needs a search, such as identifier=system|value.",
                        expression="If-None-Exist")  # fmt: skip
    _require(request.fhir_client, resource_type, "read")
    found = search(request.fhir_client.user, resource_type, params, request=request)
    if found.total and found.total > 1:
        raise FhirError(
            412,
            f"If-None-Exist matches {found.total} {resource_type} resources; name one, such "
            "as by its identifier. Nothing was created.",
            code="duplicate",
            expression="If-None-Exist",
        )
    return found.resources[0] if found.resources else None


def _bodiless(status: int, headers: dict) -> HttpResponse:
    """A response without a body, so without a Content-Type."""
    response = HttpResponse(status=status, headers=headers)
    del response["Content-Type"]
    return response


def _created(request, made: importing.Made):
    """The answer to a create, as `Prefer: return=` asks: the resource (representation, the
    default), nothing (minimal), or an OperationOutcome saying what happened, with any
    warnings about what of the resource was not taken."""
    resource = versioned(made.resource)
    location = f"{base_url(request)}/{resource['resourceType']}/{resource['id']}"
    version = resource["meta"]["versionId"]
    headers = {"Location": f"{location}/_history/{version}", "ETag": f'W/"{version}"'}
    status = 201 if made.is_new else 200
    wanted = request.headers.get("Prefer", "")
    if "return=minimal" in wanted:
        return _bodiless(status, headers)
    if "return=OperationOutcome" in wanted:
        said = "Created" if made.is_new else "Already held, so nothing was created:"
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational",
                       "diagnostics": f"{said} {resource['resourceType']}/{resource['id']}."},
                      *made.warnings],
        }  # fmt: skip
        return fhir_response(outcome, status=status, headers=headers)
    return fhir_response(resource, status=status, headers=headers)


@fhir_endpoint
def post_search(request, resource_type: str):
    """`POST <type>/_search`: a search whose parameters are a form body (and the query),
    answered as the same search by GET."""
    _known(resource_type)
    if request.method != "POST":
        raise wrong_method("POST", f"POST a form here, or search with GET /fhir/{resource_type}.")
    params = request.GET.copy()
    for name in request.POST:
        params.setlist(name, params.getlist(name) + request.POST.getlist(name))
    return _search(request, resource_type, params)


@fhir_endpoint
def compartment_search(request, key: str, resource_type: str):
    """`Patient/<id>/<Type>`: the patient compartment, the same as `<Type>?patient=<id>`."""
    _known(resource_type)
    if "patient" not in PARAMETERS[resource_type]:
        raise FhirError(
            404,
            f"{resource_type} is not in the Patient compartment here. Search "
            f"{', '.join(t for t, p in PARAMETERS.items() if 'patient' in p)} this way.",
            code="not-supported",
        )
    if request.method != "GET":
        raise wrong_method("GET", "Search a compartment with GET.")
    if "patient" in request.GET:
        raise FhirError(400, "The compartment names the patient; leave out patient=.",
                        expression="patient")  # fmt: skip
    params = request.GET.copy()
    params["patient"] = key
    return _search(request, resource_type, params)


@fhir_endpoint
def history(request, resource_type: str | None = None, key: str | None = None):
    """`<type>/<id>/_history` and `<type>/_history`: a history Bundle of the versions this
    server keeps, which are the current ones (a version is a digest of what the resource
    says; earlier versions are not kept). A type's history lists the resources changed at
    or after `_since`, most recent first, paged by `_count` and `_page`: what a partner
    polls to keep its copy up to date."""
    if resource_type is None:
        raise FhirError(
            404,
            "This server has no history across all types: ask each type's, such as "
            "/fhir/Observation/_history?_since=2026-11-01T00:00:00Z.",
            code="not-supported",
        )
    _known(resource_type)
    if request.method != "GET":
        raise wrong_method("GET", "Use GET to read a history.")
    client = request.fhir_client
    _require(client, resource_type, "read")
    base = base_url(request)
    if key is not None:
        resource = versioned(read_resource(client.user, resource_type, key, request=request))
        return fhir_response(_history_bundle([resource], base, total=1))
    params = _history_search(resource_type, request.GET)
    page = search(client.user, resource_type, params, request=request)
    links = _page_links(base, f"{resource_type}/_history", request.GET, page)
    return fhir_response(_history_bundle(page.resources, base, total=page.total, links=links))


HISTORY_PARAMETERS = ("_since", "_count", "_page", "_format")


def _history_search(resource_type: str, asked) -> QueryDict:
    """A type's history as the search that finds it: changed at or after `_since`, the most
    recently changed first."""
    for name in asked:
        if name not in HISTORY_PARAMETERS:
            raise FhirError(
                400,
                f"A history takes {', '.join(HISTORY_PARAMETERS)}; {name} is not supported.",
                code="not-supported",
                expression=name,
            )
    if resource_type not in KINDS or KINDS[resource_type].updated is None:
        raise FhirError(
            404,
            f"{resource_type} records no time of change, so it has no history here: read "
            f"or search it instead.",
            code="not-supported",
        )
    params = QueryDict(mutable=True)
    params["_sort"] = "-_lastUpdated"
    for name in ("_count", "_page", "_format"):
        params.setlist(name, asked.getlist(name))
    if "_since" in asked:
        date_range(asked["_since"], "_since")  # a clear error for what is not a date
        params["_lastUpdated"] = f"ge{asked['_since']}"
    return params


def _history_bundle(resources: list[dict], base: str, *, total, links=()) -> dict:
    """A `history` Bundle: each entry the version with the request that made it and its
    response. A type whose time of change is its creation (a response or a score, never
    changed once recorded) was made by a create (POST, 201); of any other the server
    cannot say whether it was created or changed since, so the entry says PUT."""
    result = bundle("history", resources, base=base, total=total, links=links)
    for entry in result["entry"]:
        resource = entry["resource"]
        kind = KINDS.get(resource["resourceType"])
        created = kind is not None and kind.updated == "created_at"
        path = f"{resource['resourceType']}/{resource['id']}"
        version = resource["meta"]["versionId"]
        entry["request"] = (
            {"method": "POST", "url": resource["resourceType"]}
            if created
            else {"method": "PUT", "url": path}
        )
        entry["response"] = {"status": "201" if created else "200", "etag": f'W/"{version}"'}
        if "lastUpdated" in resource["meta"]:
            entry["response"]["lastModified"] = resource["meta"]["lastUpdated"]
    return result


def _search(request, resource_type: str, params):
    client = request.fhir_client
    _require(client, resource_type, "read")
    # What a search includes is read as well: each included type needs its own scope.
    if params.getlist("_include"):
        _require(client, "Patient", "read")
    for value in params.getlist("_revinclude"):
        if value.partition(":")[0] in settings.FHIR_RESOURCES:
            _require(client, value.partition(":")[0], "read")
    lenient = "handling=lenient" in request.headers.get("Prefer", "")
    page = search(client.user, resource_type, params, request=request, lenient=lenient)
    base = base_url(request)
    links = _page_links(base, resource_type, params, page)
    result = bundle("searchset", page.resources, base=base, total=page.total, links=links)
    for outcome in (page.withheld, page.notice()):
        if outcome is not None:
            result["entry"].append({"resource": outcome, "search": {"mode": "outcome"}})
    for resource in page.included:
        result["entry"].append(
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "include"},
            }
        )
    return fhir_response(result)


def _page_links(base: str, path: str, params, page) -> list[tuple[str, str]]:
    """A search's self, next and previous links: its own parameters (less those it ignored),
    with the page size it was given (one larger than allowed is capped) and the number."""
    kept = [(k, v) for k in params for v in params.getlist(k)
            if k not in ("_page", "_count", *page.ignored)]  # fmt: skip
    if "_count" in params:
        kept.append(("_count", str(page.count)))

    def link(number: int) -> str:
        return f"{base}/{path}?{urlencode([*kept, ('_page', number)])}"

    links = [("self", link(page.number))]
    if page.has_next:
        links.append(("next", link(page.number + 1)))
    if page.number > 1 and page.count:
        links.append(("previous", link(page.number - 1)))
    return links


@fhir_endpoint
def instance_endpoint(request, resource_type: str, key: str):
    """GET: read one resource, through the same decision as the pages (audited), with its
    version as an ETag; `If-None-Match` with the current version answers 304."""
    return _read(request, resource_type, key)


@fhir_endpoint
def vread(request, resource_type: str, key: str, version: str):
    """`<type>/<id>/_history/<version>`: the current version; no earlier one is kept."""
    return _read(request, resource_type, key, version=version)


def _read(request, resource_type: str, key: str, version: str | None = None):
    _known(resource_type)
    if request.method != "GET":
        raise wrong_method("GET", "Use GET to read a resource; this server changes no "
                           "resource by its id.")  # fmt: skip
    client = request.fhir_client
    _require(client, resource_type, "read")
    resource = versioned(read_resource(client.user, resource_type, key, request=request))
    current = resource["meta"]["versionId"]
    if version is not None and version != current:
        raise FhirError(
            404,
            f"{resource_type}/{key} version {version} is not kept: this server keeps only the "
            f"current version, {current} (see {resource_type}/{key}/_history).",
            code="not-found",
        )
    return _with_etag(request, resource)


def _with_etag(request, resource: dict):
    """A read's answer: the resource with its version as an ETag, or 304 and no body when
    `If-None-Match` names that version."""
    current = resource["meta"]["versionId"]
    etag = f'W/"{current}"'
    asked = [
        t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")
    ]
    if f'"{current}"' in asked or "*" in asked:  # the weak comparison HTTP asks for
        return _bodiless(304, {"ETag": etag})
    return fhir_response(resource, headers={"ETag": etag})


@fhir_endpoint
def system_endpoint(request):
    """POST a transaction Bundle (partner import): all or nothing."""
    if request.method != "POST":
        raise wrong_method("POST", "POST a transaction Bundle here.")
    client = request.fhir_client
    _require(client, "Bundle", "write")
    resource = importing.read_body(request, MAX_BODY_BYTES * 10)
    return fhir_response(importing.transaction(client.user, resource, request=request))


# Bulk Data export ---------------------------------------------------------------------------


@fhir_endpoint
def group_export(request, key: str):
    """`Group/<id>/$export`: the caseload of the client's own service, whose uuid is the
    group's id."""
    return _kickoff(request, group=_own_group(request, key))


@fhir_endpoint
def group_endpoint(request, key: str | None = None):
    """`Group/<id>`, and `Group` (a search that finds the one group): the client's own
    service's caseload, with how many students are in it. Who they are is for a group-level
    export to give, each through the policy, and audited."""
    if request.method != "GET":
        raise wrong_method("GET", "Use GET to read or search Group.")
    client = request.fhir_client
    _require(client, "Group", "read")
    if key is not None:
        return _with_etag(request, _group(client, _own_group(request, key)))
    lenient = "handling=lenient" in request.headers.get("Prefer", "")
    unknown = unknown_parameters("Group", request.GET, lenient, known=capability.GROUP_PARAMETERS)
    service = client_service(client.user)
    wanted = {k for v in request.GET.getlist("_id") for k in v.split(",")}
    groups = [] if service is None else [_group(client, service)]
    groups = [g for g in groups if not wanted or g["id"] in wanted]
    if request.GET.get("_summary") == "count" or page_size(request.GET) == 0:
        shown = []
    else:
        shown = [only_elements(g, request.GET) for g in groups]
    found = bundle("searchset", shown, base=base_url(request), total=len(groups))
    notice = ignored_notice(unknown)
    if notice is not None:
        found["entry"].append({"resource": notice, "search": {"mode": "outcome"}})
    return fhir_response(found)


def _own_group(request, key: str):
    """The client's own service, when `key` names its group. Another service's group looks
    like one that does not exist: who is in a service's care is not the client's to learn."""
    service = client_service(request.fhir_client.user)
    if service is None or str(service.uuid) != key:
        raise FhirError(
            404,
            f"Group/{key} was not found. A client may read and export its own service's "
            "caseload: Group/<its service's HealthcareService id>.",
            code="not-found",
        )
    return service


def _group(client: Client, service) -> dict:
    size = len(caseload_of(client.user))
    return versioned(profiled(group_resource(service, size)))


@fhir_endpoint
def export_kickoff(request, patient_level: bool = False):
    """Start an export: `Prefer: respond-async` is required; 202 with the status URL."""
    return _kickoff(request, patient_level=patient_level)


def _kickoff(request, *, patient_level: bool = False, group=None):
    if request.method != "GET":
        raise wrong_method("GET", "Start an export with GET.")
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError(400, "A bulk export needs the header Prefer: respond-async.",
                        code="required", expression="Prefer")  # fmt: skip
    client = request.fhir_client
    job = export.start_export(
        client.user,
        patient_level=patient_level,
        params=request.GET,
        may_read=lambda name: client.may(name, "read"),
        request_url=request.build_absolute_uri(),
        group=group,
    )
    response = _bodiless(202, {})
    response["Content-Location"] = f"{base_url(request)}/$export-status/{job.uuid}"
    return response


@fhir_endpoint
def export_status(request, job_uuid):
    """Poll (GET) or cancel (DELETE) an export; only the client that started it may."""
    job = ExportJob.objects.filter(uuid=job_uuid, requested_by=request.fhir_client.user).first()
    if job is None or job.status == ExportJob.Status.CANCELLED:
        raise FhirError(404, "No such export (it may have been cancelled).", code="not-found")
    if request.method == "DELETE":
        job.status = ExportJob.Status.CANCELLED
        job.save(update_fields=["status"])
        job.files.all().delete()
        return _bodiless(202, {})
    if request.method != "GET":
        raise wrong_method("GET, DELETE", "Poll with GET or cancel with DELETE.")
    if job.status == ExportJob.Status.FAILED:
        return outcome_response(FhirError(500, job.error, code="exception"))
    if job.status != ExportJob.Status.COMPLETE:
        response = _bodiless(202, {})
        response["X-Progress"] = job.progress or "Queued"
        response["Retry-After"] = "5"
        return response
    return JsonResponse(export.manifest(job, base_url(request)))


@fhir_endpoint
def export_file(request, file_uuid):
    """One NDJSON file of a finished export, for the client that asked for it."""
    if request.method != "GET":
        raise wrong_method("GET", "Fetch a file with GET.")
    file = (
        ExportFile.objects.filter(
            uuid=file_uuid,
            job__requested_by=request.fhir_client.user,
            job__status=ExportJob.Status.COMPLETE,
        )
        .only("gzipped", "resource_type")
        .first()
    )
    if file is None:
        raise FhirError(404, "No such export file.", code="not-found")
    _require(request.fhir_client, file.resource_type, "read")
    return export.file_response(file, request.headers.get("Accept-Encoding", ""))


@fhir_endpoint
def patient_everything(request, key: str):
    """`Patient/<id>/$everything`: the student's whole record as the client may see it (the
    same Bundle the student downloads of themself), limited to the types its scopes allow.
    The scopes narrow the types before the policy decides, so only the categories that go
    out to the client are decided and audited. `_type`, `start`/`end` (the care dates),
    `_since` (changed since) and `_count` (with `_page`) narrow and page it."""
    if request.method != "GET":
        raise wrong_method("GET", "Use GET.")
    client = request.fhir_client
    _require(client, "Patient", "read")
    wanted = everything.Wanted.of(request.GET)
    for name in sorted(wanted.types or ()):
        _require(client, name, "read")  # a type asked for by name is never silently empty
    student = find_student_by_id(key)
    types = [name for name in settings.FHIR_RESOURCES if client.may(name, "read")]
    types = [name for name in types if wanted.types is None or name in wanted.types]
    found = student_record(client.user, student, types=types, request=request) if student else None
    if found is None:
        raise FhirError(404, f"Patient/{key} was not found.", code="not-found")
    result, withheld = found
    entries = [
        e | {"resource": versioned(e["resource"]), "search": {"mode": "match"}}
        for e in result["entry"]
        if client.may(e["resource"]["resourceType"], "read")
        and (wanted.types is None or e["resource"]["resourceType"] in wanted.types)
        and wanted.keeps(e["resource"])
    ]
    page = entries[(wanted.page - 1) * wanted.count : wanted.page * wanted.count]
    base = base_url(request)
    links = [("self", wanted.url(base, key, wanted.page))]
    if wanted.page * wanted.count < len(entries):
        links.append(("next", wanted.url(base, key, wanted.page + 1)))
    if wanted.page > 1:
        links.append(("previous", wanted.url(base, key, wanted.page - 1)))
    if withheld is not None:
        # What the client may not see is said, not left out: who holds it.
        page.append({"resource": withheld, "search": {"mode": "outcome"}})
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(entries),
            "link": [{"relation": relation, "url": url} for relation, url in links],
            "entry": page,
        }
    )
