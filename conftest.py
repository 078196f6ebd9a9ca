"""The fixed cast every test can use: one hub, one member of staff per role, an outsider."""

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.utils import translation

from joinedup.consent.models import DataSharingAgreement
from joinedup.consent.services import open_care_relationship
from joinedup.people.models import (
    Department,
    Membership,
    Organisation,
    Role,
    Service,
    Student,
    User,
)

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request in Welsh leaves Welsh active in its thread, as a server does between
    requests; each test starts from the default, English."""
    yield
    translation.deactivate()


PASSWORD = "correct horse battery staple 42"


def pytest_configure(config):
    from django.conf import settings
    from django.core.signals import setting_changed

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run as they are queued. The task modules read TASKS as Django started, so its
    # handler is told of the change.
    settings.TASKS = {"default": {"BACKEND": "joinedup.lib.tasks.ImmediateInDefaultLanguage"}}
    setting_changed.send(sender=type(settings), setting="TASKS", value=settings.TASKS, enter=True)
    # Each test runs in one process, so each xdist worker keeps its cache in memory (the
    # tests that clear it need no database); the shared table has a test of its own.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Look static files up per request, as in development: otherwise WhiteNoise indexes every
    # file of every finder each time a test client starts (about 0.7 s per test).
    settings.WHITENOISE_AUTOREFRESH = True
    # Tests never write audit checkpoints into var/; those that check them use a file of
    # their own. Between transactional tests, Django empties the append-only audit log.
    settings.AUDIT_CHECKPOINT_FILE = ""
    # Documents and letters uploaded by tests are kept in a directory of their own.
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="joinedup-media-")
    from joinedup.audit.tests.tampering import flush_past_triggers

    flush_past_triggers()


def pytest_unconfigure(config):
    from django.conf import settings

    if str(settings.MEDIA_ROOT).startswith(tempfile.gettempdir()):
        shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


class SignedInClient(Client):
    """A test client whose `force_login` is a full sign-in: password and second factor, as
    allauth records them in the session. Tests of the sign-in flow itself post the forms."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        session = self.session
        now = time.time()
        session[AUTHENTICATION_METHODS_SESSION_KEY] = [
            {"method": "password", "at": now, "email": user.email},
            {"method": "mfa", "at": now, "type": "totp"},
        ]
        session["account_authentication_methods_user"] = str(user.pk)
        session.save()


@pytest.fixture
def client() -> SignedInClient:
    return SignedInClient()


@pytest.fixture
def admin_client(admin_user) -> SignedInClient:
    client = SignedInClient()
    client.force_login(admin_user)
    return client


def make_staff(email, role, organisation, *, service=None, department=None, totp=True) -> User:
    user = User.objects.create_user(email, PASSWORD, first_name=email.split("@")[0].title())
    Membership.objects.create(
        user=user, organisation=organisation, service=service, department=department, role=role
    )
    if totp:
        TOTP.activate(user, TOTP_SECRET)
    return user


def make_student(university, number, *, department=None, user=None, **fields) -> Student:
    defaults = {
        "legal_given_name": "Alexandra",
        "legal_family_name": f"Student{number}",
        "preferred_name": "Alex",
        "pronouns": "she/her",
        "date_of_birth": dt.date(2004, 5, 17),
    }
    return Student.objects.create(
        university=university,
        department=department,
        student_number=number,
        user=user,
        **(defaults | fields),
    )


@dataclass
class Hub:
    university: Organisation
    other_university: Organisation
    trust: Organisation
    wellbeing: Service
    counselling: Service
    other_wellbeing: Service
    crisis: Service
    talking: Service
    liaison_service: Service
    history: Department
    practitioner: User
    counsellor: User
    crisis_practitioner: User
    triage: User
    liaison: User
    service_manager: User
    academic: User
    org_admin: User
    researcher: User
    outsider: User
    student_user: User
    student: Student
    agreement: DataSharingAgreement


@pytest.fixture
def hub(db) -> Hub:
    uni = Organisation.objects.create(
        name="University of Northbridge", kind="university", data_protection_email="dpo@nb.ac.uk"
    )
    uni2 = Organisation.objects.create(name="Southgate University", kind="university")
    trust = Organisation.objects.create(
        name="Northbridge NHS Trust", kind="nhs_trust", ods_code="RX4",
        data_protection_email="dpo@nhs.example",
    )  # fmt: skip
    wellbeing = Service.objects.create(organisation=uni, name="Wellbeing", kind="wellbeing")
    counselling = Service.objects.create(organisation=uni, name="Counselling", kind="counselling")
    other_wellbeing = Service.objects.create(
        organisation=uni2, name="Southgate Wellbeing", kind="wellbeing"
    )
    crisis = Service.objects.create(organisation=trust, name="Crisis Team", kind="crisis")
    talking = Service.objects.create(
        organisation=trust, name="Talking Therapies", kind="talking_therapies",
        waiting_standard_days=42,
    )  # fmt: skip
    liaison_service = Service.objects.create(
        organisation=trust, name="Student Liaison", kind="student_liaison"
    )
    history = Department.objects.create(organisation=uni, name="History")
    student_user = User.objects.create_user("alex@student.nb.ac.uk", PASSWORD)
    student = make_student(uni, "NB1000001", department=history, user=student_user)
    agreement = DataSharingAgreement.objects.create(
        title="Northbridge student mental health partnership",
        categories=["identity", "registration", "engagement", "assessment", "risk",
                    "outcomes", "discharge"],
        purposes=["direct_care"],
        starts_on=dt.date(2020, 1, 1),
    )  # fmt: skip
    agreement.organisations.set([uni, trust], through_defaults={"active": True})
    open_care_relationship(student=student, service=wellbeing, reason="episode")
    return Hub(
        university=uni,
        other_university=uni2,
        trust=trust,
        wellbeing=wellbeing,
        counselling=counselling,
        other_wellbeing=other_wellbeing,
        crisis=crisis,
        talking=talking,
        liaison_service=liaison_service,
        history=history,
        practitioner=make_staff("priya@nb.ac.uk", Role.PRACTITIONER, uni, service=wellbeing),
        counsellor=make_staff("colin@nb.ac.uk", Role.PRACTITIONER, uni, service=counselling),
        crisis_practitioner=make_staff(
            "cara@nhs.example", Role.PRACTITIONER, trust, service=crisis
        ),
        triage=make_staff("tom@nhs.example", Role.TRIAGE, trust, service=talking),
        liaison=make_staff("lee@nhs.example", Role.LIAISON, trust, service=liaison_service),
        service_manager=make_staff("sam@nb.ac.uk", Role.SERVICE_MANAGER, uni, service=wellbeing),
        academic=make_staff("anna@nb.ac.uk", Role.ACADEMIC, uni, department=history),
        org_admin=make_staff("oscar@nb.ac.uk", Role.ORG_ADMIN, uni),
        researcher=make_staff("rita@nb.ac.uk", Role.RESEARCHER, uni),
        outsider=make_staff("olga@sg.ac.uk", Role.PRACTITIONER, uni2, service=other_wellbeing),
        student_user=student_user,
        student=student,
        agreement=agreement,
    )


def sign_in_with_second_factor(client, user, password: str = PASSWORD) -> None:
    """Sign `client` in as `user` through allauth's forms, password then TOTP code, so the
    session has passed the second factor exactly as a real one has."""
    import time

    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )
    from django.core.cache import cache

    cache.clear()  # a code is accepted once per user; earlier tests may have used this one
    response = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert response.status_code == 302, response.content
    if (left := 30 - time.time() % 30) < 2:  # the code would expire before it is checked
        time.sleep(left + 0.1)
    counter = next(iter(yield_hotp_counters_from_time()))
    code = format_hotp_value(hotp_value(TOTP_SECRET, counter))
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302, response.content
    assert client.session.get("_auth_user_id") == str(user.pk)
