"""The OpenAPI schema: every endpoint is documented, and generated requests (valid and not)
never make the server fail, whether sent by a partner system's token or by a member of staff
signed in with the second factor. Path and body identifiers are pointed at real records, so
the generated input reaches the services rather than stopping at a 404."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from conftest import sign_in_with_second_factor
from joinedup.api.api import api
from joinedup.api.routes import administrations, consents, flags, referrals, reports, students
from joinedup.api.tests.conftest import make_client, make_token
from joinedup.measures.tests.factories import PHQ9_ITEM9, record, start_episode
from joinedup.referrals.models import Referral
from joinedup.referrals.tests.factories import refer
from joinedup.risk.models import Flag
from joinedup.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
RECEIVER_STEPS = (
    "/accept", "/decline", "/add-to-waiting-list", "/first-contact", "/start-treatment",
    "/discharge",
)  # fmt: skip
ROUTERS = [r.router for r in (students, consents, referrals, administrations, flags, reports)]
EXAMPLES = 6  # per operation and mode: about 250 requests for each kind of caller


def test_every_route_is_in_the_schema():
    documented = {
        (method.upper(), path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    routed = {
        (method, f"/api{path}")
        for router in ROUTERS
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    assert routed == documented
    assert len(documented) == 22


@pytest.fixture
def _keep_the_test_connection():
    """Each test runs in a transaction on its connection. Django's test client stops a
    request from closing that connection at its start and end; the requests here go to the
    WSGI application directly, so this does the same (on PostgreSQL it would be closed)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def records(hub, reports_alias, sessions, _keep_the_test_connection):
    """A token for Wellbeing and a signed-in practitioner of it (a service manager's for
    reports), and one of each thing they may read and change."""
    episode = start_episode(hub)
    administration = record(episode, hub.practitioner, answers=PHQ9_ITEM9)
    sent = refer(hub)
    received = refer(hub, frm=hub.counselling, to=hub.wellbeing, actor=hub.counsellor)
    return {
        "token": _bearer(make_client(hub.wellbeing)),
        "manager_token": _bearer(make_client(hub.wellbeing, role="service_manager")),
        **sessions,
        "path": {
            "student_uuid": hub.student.uuid,
            "referral_uuid": sent.uuid,
            "administration_uuid": administration.uuid,
            "flag_uuid": Flag.objects.get().uuid,
        },
        "body": {
            "student": hub.student.uuid,
            "episode": episode.uuid,
            "to_service": hub.talking.uuid,
        },
        "report_query": {"service": [str(hub.wellbeing.uuid)]},
        # The receiving service's steps are tried on a referral Wellbeing received.
        "received": received.uuid,
    }


def _bearer(application) -> dict:
    """How a call carries a partner system's token."""
    return {"headers": {"Authorization": f"Bearer {make_token(application)}"}}


@pytest.fixture
def sessions(hub):
    """Signed-in staff, set up before `_keep_the_test_connection`: Django's test client
    connects the signals it disconnects again as it finishes each request."""
    return {"staff": _session(hub.practitioner), "manager_staff": _session(hub.service_manager)}


def _session(user) -> dict:
    """How a call carries a real sign-in (password, then TOTP code) and its CSRF token."""
    client = Client()
    sign_in_with_second_factor(client, user)
    client.get("/")  # a page with a form sets the CSRF cookie
    cookies = {name: client.cookies[name].value for name in ("sessionid", "csrftoken")}
    return {"headers": {"X-CSRFToken": cookies["csrftoken"]}, "cookies": cookies}


@pytest.mark.parametrize("caller", ["token", "staff"])
def test_generated_requests_never_fail_on_the_server(records, caller):
    """Valid and invalid requests to every operation, a few of each (one database set-up
    for all, so the whole run takes seconds)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 22
    for operation in operations:
        path = {k: str(v) for k, v in records["path"].items() if f"{{{k}}}" in operation.path}
        if operation.path.endswith(RECEIVER_STEPS):
            path["referral_uuid"] = str(records["received"])
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            is_report = operation.path == "/api/reports"
            strategy = operation.as_strategy(
                mode,
                path_parameters=path or None,
                query=records["report_query"] if is_report else None,
            )
            credentials = records[f"manager_{caller}" if is_report else caller]
            _exercise(strategy, path, records, credentials)


def _exercise(strategy, path: dict, records: dict, credentials: dict) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        if isinstance(case.body, dict):
            for name, value in records["body"].items():
                if name in case.body:
                    case.body[name] = str(value)
            if "version" in case.body and "referral_uuid" in path:
                # The version as it is now, so a step can get past the conflict check.
                case.body["version"] = Referral.objects.get(uuid=path["referral_uuid"]).version
        if case.headers and "cookies" in credentials:
            case.headers.pop("Authorization", None)  # a generated token would be tried first
        response = case.call(**credentials)
        assert response.status_code != 401, response.text  # the caller is signed in
        case.validate_response(response, checks=[not_a_server_error])

    check()
