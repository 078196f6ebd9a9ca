"""Bad input gets a 4xx with words naming what is wrong, never a 500, and saves nothing."""

from joinedup.consent.models import ConsentGrant
from joinedup.referrals.models import Referral


def test_malformed_json_is_a_4xx_with_a_message(hub, wellbeing_api, client):
    response = client.post(
        f"/api/students/{hub.student.uuid}/consents",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {wellbeing_api.token}"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."
    assert not ConsentGrant.objects.exists()


def test_a_missing_field_is_named(hub, wellbeing_api):
    response = wellbeing_api.post("/referrals", {"student": str(hub.student.uuid)})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"to_service", "reason"}
    assert response.json()["detail"] == "Check these fields: to_service, reason."
    assert not Referral.objects.exists()


def test_a_bad_uuid_in_the_path_or_a_bad_page_is_named(hub, wellbeing_api):
    response = wellbeing_api.get("/students/not-a-uuid")
    assert (response.status_code, list(response.json()["errors"])) == (422, ["student_uuid"])
    response = wellbeing_api.get("/students", page=0)
    assert (response.status_code, list(response.json()["errors"])) == (422, ["page"])
    response = wellbeing_api.get("/students", page_size=1000)
    assert (response.status_code, list(response.json()["errors"])) == (422, ["page_size"])
