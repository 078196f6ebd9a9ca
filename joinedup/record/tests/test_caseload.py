"""The caseload: students with an open care relationship to my service, searchable, paged."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import CareRelationship
from joinedup.consent.services import (
    close_care_relationship,
    open_break_glass,
    open_care_relationship,
)
from joinedup.consent.tests.factories import give_consent
from joinedup.record.views import PAGE_SIZE

CASELOAD = reverse("record:caseload")


def listed(response) -> list[str]:
    """Student numbers in the caseload table, in order."""
    return re.findall(
        r'<td class="nhsuk-table__cell">([A-Z]{2}\d+)</td>', response.content.decode()
    )


def add_students(hub, count, service, *, prefix="CL", start=0, **fields):
    students = []
    for n in range(start, start + count):
        student = make_student(hub.university, f"{prefix}{n:05d}", **fields)
        open_care_relationship(student=student, service=service, reason="referral")
        students.append(student)
    return students


def test_caseload_lists_only_students_in_my_services_care(hub, client):
    mine = make_student(hub.university, "CL00001", legal_family_name="Mine")
    open_care_relationship(student=mine, service=hub.wellbeing, reason="referral")
    counselling = make_student(hub.university, "CL00002")
    open_care_relationship(student=counselling, service=hub.counselling, reason="episode")
    closed = make_student(hub.university, "CL00003")
    ended = open_care_relationship(student=closed, service=hub.wellbeing, reason="episode")
    close_care_relationship(relationship=ended, because="episode_ended")
    consented = make_student(hub.university, "CL00004")
    give_consent(hub, "identity", hub.wellbeing, student=consented)
    emergency = make_student(hub.university, "CL00005")
    open_break_glass(
        actor=hub.practitioner, student=emergency, reason="Risk to life: missing since Friday."
    )
    make_student(hub.university, "CL00006", department=hub.history)
    client.force_login(hub.practitioner)

    response = client.get(CASELOAD)

    assert response.status_code == 200
    assert sorted(listed(response)) == ["CL00001", "NB1000001"]


def test_another_services_practitioner_does_not_see_my_caseload(hub, client):
    client.force_login(hub.counsellor)

    response = client.get(CASELOAD)

    assert listed(response) == []
    assert "No students match." in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("Okafor", ["CL00001"], id="family-name"),
        pytest.param("sam", ["CL00002"], id="preferred-name-any-case"),
        pytest.param("cl00003", ["CL00003"], id="student-number-exactly"),
        pytest.param("CL0000", ["CL00001", "CL00002", "CL00003"], id="part-of-a-number"),
        pytest.param("Nobody", [], id="no-match"),
        pytest.param("  ", ["CL00001", "CL00002", "CL00003", "NB1000001"], id="blank"),
    ],
)
def test_search_by_name_or_student_number(hub, client, query, expected):
    for number, family, preferred in (
        ("CL00001", "Okafor", "Jo"),
        ("CL00002", "Nowak", "Sam"),
        ("CL00003", "Smith", "Kit"),
    ):
        student = make_student(
            hub.university, number, legal_family_name=family, preferred_name=preferred
        )
        open_care_relationship(student=student, service=hub.wellbeing, reason="referral")
    # Someone else's student who matches every search stays off my caseload.
    other = make_student(hub.university, "CL09999", legal_family_name="Okafor Nowak Smith")
    open_care_relationship(student=other, service=hub.counselling, reason="referral")
    client.force_login(hub.practitioner)

    response = client.get(CASELOAD, {"q": query})

    assert sorted(listed(response)) == expected


def test_caseload_is_paged(hub, client):
    add_students(hub, PAGE_SIZE + 4, hub.wellbeing)
    client.force_login(hub.practitioner)

    first = client.get(CASELOAD)
    second = client.get(CASELOAD, {"page": 2})
    past_the_end = client.get(CASELOAD, {"page": 99})

    assert len(listed(first)) == PAGE_SIZE
    assert len(listed(second)) == 5
    assert set(listed(first)).isdisjoint(listed(second))
    assert listed(past_the_end) == listed(second)
    assert "Page 1 of 2" in first.content.decode()
    assert f"{PAGE_SIZE + 5} students" in first.content.decode()


def test_search_is_kept_when_paging(hub, client):
    add_students(hub, PAGE_SIZE + 1, hub.wellbeing, legal_family_name="Pagewood")
    client.force_login(hub.practitioner)

    response = client.get(CASELOAD, {"q": "Pagewood"})

    assert "?q=Pagewood&amp;page=2" in response.content.decode()


def test_listing_is_audited_for_each_student_shown(hub, client):
    add_students(hub, 3, hub.wellbeing)
    client.force_login(hub.practitioner)

    client.get(CASELOAD)

    events = AuditEvent.objects.filter(action="record.caseload.listed", actor=hub.practitioner)
    assert events.count() == 4
    assert set(events.values_list("basis", "allowed")) == {("relationship", True)}


def _caseload_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CASELOAD)
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_caseload(hub, client):
    add_students(hub, 4, hub.wellbeing)
    client.force_login(hub.practitioner)
    client.get(CASELOAD)  # warm per-process caches (content types, sites)
    with_five = _caseload_queries(client)

    add_students(hub, 55, hub.wellbeing, start=100)
    with_sixty = _caseload_queries(client)

    assert CareRelationship.objects.filter(service=hub.wellbeing).count() == 60
    assert with_sixty == with_five


def test_caseload_stays_within_a_fixed_number_of_queries(
    hub, client, django_assert_max_num_queries
):
    add_students(hub, 60, hub.wellbeing)
    client.force_login(hub.practitioner)
    client.get(CASELOAD)

    # Two of these find the basis the policy decides for each listed student, for the audit;
    # one finds who holds a risk level that is not shared.
    with django_assert_max_num_queries(26):
        client.get(CASELOAD, {"page": 2})


@pytest.mark.parametrize("role", ["academic", "service_manager", "org_admin", "researcher"])
def test_staff_without_a_clinical_role_have_no_caseload(hub, client, role):
    client.force_login(getattr(hub, role))

    response = client.get(CASELOAD)

    assert response.status_code == 403


def test_student_has_no_caseload(hub, client):
    client.force_login(hub.student_user)

    response = client.get(CASELOAD)

    assert response.status_code == 403
