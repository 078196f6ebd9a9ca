"""Every way in asks for the second factor, staff rules for every member of staff, rate limits
that one person cannot turn on everyone, and the headers every response carries."""

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from conftest import PASSWORD
from joinedup.people.models import Membership, Role

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def password_only(user) -> Client:
    """A session authenticated without allauth's flow (as Django admin's own form did): the
    password checked, the second factor never asked."""
    client = Client()
    Client.force_login(client, user)
    return client


# The admin sign-in


def test_admin_sign_in_form_is_not_offered(hub):
    client = Client()
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/admin/"


def test_posting_a_password_to_the_admin_sign_in_opens_no_session(hub):
    hub.practitioner.is_staff = True
    hub.practitioner.save(update_fields=["is_staff"])
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": hub.practitioner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    assert client.get(f"/students/{hub.student.uuid}/")["Location"].startswith(LOGIN)
    assert client.get("/api/students").status_code == 401


def test_a_password_only_session_is_ended_and_sent_to_sign_in(hub):
    client = password_only(hub.practitioner)
    response = client.get(f"/students/{hub.student.uuid}/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/students/{hub.student.uuid}/"
    assert "_auth_user_id" not in client.session


def test_a_password_only_session_gets_401_json_from_the_api_and_fhir(hub):
    for path in ("/api/students", "/fhir/Patient"):
        response = password_only(hub.practitioner).get(path)
        assert response.status_code == 401
        assert response["Content-Type"].startswith("application/json")
        assert "second factor" in response.json()["detail"]


def test_a_password_only_session_of_the_admin_flag_alone_is_refused(hub):
    hub.outsider.memberships.all().delete()
    hub.outsider.is_staff = True
    hub.outsider.save(update_fields=["is_staff"])
    response = password_only(hub.outsider).get("/admin/")
    assert response["Location"].startswith(LOGIN)


def test_a_full_sign_in_reaches_the_record(hub, client):
    client.force_login(hub.practitioner)
    assert client.get(f"/students/{hub.student.uuid}/").status_code == 200


# Staff who are also students


@pytest.fixture
def staff_student(hub):
    """A postgraduate who is also a practitioner, with no authenticator yet."""
    user = hub.student_user
    Membership.objects.create(
        user=user, organisation=hub.university, service=hub.counselling, role=Role.PRACTITIONER
    )
    return user


def test_a_member_of_staff_who_is_also_a_student_must_enrol_a_second_factor(hub, staff_student):
    response = password_only(staff_student).get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_member_of_staff_who_is_also_a_student_has_the_idle_timeout(hub, staff_student, settings):
    client = password_only(staff_student)
    client.get("/accounts/2fa/totp/activate/")
    assert client.session.get_expiry_age() == settings.STAFF_IDLE_TIMEOUT


def test_a_student_without_a_staff_role_keeps_student_rules(hub):
    assert password_only(hub.student_user).get("/me/").status_code == 200


# Rate limits behind the proxy


def _fail(client, email, address):
    return client.post(
        LOGIN,
        {"login": email, "password": "not the password"},
        HTTP_X_FORWARDED_FOR=address,
        REMOTE_ADDR="10.0.0.1",
    )


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_one_persons_wrong_passwords_do_not_lock_out_others_behind_the_proxy(hub):
    for _ in range(6):
        _fail(Client(), hub.practitioner.email, "203.0.113.5")
    response = Client().post(
        LOGIN,
        {"login": hub.student_user.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 302, "another person at another address signs in"


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_wrong_passwords_lock_the_account_from_any_address(hub):
    for number in range(5):
        _fail(Client(), hub.practitioner.email, f"203.0.113.{number + 1}")
    response = Client().post(
        LOGIN,
        {"login": hub.practitioner.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.text


@override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_one_address_guessing_many_accounts_is_limited(hub):
    emails = [f"guess{n}@nb.ac.uk" for n in range(20)]
    for email in emails:
        _fail(Client(), email, "203.0.113.50")
    response = _fail(Client(), "guess-more@nb.ac.uk", "203.0.113.50")
    assert "Too many failed login attempts" in response.text


# Headers


def test_pages_with_personal_data_are_never_stored(hub, client):
    client.force_login(hub.practitioner)
    for path in (f"/students/{hub.student.uuid}/", "/api/students", "/accounts/login/"):
        cache_control = client.get(path)["Cache-Control"]
        assert "no-store" in cache_control, path
        assert "private" in cache_control, path


def test_every_response_has_a_permissions_policy(hub, client):
    header = Client().get("/accounts/login/")["Permissions-Policy"]
    assert "camera=()" in header
    assert "geolocation=()" in header
    assert "microphone=()" in header


@pytest.mark.parametrize(
    "path",
    ["/o/applications/", "/o/applications/register/", "/o/authorize/", "/o/authorized_tokens/"],
)
def test_oauth_self_registration_and_authorisation_pages_are_gone(hub, client, path):
    client.force_login(hub.practitioner)
    assert client.get(path).status_code == 404
