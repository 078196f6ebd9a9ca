"""The service report through the API: for service managers and researchers only."""

import datetime as dt

import pytest
from django.utils import timezone

from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.audit.models import AuditEvent
from joinedup.referrals.tests.factories import refer

pytestmark = pytest.mark.usefixtures("reports_alias")


def query(hub, *services, **fields):
    today = timezone.localdate()
    return {
        "start": (today - dt.timedelta(days=30)).isoformat(),
        "end": (today + dt.timedelta(days=1)).isoformat(),
        "service": [str(s.uuid) for s in services or [hub.wellbeing]],
        **fields,
    }


def test_a_service_manager_runs_a_report_and_the_run_is_audited(hub, client):
    refer(hub, frm=hub.counselling, to=hub.wellbeing, actor=hub.counsellor)
    response = staff_api(client, hub.service_manager).get("/reports", **query(hub))
    assert response.status_code == 200, response.content
    body = response.json()
    assert "Wellbeing" in body["description"]
    assert body["report"]["services"][0]["name"] == "Wellbeing"
    assert body["report"]["tables"]
    assert hub.student.legal_family_name not in response.content.decode()
    event = AuditEvent.objects.get(action="api.report.viewed")
    assert (event.actor, event.student) == (hub.service_manager, None)


def test_a_researchers_client_may_report_on_any_service(hub, client):
    api = Api(client, make_token(make_client(hub.wellbeing, role="researcher")))
    assert api.get("/reports", **query(hub, hub.talking)).status_code == 200


def test_a_service_manager_cannot_report_on_another_organisations_service(hub, client):
    response = staff_api(client, hub.service_manager).get("/reports", **query(hub, hub.talking))
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["service"]
    assert not AuditEvent.objects.filter(action="api.report.viewed").exists()


def test_a_bad_period_is_named(hub, client):
    api = staff_api(client, hub.service_manager)
    response = api.get("/reports", **query(hub, start="2025-02-01", end="2025-01-01"))
    assert (response.status_code, response.json()["errors"]) == (
        400, {"end": ["The end must be after the start."]},
    )  # fmt: skip
    assert api.get("/reports", **query(hub, breakdown="star_sign")).status_code == 422


def test_practitioners_and_their_clients_do_not_run_reports(hub, client, wellbeing_api):
    assert wellbeing_api.get("/reports", **query(hub)).status_code == 403
    assert staff_api(client, hub.practitioner).get("/reports", **query(hub)).status_code == 403


def test_periods_at_the_ends_of_the_calendar_do_not_fail(hub, client):
    api = staff_api(client, hub.service_manager)
    response = api.get("/reports", **query(hub, start="0001-01-01", end="0001-06-01"))
    assert response.status_code == 200, response.content
    assert response.json()["report"]["parameters"]["start"] == "0001-01-01"
    response = api.get("/reports", **query(hub, start="9999-01-01", end="9999-12-31"))
    assert response.status_code == 400, response.content
    assert "This period has not begun" in response.content.decode()
