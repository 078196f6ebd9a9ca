"""Signing in through allauth: a second factor for staff, rate limits, reset, idle timeout."""

import datetime as dt
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD, TOTP_SECRET, make_staff
from joinedup import settings as project_settings
from joinedup.audit.models import AuditEvent
from joinedup.people.models import Role, User

LOGIN = "/accounts/login/"
MFA_AUTHENTICATE = "/accounts/2fa/authenticate/"
REAUTHENTICATE = "/accounts/reauthenticate/"
ACTIVATE_TOTP = reverse("mfa_activate_totp")
TOTP_PERIOD = 30


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and used TOTP codes live in the cache: start and end clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def totp_window():
    """Start just after a TOTP period begins, so a code computed now stays valid."""
    now = timezone.now().timestamp()
    start = (now // TOTP_PERIOD + 1) * TOTP_PERIOD + 0.5
    with time_machine.travel(dt.datetime.fromtimestamp(start, tz=dt.UTC), tick=True):
        yield


def totp_code(secret: str = TOTP_SECRET) -> str:
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def wrong_code(secret: str = TOTP_SECRET) -> str:
    return format_hotp_value((int(totp_code(secret)) + 1) % 1_000_000)


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def reauthenticate(client, password: str = PASSWORD) -> None:
    """allauth asks for the password again before a second factor is added or removed."""
    response = client.post(REAUTHENTICATE, {"password": password})
    assert response.status_code == 302


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def form_errors(response) -> list[str]:
    form = response.context["form"]
    return [message for messages in form.errors.values() for message in messages]


# Staff with TOTP


def test_staff_password_leads_to_the_mfa_stage_not_a_session(hub, client):
    response = sign_in(client, hub.practitioner.email)
    assert response.status_code == 302
    assert response["Location"] == MFA_AUTHENTICATE
    assert signed_in_user_id(client) is None
    page = client.get(MFA_AUTHENTICATE)
    assert page.status_code == 200
    assert "mfa/authenticate.html" in [t.name for t in page.templates]


def test_pages_stay_closed_during_the_mfa_stage(hub, client):
    sign_in(client, hub.practitioner.email)
    response = client.get("/students/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_correct_totp_code_completes_staff_sign_in(hub, client, totp_window):
    sign_in(client, hub.practitioner.email)
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code()})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(hub.practitioner.pk)
    caseload = client.get("/students/")
    assert caseload.status_code == 200
    assert hub.student.display_name in caseload.text


def test_wrong_totp_code_is_refused_with_a_message(hub, client, totp_window):
    sign_in(client, hub.practitioner.email)
    response = client.post(MFA_AUTHENTICATE, {"code": wrong_code()})
    assert response.status_code == 200
    assert form_errors(response) == ["Incorrect code."]
    assert "Incorrect code." in response.text
    assert signed_in_user_id(client) is None
    assert client.get("/students/")["Location"].startswith(LOGIN)


def test_missing_totp_code_is_refused_with_a_message(hub, client):
    sign_in(client, hub.practitioner.email)
    response = client.post(MFA_AUTHENTICATE, {"code": ""})
    assert response.status_code == 200
    assert form_errors(response) == ["This field is required."]
    assert signed_in_user_id(client) is None


def test_code_for_another_secret_is_refused(hub, client, totp_window):
    sign_in(client, hub.practitioner.email)
    other_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(other_secret)})
    assert form_errors(response) == ["Incorrect code."]
    assert signed_in_user_id(client) is None


def test_a_totp_code_works_only_once(hub, client, totp_window):
    code = totp_code()
    sign_in(client, hub.practitioner.email)
    assert client.post(MFA_AUTHENTICATE, {"code": code}).status_code == 302
    client.logout()
    sign_in(client, hub.practitioner.email)
    response = client.post(MFA_AUTHENTICATE, {"code": code})
    assert form_errors(response) == ["Incorrect code."]
    assert signed_in_user_id(client) is None


def test_correct_code_after_a_wrong_one_completes_sign_in(hub, client, totp_window):
    sign_in(client, hub.practitioner.email)
    client.post(MFA_AUTHENTICATE, {"code": wrong_code()})
    response = client.post(MFA_AUTHENTICATE, {"code": totp_code()})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(hub.practitioner.pk)


def test_wrong_password_never_reaches_the_mfa_stage(hub, client):
    response = sign_in(client, hub.practitioner.email, "not the password")
    assert response.status_code == 200
    assert form_errors(response) == [
        "The email address and/or password you specified are not correct."
    ]
    assert client.get(MFA_AUTHENTICATE).status_code == 302
    assert signed_in_user_id(client) is None


# Staff without TOTP


@pytest.fixture
def unenrolled(hub) -> User:
    return make_staff("una@nb.ac.uk", Role.PRACTITIONER, hub.university, service=hub.wellbeing,
                      totp=False)  # fmt: skip


def test_staff_without_totp_signs_in_with_password_alone_then_must_enrol(hub, client, unenrolled):
    response = sign_in(client, unenrolled.email)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(unenrolled.pk)
    landing = client.get(response["Location"])
    assert landing.status_code == 302
    assert landing["Location"] == ACTIVATE_TOTP
    reauthenticate(client)
    activate = client.get(ACTIVATE_TOTP)
    assert activate.status_code == 200
    assert "mfa/totp/activate_form.html" in [t.name for t in activate.templates]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/students/",
        "/students/{student}/",
        "/students/{student}/consents/new/",
        "/break-glass/",
        "/me/",
        "/me/trusted-contact/",
        "/admin/",
        "/no-such-page/",
    ],
)
def test_staff_without_totp_is_sent_to_enrol_from_every_page(hub, client, unenrolled, path):
    client.force_login(unenrolled)
    response = client.get(path.format(student=hub.student.uuid))
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP


def test_staff_without_totp_sees_no_student_data(hub, client, unenrolled):
    client.force_login(unenrolled)
    before = AuditEvent.objects.count()
    for path in ("/students/", f"/students/{hub.student.uuid}/", "/students/?q=Alex"):
        response = client.get(path, follow=True)
        assert response.redirect_chain[0] == (ACTIVATE_TOTP, 302)
        assert response.request["PATH_INFO"].startswith("/accounts/")
        assert response.status_code == 200
        assert hub.student.legal_family_name not in response.text
        assert hub.student.student_number not in response.text
    client.post(f"/students/{hub.student.uuid}/consents/new/", {})
    assert AuditEvent.objects.count() == before


def test_staff_without_totp_may_still_use_account_pages(hub, client, unenrolled):
    client.force_login(unenrolled)
    activate = client.get(ACTIVATE_TOTP, follow=True)
    assert activate.status_code == 200
    assert activate.request["PATH_INFO"] == REAUTHENTICATE
    assert client.get("/accounts/password/change/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert signed_in_user_id(client) is None


def test_staff_reach_pages_once_they_activate_totp(hub, client, unenrolled, totp_window):
    sign_in(client, unenrolled.email)
    reauthenticate(client)
    client.get(ACTIVATE_TOTP)
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(ACTIVATE_TOTP, {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=unenrolled, type="totp").exists()
    assert client.get("/students/").status_code == 200


def test_staff_who_remove_totp_must_enrol_again(hub, client, totp_window):
    sign_in(client, hub.practitioner.email)
    client.post(MFA_AUTHENTICATE, {"code": totp_code()})
    assert client.get("/students/").status_code == 200
    reauthenticate(client)
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=hub.practitioner, type="totp").exists()
    response = client.get("/students/")
    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_TOTP


# Students


def test_student_signs_in_with_password_alone(hub, client):
    response = sign_in(client, hub.student_user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(hub.student_user.pk)
    response = client.get("/", follow=True)
    assert response.redirect_chain == [(reverse("portal:home"), 302)]
    assert response.status_code == 200


def test_student_session_keeps_the_normal_age(hub, client):
    client.force_login(hub.student_user)
    assert client.get("/me/").status_code == 200
    assert client.session.get_expiry_age() != settings.STAFF_IDLE_TIMEOUT
    later = timezone.now() + dt.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        assert client.get("/me/").status_code == 200


# Rate limits


def test_failed_sign_ins_are_rate_limited_after_five(hub, client):
    for _ in range(5):
        response = sign_in(client, hub.practitioner.email, "not the password")
        assert form_errors(response) == [
            "The email address and/or password you specified are not correct."
        ]
    response = sign_in(client, hub.practitioner.email, "not the password")
    assert response.status_code == 200
    assert form_errors(response) == ["Too many failed login attempts. Try again later."]
    assert "Too many failed login attempts" in response.text


def test_rate_limit_holds_even_for_the_right_password(hub, client):
    for _ in range(5):
        sign_in(client, hub.student_user.email, "not the password")
    response = sign_in(client, hub.student_user.email)
    assert form_errors(response) == ["Too many failed login attempts. Try again later."]
    assert signed_in_user_id(client) is None


def test_rate_limit_lifts_after_five_minutes(hub, client):
    for _ in range(6):
        sign_in(client, hub.student_user.email, "not the password")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=False):
        response = sign_in(client, hub.student_user.email)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(hub.student_user.pk)


# Password reset


def test_password_reset_sends_an_email_with_a_working_link(hub, client):
    response = client.post("/accounts/password/reset/", {"email": hub.practitioner.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [hub.practitioner.email]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)
    assert link is not None

    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new_password = "a brand new passphrase 7"
    done = client.post(
        form_page.redirect_chain[-1][0], {"password1": new_password, "password2": new_password}
    )
    assert done.status_code == 302
    hub.practitioner.refresh_from_db()
    assert hub.practitioner.check_password(new_password)
    # The new password still leads to the second factor, not straight in.
    client.logout()
    assert sign_in(client, hub.practitioner.email, new_password)["Location"] == MFA_AUTHENTICATE


# Idle timeout


def test_staff_session_age_is_the_idle_timeout(hub, client):
    client.force_login(hub.practitioner)
    assert client.get("/students/").status_code == 200
    assert client.session.get_expiry_age() == settings.STAFF_IDLE_TIMEOUT


def test_idle_staff_session_expires(hub, client):
    client.force_login(hub.practitioner)
    assert client.get("/students/").status_code == 200
    later = timezone.now() + dt.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT + 1)
    with time_machine.travel(later, tick=False):
        response = client.get("/students/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/students/"


def test_active_staff_session_is_extended_by_each_request(hub, client):
    client.force_login(hub.practitioner)
    assert client.get("/students/").status_code == 200
    step = dt.timedelta(seconds=settings.STAFF_IDLE_TIMEOUT - 60)
    now = timezone.now()
    for hop in (1, 2, 3):
        with time_machine.travel(now + hop * step, tick=False):
            assert client.get("/students/").status_code == 200


# Sign-up


def test_sign_up_is_closed(db, client):
    response = client.get("/accounts/signup/")
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    password = "xyzzy plugh 42 twisty"
    response = client.post(
        "/accounts/signup/",
        {"email": "newcomer@example.com", "password1": password, "password2": password},
    )
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert signed_in_user_id(client) is None


def test_a_staff_session_is_written_at_most_once_a_minute(hub, client):
    from django.contrib.sessions.models import Session

    client.force_login(hub.practitioner)
    now = timezone.now()

    def expiry_after(seconds: int):
        with time_machine.travel(now + dt.timedelta(seconds=seconds), tick=False):
            assert client.get("/students/").status_code == 200
        return Session.objects.get(session_key=client.session.session_key).expire_date

    first = expiry_after(0)
    assert expiry_after(59) == first
    assert expiry_after(60) == first + dt.timedelta(seconds=60)


# How passwords are stored


def test_a_password_is_stored_under_argon2id_and_an_older_pbkdf2_one_moves_at_sign_in(
    hub, client, settings
):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # the tests' own is quicker
    hub.practitioner.set_password(PASSWORD)
    assert hub.practitioner.password.startswith("argon2$argon2id$")
    older = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=hub.practitioner.pk).update(password=older)
    assert sign_in(client, hub.practitioner.email)["Location"] == MFA_AUTHENTICATE
    assert User.objects.get(pk=hub.practitioner.pk).password.startswith("argon2$argon2id$")
