"""API fixtures: OAuth 2.0 clients acting for one service, and how to call the API."""

import datetime as dt
import json
import secrets

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from joinedup.fhir.services import create_client
from joinedup.people.models import Role


def make_client(service, *, role=Role.PRACTITIONER, name=None) -> Application:
    """A client application for `service`: its system user has that one membership."""
    application, _secret = create_client(
        service=service,
        name=name or f"{service.name} system",
        scopes=["api.read", "api.write"],
        role=role,
    )
    return application


def make_token(application, scope="api.read api.write", *, seconds=3600) -> str:
    token = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        application=application,
        token=token,
        scope=scope,
        expires=timezone.now() + dt.timedelta(seconds=seconds),
    )
    return token


class Api:
    """Calls the API as one caller: with a bearer token, or as the signed-in client."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _headers(self):
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path, **params):
        return self.client.get(f"/api{path}", params, headers=self._headers())

    def post(self, path, body=None):
        return self.client.post(
            f"/api{path}",
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(),
        )


@pytest.fixture
def wellbeing_api(hub, client) -> Api:
    """A client of Wellbeing, which has the hub student in its care."""
    return Api(client, make_token(make_client(hub.wellbeing)))


@pytest.fixture
def outsider_api(hub, client) -> Api:
    """A client of Southgate Wellbeing: no care of the hub student, no consent."""
    return Api(client, make_token(make_client(hub.other_wellbeing)))


def staff_api(client, user) -> Api:
    client.force_login(user)
    return Api(client)


@pytest.fixture
def reports_alias(db):
    """Reports read through the `reports` alias; in tests it mirrors default, and here it
    shares default's connection, so it sees this test's data."""
    from django.db import connections

    original = connections["reports"]
    connections["reports"] = connections["default"]
    yield
    connections["reports"] = original
