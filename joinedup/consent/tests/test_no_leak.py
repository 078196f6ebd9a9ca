"""No page that takes a student's id tells a refused user whether that student exists.

Every URL pattern of the project with a `student_uuid` is found by walking the resolver, so
a new page is covered the day it is added.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from joinedup.audit.models import AuditEvent
from joinedup.consent.policy import decide, decide_many, get_student_for_user
from joinedup.consent.rules import CATEGORIES


def _student_patterns(resolver=None, namespace=""):
    """(view name, route) of every pattern, at any depth, whose route takes `student_uuid`."""
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += [
                (name, str(pattern.pattern) + route)
                for name, route in _student_patterns(pattern, inner)
            ]
        elif isinstance(pattern, URLPattern) and "student_uuid" in pattern.pattern.converters:
            found.append((f"{namespace}{pattern.name}", str(pattern.pattern)))
    return found


STUDENT_PAGES = _student_patterns()
PAGE_IDS = [name for name, _route in STUDENT_PAGES]
# The pages that show nothing but who the student is: an academic may open them for a student
# in their department; every other page is closed to academics.
IDENTITY_PAGES = {"record:student-detail", "api:read_student"}
# The JSON API answers for itself: a method the route lacks is 405 and a body of the wrong
# shape 400 or 422, before any student is looked for, so the same for every id; a caller
# who is not signed in gets 401, not a sign-in page.
API_REFUSALS = (400, 404, 405, 422)


def _is_api(name: str) -> bool:
    return name.startswith("api:")


def test_the_walk_finds_the_student_pages():
    assert {"record:student-detail", "consent:grant-create"} <= set(PAGE_IDS)


def _sender(client, method, name):
    """GET, or POST as each route expects its body: JSON to the API, a form to pages."""
    if method == "post" and _is_api(name):
        return lambda url: client.post(url, {}, content_type="application/json")
    return getattr(client, method)


def _refused_pages(role):
    if role == "academic":
        return [name for name in PAGE_IDS if name not in IDENTITY_PAGES]
    return PAGE_IDS


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    ("role", "name"),
    [
        (role, name)
        for role in ("outsider", "researcher", "org_admin", "academic")
        for name in _refused_pages(role)
    ],
)
def test_refused_user_cannot_tell_a_real_student_from_a_missing_one(
    hub, client, role, name, method
):
    client.force_login(getattr(hub, role))
    send = _sender(client, method, name)

    real = send(reverse(name, kwargs={"student_uuid": hub.student.uuid}))
    missing = send(reverse(name, kwargs={"student_uuid": uuid.uuid4()}))

    assert real.status_code == missing.status_code
    # A view behind a capability check refuses with 403 before it looks for the student, the
    # same for every id; every other refusal is a 404.
    assert real.status_code in ((403, *API_REFUSALS) if _is_api(name) else (403, 404))
    assert hub.student.legal_family_name not in real.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", PAGE_IDS)
def test_outsider_gets_404_on_every_student_page(hub, client, name, method):
    client.force_login(hub.outsider)
    send = _sender(client, method, name)

    real = send(reverse(name, kwargs={"student_uuid": hub.student.uuid}))
    missing = send(reverse(name, kwargs={"student_uuid": uuid.uuid4()}))

    if _is_api(name):
        assert real.status_code == missing.status_code
        assert real.status_code in API_REFUSALS
        assert hub.student.legal_family_name not in real.content.decode()
    else:
        assert (real.status_code, missing.status_code) == (404, 404)


@pytest.mark.parametrize("name", PAGE_IDS)
def test_signed_out_visitor_is_sent_to_sign_in(hub, client, name):
    response = client.get(reverse(name, kwargs={"student_uuid": hub.student.uuid}))

    if _is_api(name):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_academic_opens_the_record_of_a_student_in_their_department(hub, client):
    client.force_login(hub.academic)

    response = client.get(reverse("record:student-detail", args=[hub.student.uuid]))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "role", ["outsider", "researcher", "org_admin", "service_manager", "crisis_practitioner"]
)
def test_refused_page_is_written_to_the_audit_log(hub, client, role):
    user = getattr(hub, role)
    client.force_login(user)

    client.get(reverse("record:student-detail", args=[hub.student.uuid]))

    event = AuditEvent.objects.filter(actor=user, student=hub.student).get()
    assert (event.allowed, event.category, event.basis) == (False, "identity", "none")
    assert event.reason
    assert event.request_id


@pytest.mark.parametrize(
    ("role", "category"),
    [
        ("crisis_practitioner", "risk"),
        ("counsellor", "notes"),
        ("academic", "outcomes"),
        ("triage", "identity"),
        ("liaison", "adjustments"),
        ("researcher", "engagement"),
        ("org_admin", "registration"),
        ("service_manager", "discharge"),
        ("outsider", "assessment"),
    ],
)
def test_every_refusal_is_written_to_the_audit_log(hub, role, category):
    user = getattr(hub, role)

    decision = decide(user, hub.student, category)

    event = AuditEvent.objects.get(actor=user, student=hub.student, category=category)
    assert not decision.allowed
    assert (event.allowed, event.basis, event.reason) == (False, "none", decision.reason)
    assert event.actor_role == user.memberships.get().role


def test_each_refused_section_of_a_record_is_audited_with_its_reason(hub):
    decisions = decide_many(hub.academic, hub.student, CATEGORIES)

    events = AuditEvent.objects.filter(actor=hub.academic, student=hub.student)
    assert {e.category: (e.allowed, e.reason) for e in events} == {
        c: (d.allowed, d.reason) for c, d in decisions.items()
    }
    assert {e.category for e in events if e.allowed is False} == set(CATEGORIES) - {"identity"}


def test_a_missing_student_raises_404_and_logs_nothing(hub):
    from django.http import Http404

    with pytest.raises(Http404):
        get_student_for_user(hub.practitioner, uuid.uuid4())

    assert not AuditEvent.objects.filter(actor=hub.practitioner).exists()
