"""Input no view can read is a 4xx in the caller's own form, never a 500: pages get a page,
the API JSON, FHIR an OperationOutcome and the token endpoint OAuth's error object. Then a
sweep posts malformed bodies to every route Django knows, as each kind of caller."""

import base64
import re
import time
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import SignedInClient, sign_in_with_second_factor
from joinedup.api.tests.conftest import make_token
from joinedup.consent.tests.factories import give_consent
from joinedup.errors import _is_json
from joinedup.fhir.services import create_client
from joinedup.measures.tests.factories import PHQ9_ITEM9, record, start_episode
from joinedup.referrals.tests.factories import refer

BROKEN_QUERIES = ["q=%E0%A4%A", "q=%zz", "q=%ff", "q=100%"]
FORM = "application/x-www-form-urlencoded"


def unbroken() -> Client:
    """A test client that answers a server error with its 500 rather than raising."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("query", BROKEN_QUERIES)
def test_a_broken_query_string_is_a_400_page(db, query):
    response = unbroken().get(f"/accounts/login/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "each % must begin a two-digit hex code" in response.text


@pytest.mark.parametrize("query", BROKEN_QUERIES)
def test_a_broken_query_string_is_a_400_in_json_on_the_api(hub, query):
    # With a token, oauthlib's check of "%zz" raised: a 500.
    token = make_token(create_client(service=hub.wellbeing, name="EPR", scopes=["api.read"])[0])
    for headers in ({"Authorization": f"Bearer {token}"}, {}):
        response = unbroken().get(f"/api/students?{query}", headers=headers)
        assert response.status_code == 400
        assert "query string" in response.json()["detail"]


@pytest.mark.parametrize("query", BROKEN_QUERIES)
def test_a_broken_token_request_is_an_oauth_invalid_request(hub, query):
    application, secret = create_client(service=hub.wellbeing, name="EPR", scopes=["api.read"])
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    client, headers = unbroken(), {"Authorization": f"Basic {basic}"}
    in_query = client.post(
        f"/o/token/?{query}", "grant_type=client_credentials", FORM, headers=headers
    )
    in_body = client.post(
        "/o/token/", f"grant_type=client_credentials&scope={query[2:]}", FORM, headers=headers
    )
    for response in (in_query, in_body):
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == "invalid_request"
    good = client.post("/o/token/", "grant_type=client_credentials", FORM, headers=headers)
    assert good.status_code == 200


def test_the_token_endpoints_own_errors_are_labelled_json(hub):
    application, secret = create_client(service=hub.wellbeing, name="EPR", scopes=["api.read"])
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = unbroken().post(
        "/o/token/?scope=api.read", "grant_type=client_credentials", FORM,
        headers={"Authorization": f"Basic {basic}"},
    )  # fmt: skip
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"


def test_a_missing_page_is_still_a_page(db):
    response = unbroken().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.text


@pytest.mark.parametrize("path", ["/no-such-page/", f"/governance/agreements/{uuid.UUID(int=7)}/"])
def test_a_missing_page_in_development_is_the_products_never_the_list_of_routes(
    hub, settings, path
):
    settings.DEBUG = True  # how the demo runs
    client = SignedInClient()
    client.force_login(hub.org_admin)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert "DEBUG = True" not in response.text
    assert "URLconf" not in response.text
    fhir = client.get("/fhir/NoSuchType/1")  # a partner system still reads JSON
    assert fhir["Content-Type"].startswith("application/fhir+json")


def test_a_body_larger_than_the_server_accepts_is_a_413_in_the_callers_form(hub):
    scopes = ["api.write", "system/QuestionnaireResponse.write"]
    application, _secret = create_client(service=hub.wellbeing, name="EPR", scopes=scopes)
    client = Client(
        headers={"Authorization": f"Bearer {make_token(application, ' '.join(scopes))}"},
        raise_request_exception=False,
    )
    huge = "x" * 3_000_000  # over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    api = client.post("/api/referrals", huge, content_type="application/json")
    assert (api.status_code, api.json()["detail"]) == (
        413, "The request body is larger than this server accepts."
    )  # fmt: skip
    fhir = client.post("/fhir/QuestionnaireResponse", huge, content_type="application/fhir+json")
    assert (fhir.status_code, fhir.json()["issue"][0]["code"]) == (413, "too-costly")
    token = client.post("/o/token/", f"grant_type={huge}", FORM)
    assert (token.status_code, token.json()["error"]) == (413, "invalid_request")


# The sweep ---------------------------------------------------------------------------------

# Fields the pages' forms name, filled with what they cannot take.
UUID_FIELDS = (
    "service", "student", "episode", "referral", "to_service", "recipient", "grant", "case",
    "action", "plan", "group", "project", "extract", "report", "flag", "concern", "feedback",
    "panel", "organisation", "member", "university", "department",
)  # fmt: skip
TEXT_FIELDS = ("reason", "body", "summary", "text", "title", "notes", "comment", "observed", "q")
GARBAGE_FORM = "&".join(
    [f"{name}=not-a-uuid" for name in UUID_FIELDS]
    + [f"{name}={'x' * 20_000}" for name in TEXT_FIELDS]
    + ["category=gossip", "code=%00", "version=NaN", "session_number=1e999", "at=31%2F02%2F2026"]
    + ["page=-1", "share=on", "email=%40", "password=", "start=0000-00-00", "answers=[]"]
)
MULTIPART = (
    "multipart/form-data; boundary=b",
    b'--b\r\nContent-Disposition: form-data; name="service"\r\n\r\nnot-a-uuid\r\n'
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n\x00\xff\xfe\r\n--b",  # never closed
)
BODIES = {
    "multipart garbage": MULTIPART,
    "multipart without a boundary": ("multipart/form-data", b"--\r\n\r\n"),
    "garbage form": (FORM, GARBAGE_FORM),
    "broken escapes": (FORM, "grant_type=client_credentials&service=%zz&reason=%E0%A4%A"),
    "invalid JSON": ("application/json", '{"resourceType": "Bundle", '),
    "100,000 [": ("application/json", "[" * 100_000),
    "deep JSON": (
        "application/fhir+json",
        '{"resourceType": "QuestionnaireResponse", "item": ' + "[" * 500 + "]" * 500 + "}",
    ),
    "JSON as text": ("text/plain", '{"resourceType": "Bundle", "type": "transaction"}'),
}
PAGE_BODIES = ("multipart garbage", "garbage form")
MACHINE_BODIES = ("multipart garbage", "broken escapes", "invalid JSON", "100,000 [",
                  "deep JSON", "JSON as text")  # fmt: skip
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
SAFE_TO_SKIP = ("admin/",)  # Django's own admin, for superusers
HTML = ("/api/docs",)  # the interactive documentation is a page


def routes() -> list[str]:
    """Every path Django routes to, its parameters left as <converter:name>."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    found = dict.fromkeys(f"/{p}" for p in walk(get_resolver().url_patterns))
    # Signing out last, so the session lasts the sweep.
    return sorted(
        (p for p in found if not p.startswith(tuple(f"/{s}" for s in SAFE_TO_SKIP))),
        key=lambda p: "logout" in p,
    )


def fill(route: str, known: dict) -> str:
    def value(match):
        name, converter = match["name"], match["converter"] or "str"
        if name in known:
            return str(known[name])
        return {"uuid": str(uuid.uuid4()), "int": "1"}.get(converter, "x")

    return CONVERTER.sub(value, route)


def audience(path: str) -> str:
    for prefix in ("/api", "/fhir", "/o"):
        if path == prefix or path.startswith(f"{prefix}/"):
            return prefix[1:]
    return "page"


@pytest.fixture
def known(hub, reports_alias):
    """Real records for the routes' parameters, so the bodies reach the views."""
    episode = start_episode(hub)
    administration = record(episode, hub.practitioner, answers=PHQ9_ITEM9)
    referral = refer(hub)
    return {
        "student_uuid": hub.student.uuid,
        "service_uuid": hub.wellbeing.uuid,
        "episode_uuid": episode.uuid,
        "referral_uuid": referral.uuid,
        "administration_uuid": administration.uuid,
        "flag_uuid": administration.risk_flags.get().uuid,
        "grant_uuid": give_consent(hub, "risk", hub.crisis).uuid,
        "resource_type": "QuestionnaireResponse",
        "key": hub.student.uuid,
        "code": "PHQ-9",
        "action": "accept",
    }


@pytest.fixture
def reports_alias(db):
    from django.db import connections

    original = connections["reports"]
    connections["reports"] = connections["default"]
    yield
    connections["reports"] = original


def test_no_route_fails_on_a_malformed_body(hub, known):
    """Each caller posts malformed bodies to each route it might reach: a member of staff
    past the second factor (pages and the API), a partner system's token (API, FHIR and
    OAuth), a student (their portal) and anyone at all. None may get a 5xx, and under /api/
    and /fhir/ every answer is JSON."""
    staff, student, anyone = unbroken(), SignedInClient(raise_request_exception=False), unbroken()
    sign_in_with_second_factor(staff, hub.practitioner)
    student.force_login(hub.student_user)
    scopes = ["api.read", "api.write", "system/*.read", "system/QuestionnaireResponse.write",
              "system/ServiceRequest.write", "system/Bundle.write"]  # fmt: skip
    application, secret = create_client(service=hub.wellbeing, name="Sweep", scopes=scopes)
    token = make_token(application, " ".join(scopes))
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    system = Client(headers={"Authorization": f"Bearer {token}"}, raise_request_exception=False)
    oauth = Client(headers={"Authorization": f"Basic {basic}"}, raise_request_exception=False)

    plan = []
    for route in routes():
        path = fill(route, known)
        kind = audience(path)
        if kind == "page":
            plan += [(staff, path, body) for body in PAGE_BODIES]
            if path.startswith("/me/"):
                plan += [(student, path, body) for body in PAGE_BODIES]
        elif kind == "api":
            plan += [(staff, path, body) for body in ("multipart garbage", "100,000 [")]
        machine = oauth if kind == "o" else system
        if kind != "page":
            plan += [(machine, path, body) for body in MACHINE_BODIES]
        plan.append((anyone, path, "multipart without a boundary"))

    failures, started = [], time.monotonic()
    signed_in = {staff: str(hub.practitioner.pk), student: str(hub.student_user.pk)}
    for client, path, body in plan:
        if "logout" in path and client in signed_in:  # still signed in, up to signing out
            assert client.session.get("_auth_user_id") == signed_in.pop(client)
        content_type, data = BODIES[body]
        response = client.post(path, data, content_type=content_type)
        media = response.get("Content-Type", "").split(";")[0]
        if response.status_code >= 500:
            failures.append(f"{response.status_code} from POST {path} ({body})")
        elif audience(path) in ("api", "fhir") and path not in HTML and not _is_json(media):
            failures.append(f"{media} from POST {path} ({body}): {response.status_code}")
    elapsed = time.monotonic() - started
    assert not failures, "\n".join(failures)
    assert 300 < len(plan) < 1200, len(plan)
    print(f"{len(plan)} requests in {elapsed:.1f} s")
