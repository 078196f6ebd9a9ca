"""A student with something of every kind, and system clients for the hub's services."""

import base64
import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from oauth2_provider.models import AccessToken

from joinedup.consent.services import record_consent
from joinedup.fhir.services import create_client
from joinedup.measures.services import record_administration
from joinedup.people.models import Organisation
from joinedup.referrals.services import create_referral, open_episode

PHQ9_ITEM9 = [2, 1, 1, 1, 2, 1, 1, 1, 1]  # total 11, moderate, item 9 raises a flag
GAD7 = [1, 1, 2, 0, 1, 1, 0]  # total 6, mild
ALL_READ = "system/*.read"
ALL_WRITE = "system/QuestionnaireResponse.write system/ServiceRequest.write system/Bundle.write"


@dataclass
class Record:
    student: object
    episode: object
    phq9: object
    gad7: object
    referral: object
    flag: object
    consent: object


@pytest.fixture
def record(hub) -> Record:
    """Everything about `hub.student`, written by the wellbeing service through services."""
    gp = Organisation.objects.create(name="Northbridge Surgery", kind="gp_practice",
                                     ods_code="B82001")  # fmt: skip
    student = hub.student
    student.nhs_number = "9434765919"
    student.gp_practice = gp
    student.term_postcode = "NB1 2AB"
    student.email = "alex@student.nb.ac.uk"
    student.save()
    episode = open_episode(actor=hub.practitioner, student=student, service=hub.wellbeing,
                           started_at=timezone.now() - dt.timedelta(days=14))  # fmt: skip
    phq9 = record_administration(
        actor=hub.practitioner, student=student, service=hub.wellbeing, code="PHQ-9",
        answers=PHQ9_ITEM9, method="in_session", episode=episode, session_number=1,
        completed_at=timezone.now() - dt.timedelta(days=7),
    )  # fmt: skip
    gad7 = record_administration(
        actor=hub.practitioner, student=student, service=hub.wellbeing, code="GAD-7",
        answers=GAD7, method="in_session", episode=episode, session_number=1,
    )  # fmt: skip
    referral = create_referral(
        actor=hub.practitioner, student=student, to_service=hub.talking, source="service",
        reason="Low mood for three months; would like talking therapy.",
        from_service=hub.wellbeing,
    )  # fmt: skip
    consent = record_consent(
        actor=hub.student_user, student=student, category="engagement", purpose="direct_care",
        how_given="portal", recipient_service=hub.crisis,
    )  # fmt: skip
    return Record(student, episode, phq9, gad7, referral, phq9.risk_flags.get(), consent)


def token_for(service, scopes: str = ALL_READ, name: str = "Partner system") -> str:
    application, _secret = create_client(service=service, name=name, scopes=scopes.split())
    token = AccessToken.objects.create(
        application=application,
        token=f"token-{application.client_id}",
        scope=scopes,
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return token.token


def fhir_client(service, scopes: str = ALL_READ) -> HttpClient:
    """A test client sending a bearer token of a client registered for `service`."""
    return HttpClient(
        headers={"Authorization": f"Bearer {token_for(service, scopes)}"},
        enforce_csrf_checks=True,
    )


def client_user(service):
    from joinedup.people.models import User

    return User.objects.filter(
        memberships__service=service, email__endswith="@clients.joinedup.invalid"
    ).latest("pk")


def secret_asker(service, scopes: list[str], name: str = "Partner system"):
    """A client registered for `scopes` with a secret, as a function asking the token
    endpoint for a scope string, or for none (HTTP Basic)."""
    application, secret = create_client(service=service, name=name, scopes=scopes)
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()

    def ask(scope: str | None):
        asked = {"grant_type": "client_credentials"} | ({} if scope is None else {"scope": scope})
        return HttpClient().post("/o/token/", asked, headers={"Authorization": f"Basic {basic}"})

    return ask
