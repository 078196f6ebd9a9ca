"""Every URL of the project, asked by a member of staff who has given only their password, finds
nothing but the way to the second factor (a sign-in page) or a 401. Generated from the URL
resolver, so a new route is covered without anyone remembering."""

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import PASSWORD
from joinedup.record.tests.factories import write_entry

# The sign-in flow itself, and files that hold nothing personal.
OPEN_PREFIXES = ("/accounts/", "/static/")
SIGN_IN_PAGES = ("/accounts/login/", "/accounts/2fa/authenticate/")

_VALUES = {"uuid": None, "int": "1", "slug": "x", "str": "x", "path": "x"}


def _paths(patterns=None, prefix="/"):
    """One concrete path per URL pattern, each converter filled with a plausible value."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _paths(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = str(pattern.pattern)
            if route.startswith("^"):  # regex routes (Django admin internals): take them bare
                route = route.strip("^$").replace("\\", "")
                if "(" in route:
                    continue
            for name, converter in pattern.pattern.converters.items():
                kind = type(converter).__name__.removesuffix("Converter").lower()
                value = _VALUES.get(kind) or str(uuid.uuid4())
                route = route.replace(f"<{kind}:{name}>", value).replace(f"<{name}>", value)
            yield prefix + route


PATHS = sorted(p for p in set(_paths()) if "(?" not in p)


def _is_way_to_second_factor(response) -> bool:
    if response.status_code == 401:
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(SIGN_IN_PAGES)


@pytest.fixture
def secret(hub):
    return write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner, body="SECRET risk")


def test_the_walk_covers_the_project(hub):
    assert len(PATHS) > 100
    assert "/admin/" in PATHS
    assert any(p.startswith("/api/") for p in PATHS)
    assert any(p.startswith("/fhir/") for p in PATHS)


def test_a_session_without_the_second_factor_reaches_nothing(hub, secret):
    """A session that passed the password only (as Django admin's own form gave one)."""
    for path in PATHS:
        if path.startswith(OPEN_PREFIXES):
            continue
        client = Client()
        Client.force_login(client, hub.practitioner)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert _is_way_to_second_factor(response), (method, path, response.status_code)
            Client.force_login(client, hub.practitioner)


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def test_a_password_at_the_sign_in_form_alone_opens_no_page(hub, secret):
    """Between the password and the code, every page answers as to someone signed out."""
    client = Client()
    response = client.post("/accounts/login/", {"login": hub.practitioner.email,
                                                "password": PASSWORD})  # fmt: skip
    assert response["Location"] == "/accounts/2fa/authenticate/"
    for path in PATHS:
        if path.startswith(OPEN_PREFIXES):
            continue
        response = client.get(path)
        assert "_auth_user_id" not in client.session, path
        assert b"SECRET" not in response.content, path
        assert hub.student.student_number.encode() not in response.content, path
        if response.status_code == 200:
            # Public pages only (the directory, FHIR metadata, the API's schema).
            # The same page, but for its form's own CSRF token (the language choice).
            assert without_csrf(response.content) == without_csrf(
                Client().get(path).content
            ) or path.startswith(("/api/", "/fhir/")), path
        else:
            assert response.status_code in (302, 401, 403, 404, 405), (path, response.status_code)
