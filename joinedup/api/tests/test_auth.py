"""Who may call the API: a token with the right scope, or a signed-in member of staff."""

import pytest

from conftest import SignedInClient
from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.people.models import Membership, Role


def test_no_credentials_is_401_with_how_to_authenticate(hub, client):
    response = client.get("/api/students")
    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]


def test_an_unknown_or_expired_token_is_401(hub, client):
    assert Api(client, "not-a-token").get("/students").status_code == 401
    expired = make_token(make_client(hub.wellbeing), seconds=-10)
    response = Api(client, expired).get("/students")
    assert response.status_code == 401
    assert response.json()["detail"] == "The access token is not valid, or has expired."


def test_a_read_token_cannot_change_anything(hub, client):
    api = Api(client, make_token(make_client(hub.wellbeing), scope="api.read"))
    assert api.get("/students").status_code == 200
    response = api.post(f"/students/{hub.student.uuid}/consents", {})
    assert response.status_code == 403
    assert "api.write" in response.json()["detail"]


def test_a_token_without_the_read_scope_cannot_read(hub, client):
    api = Api(client, make_token(make_client(hub.wellbeing), scope="system/Patient.read"))
    assert api.get("/students").status_code == 403


def test_a_client_whose_user_has_two_memberships_is_refused(hub, client):
    application = make_client(hub.wellbeing)
    Membership.objects.create(
        user=application.user, organisation=hub.university, service=hub.counselling,
        role=Role.PRACTITIONER,
    )  # fmt: skip
    response = Api(client, make_token(application)).get("/students")
    assert response.status_code == 403
    assert "exactly one membership" in response.json()["detail"]


def test_a_signed_in_member_of_staff_may_read(hub, client):
    response = staff_api(client, hub.practitioner).get("/students")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_signed_in_student_may_not_use_the_api(hub, client):
    assert staff_api(client, hub.student_user).get("/students").status_code == 401


@pytest.mark.parametrize("with_token", [False, True])
def test_a_session_change_needs_the_csrf_token(hub, with_token):
    client = SignedInClient(enforce_csrf_checks=True)
    client.force_login(hub.practitioner)
    client.get("/api/students")  # a page visit sets nothing; take the token from a form page
    client.get(f"/students/{hub.student.uuid}/consents/new/")
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value} if with_token else {}
    response = client.post(
        f"/api/students/{hub.student.uuid}/consents",
        {
            "category": "outcomes", "purpose": "direct_care", "how_given": "in_person",
            "recipient": {"kind": "service", "uuid": str(hub.counselling.uuid)},
        },
        content_type="application/json",
        headers=headers,
    )  # fmt: skip
    if with_token:
        assert response.status_code == 201, response.content
    else:
        assert response.status_code == 403
        assert "CSRF" in response.json()["detail"]
