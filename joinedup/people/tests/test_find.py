"""Finding a student: by name in any order, student or NHS number, or date of birth, among
the students the access policy lets the user read; identifiers only where the user reads
them; each student shown audited; a constant number of queries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_student
from joinedup.audit.models import AuditEvent
from joinedup.consent.services import open_care_relationship, release_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.people.merging import merge_students
from joinedup.people.models import Student

FIND = reverse("people:student-find")
BORN = dt.date(2004, 3, 14)


@pytest.fixture
def jo(hub) -> Student:
    """Joanna (Jo) Morgan, in Wellbeing's care, in History."""
    student = make_student(
        hub.university, "NB4000123", legal_given_name="Joanna", legal_family_name="Morgan",
        preferred_name="Jo", date_of_birth=BORN, nhs_number="9434765919",
        department=hub.history,
    )  # fmt: skip
    open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
    return student


@pytest.fixture
def stranger(hub) -> Student:
    """Another Joanna Morgan, born the same day, in no one's care here."""
    return make_student(
        hub.university, "NB4000456", legal_given_name="Joanna", legal_family_name="Morgan",
        preferred_name="", date_of_birth=BORN, nhs_number="4857773120",
    )  # fmt: skip


def found(client, query) -> list[str]:
    response = client.get(FIND, {"q": query})
    assert response.status_code == 200
    page = response.context["page"]
    return [s.student_number for s in page] if page is not None else []


@pytest.mark.parametrize(
    "query",
    [
        "Morgan Jo", "jo morgan", "Joanna Morgan", "MORGAN", "Jo", "joanna",
        "NB4000123", "nb4000", "4000123", "9434765919", "943 476 5919", "5919",
        "14/03/2004", "2004-03-14", "14 March 2004", "14-03-2004", "jo morgan 14/03/2004",
    ],
)  # fmt: skip
def test_a_practitioner_finds_a_student_in_their_care_every_way(hub, client, jo, stranger, query):
    client.force_login(hub.practitioner)
    assert found(client, query) == ["NB4000123"]


def test_words_of_a_name_match_the_start_of_any_part_of_it(hub, client):
    student = make_student(hub.university, "NB4000777", legal_given_name="Mary-Jo",
                           legal_family_name="Lloyd Morgan", preferred_name="")  # fmt: skip
    open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
    client.force_login(hub.practitioner)
    assert found(client, "jo morgan") == ["NB4000777"]
    assert found(client, "organ") == []  # not the middle of a word


def test_a_student_no_one_in_the_service_may_read_is_never_found(hub, client, jo, stranger):
    client.force_login(hub.outsider)
    for query in ("Morgan", "NB4000123", "9434765919", "14/03/2004"):
        assert found(client, query) == []
    missing = client.get(FIND, {"q": "Vandersnoot"}).content.decode()
    ours = client.get(FIND, {"q": "Joanna"}).content.decode()

    def said(html, query):
        return re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf token>", html).replace(query, "<q>")

    assert said(ours, "Joanna") == said(missing, "Vandersnoot")


def test_academic_staff_find_their_departments_students_by_name_and_number_only(hub, client, jo):
    client.force_login(hub.academic)
    assert found(client, "Jo Morgan") == ["NB4000123"]
    assert found(client, "NB4000123") == ["NB4000123"]
    assert found(client, "14/03/2004") == []  # a date of birth they may not read
    assert found(client, "9434765919") == []  # an NHS number they may not read
    html = client.get(FIND, {"q": "Morgan"}).content.decode()
    assert "not shown to you" in html
    assert "14 Mar 2004" not in html


def test_a_service_that_no_longer_cares_finds_by_name_but_not_by_identifiers(hub, client, jo):
    release_care_relationship(student=jo, service=hub.wellbeing, reason="episode",
                              because="episode_ended")  # fmt: skip
    open_care_relationship(student=jo, service=hub.wellbeing, reason="referral")
    release_care_relationship(student=jo, service=hub.wellbeing, reason="referral",
                              because="declined")  # fmt: skip
    client.force_login(hub.practitioner)
    assert found(client, "Morgan") == ["NB4000123"]
    assert found(client, "14/03/2004") == []


def test_consent_lets_a_partner_service_find_a_student(hub, client, jo):
    client.force_login(hub.crisis_practitioner)
    assert found(client, "14/03/2004") == []
    give_consent(hub, "identity", hub.crisis, student=jo)
    assert found(client, "14/03/2004") == ["NB4000123"]
    assert "14 Mar 2004" in client.get(FIND, {"q": "Morgan"}).content.decode()


def test_each_student_shown_is_audited(hub, client, jo):
    client.force_login(hub.practitioner)
    client.get(FIND, {"q": "Morgan"})
    entry = AuditEvent.objects.get(action="people.student.found")
    assert (entry.student_id, entry.basis, entry.allowed) == (jo.pk, "relationship", True)
    assert "Morgan" not in entry.reason  # what was typed is not kept in the log


def test_fewer_than_four_digits_say_why_beside_the_field(hub, client, jo):
    client.force_login(hub.practitioner)
    response = client.get(FIND, {"q": "123"})
    html = response.content.decode()
    assert 'id="id_q_error"' in html
    assert "at least 4 digits" in html
    assert 'value="123"' in html
    assert not AuditEvent.objects.filter(action="people.student.found").exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [("31/02/2004", "That is not a real date."), ("14/03/04", "Type the year of birth in full")],
)
def test_a_date_that_cannot_be_says_why(hub, client, query, message):
    client.force_login(hub.practitioner)
    assert message in client.get(FIND, {"q": query}).content.decode()


def test_nothing_found_says_so_plainly_and_suggests_what_to_try(hub, client, jo):
    client.force_login(hub.practitioner)
    html = client.get(FIND, {"q": "Zebedee"}).content.decode()
    assert "No student you may see matches “Zebedee”." in html
    assert "the date of birth, like 14/03/2004" in html
    assert reverse("people:student-register") in html


def test_a_merged_record_is_never_found(hub, client, jo, stranger):
    stranger.nhs_number = ""
    stranger.save()
    open_care_relationship(student=stranger, service=hub.wellbeing, reason="episode")
    merge_students(actor=hub.org_admin, kept=jo, merged=stranger)
    client.force_login(hub.practitioner)
    assert found(client, "Morgan") == ["NB4000123"]
    assert found(client, "NB4000456") == []


def test_finding_takes_the_same_number_of_queries_for_one_student_or_many(hub, client, jo):
    client.force_login(hub.practitioner)
    client.get(FIND, {"q": "Morgan"})  # the session and caches warm up

    def queries(query) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(FIND, {"q": query}).status_code == 200
        return len(captured)

    one = queries("Morgan")
    for n in range(20):
        student = make_student(hub.university, f"NB50{n:05d}", legal_family_name="Morgan")
        open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
    assert queries("Morgan") == one


def test_the_caseload_search_box_finds_the_same_ways(hub, client, jo):
    client.force_login(hub.practitioner)
    for query in ("morgan jo", "14 March 2004", "4765"):
        response = client.get(reverse("record:caseload"), {"q": query})
        assert [s.student_number for s in response.context["page"]] == ["NB4000123"], query


@pytest.mark.parametrize("who", ["practitioner", "academic", "service_manager", "org_admin"])
def test_every_member_of_staff_may_search(hub, client, who):
    client.force_login(getattr(hub, who))
    assert client.get(FIND).status_code == 200


def test_students_do_not_search_for_other_students(hub, client):
    client.force_login(hub.student_user)
    assert client.get(FIND, {"q": "Alex"}).status_code == 403
