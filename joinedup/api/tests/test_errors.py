"""Bad input gets a 4xx with words naming what is wrong, never a 500, and saves nothing."""

import io

import pytest
from django.test import Client

from joinedup.api.routes import students
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


def test_a_body_that_is_not_json_is_a_415_naming_the_content_type(hub, wellbeing_api, client):
    # A multipart body would be consumed by the token check before the API could read it.
    response = Client(raise_request_exception=False).post(
        f"/api/students/{hub.student.uuid}/consents",
        {"category": "outcomes", "file": io.BytesIO(b"data")},
        headers={"Authorization": f"Bearer {wellbeing_api.token}"},
    )
    assert response.status_code == 415
    assert response["Content-Type"].startswith("application/json")
    assert "application/json" in response.json()["detail"]
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 100_000 + "]" * 100_000])
def test_a_body_nested_too_deeply_is_a_400_with_a_message(hub, wellbeing_api, body):
    client = Client(raise_request_exception=False)
    response = client.post(
        f"/api/students/{hub.student.uuid}/consents",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {wellbeing_api.token}"},
    )
    assert response.status_code == 400
    assert (
        response.json()["detail"] == "The request body nests lists or objects too deeply to read."
    )


def test_an_unknown_operation_or_method_is_json_not_a_page(wellbeing_api):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {wellbeing_api.token}"}
    missing = client.get("/api/no-such-thing", headers=headers)
    assert missing.status_code == 404
    assert "/api/docs" in missing.json()["detail"]
    wrong_method = client.delete("/api/students", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method["Allow"] == "GET"
    assert wrong_method.json()["detail"] == "This method is not allowed here. Use: GET."


def test_a_server_fault_is_json_not_a_page(wellbeing_api, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a fault")

    monkeypatch.setattr(students, "readable_students", fail)
    client = Client(raise_request_exception=False)
    response = client.get(
        "/api/students", headers={"Authorization": f"Bearer {wellbeing_api.token}"}
    )
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert "The fault is ours" in response.json()["detail"]
