"""Risk flags through the API: the worklist, one flag, acknowledging it."""

import pytest

from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.risk import services
from joinedup.risk.models import Flag


@pytest.fixture
def flag(hub):
    return services.raise_flag(
        student=hub.student,
        service=hub.wellbeing,
        actor=hub.practitioner,
        level=services.level_of_rank(3),
        source="practitioner",
        reason="Said they had a plan.",
    )


def test_the_worklist_lists_open_flags_and_audits_them(hub, flag, wellbeing_api):
    body = wellbeing_api.get("/flags").json()
    assert [(f["uuid"], f["reason"], f["level"]) for f in body["items"]] == [
        (str(flag.uuid), "Said they had a plan.", "High")
    ]
    assert AuditEvent.objects.filter(action="risk.flags.listed", category="risk").exists()


def test_acknowledging_once_and_not_twice(hub, flag, wellbeing_api):
    response = wellbeing_api.post(f"/flags/{flag.uuid}/acknowledge")
    assert response.status_code == 200
    assert response.json()["acknowledged_at"]
    assert Flag.objects.get().acknowledged_by.memberships.get().service == hub.wellbeing
    again = wellbeing_api.post(f"/flags/{flag.uuid}/acknowledge")
    assert (again.status_code, again.json()["detail"]) == (
        400, "This flag has already been acknowledged.",
    )  # fmt: skip
    assert wellbeing_api.get("/flags").json()["count"] == 0
    assert AuditEvent.objects.filter(action="risk.flag.acknowledged").count() == 1


def test_another_services_reason_needs_consent(hub, flag, client):
    crisis = Api(client, make_token(make_client(hub.crisis)))
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    assert crisis.get("/flags").json()["items"][0]["reason"] is None
    read = crisis.get(f"/flags/{flag.uuid}")
    assert read.json()["reason"] is None
    assert "Said they had a plan." not in read.content.decode()
    give_consent(hub, "risk", hub.crisis)
    assert crisis.get(f"/flags/{flag.uuid}").json()["reason"] == "Said they had a plan."
    read = AuditEvent.objects.filter(action="risk.flag.read", category="risk", allowed=True)
    assert list(read.values_list("basis", flat=True)) == ["relationship", "consent"]


def test_a_service_not_in_care_sees_no_flag_and_cannot_acknowledge(hub, flag, outsider_api):
    assert outsider_api.get("/flags").json()["count"] == 0
    assert outsider_api.get(f"/flags/{flag.uuid}").status_code == 404
    assert outsider_api.post(f"/flags/{flag.uuid}/acknowledge").status_code == 404
    assert Flag.objects.get().acknowledged_at is None


def test_an_academic_session_sees_no_flags(hub, flag, client):
    api = staff_api(client, hub.academic)
    assert api.get("/flags").status_code == 403
    assert api.get(f"/flags/{flag.uuid}").status_code == 403
    assert api.post(f"/flags/{flag.uuid}/acknowledge").status_code == 403
