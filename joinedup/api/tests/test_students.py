"""Students through the API: the same list and the same record sections as the pages."""

from conftest import make_student
from joinedup.api.tests.conftest import Api, make_client, make_token, staff_api
from joinedup.audit.models import AuditEvent
from joinedup.consent.tests.factories import give_consent
from joinedup.record.tests.factories import write_entry


def sections(body) -> dict:
    return {s["category"]: s for s in body["sections"]}


def test_a_service_lists_the_students_in_its_care_and_each_is_audited(hub, wellbeing_api):
    make_student(hub.university, "NB1000002", legal_family_name="Elsewhere")
    body = wellbeing_api.get("/students").json()
    assert body["count"] == 1
    assert body["items"] == [
        {
            "uuid": str(hub.student.uuid),
            "display_name": hub.student.display_name,
            "student_number": "NB1000001",
            "university": "University of Northbridge",
        }
    ]
    event = AuditEvent.objects.get(action="api.students.listed")
    assert (event.student, event.category, event.allowed) == (hub.student, "identity", True)


def test_the_list_searches_and_pages(hub, wellbeing_api):
    assert wellbeing_api.get("/students", q="NB1000001").json()["count"] == 1
    assert wellbeing_api.get("/students", q="nobody").json()["count"] == 0
    body = wellbeing_api.get("/students", page=2).json()
    assert (body["count"], body["items"]) == (1, [])


def test_a_student_listed_by_consent_is_audited_with_consent_as_the_basis(hub, client):
    counselling = Api(client, make_token(make_client(hub.counselling)))
    assert counselling.get("/students").json()["count"] == 0
    give_consent(hub, "identity", hub.counselling)
    body = counselling.get("/students").json()
    assert [s["uuid"] for s in body["items"]] == [str(hub.student.uuid)]
    event = AuditEvent.objects.filter(action="api.students.listed").get()
    assert (event.basis, event.allowed) == ("consent", True)


def test_the_record_shows_what_the_page_shows_and_refuses_the_rest(hub, wellbeing_api):
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, title="Our story")
    write_entry(hub.student, "assessment", hub.counselling, hub.counsellor, title="Theirs")
    write_entry(hub.student, "notes", hub.counselling, hub.counsellor, title="Their notes")
    response = wellbeing_api.get(f"/students/{hub.student.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert body["identity"]["legal_family_name"] == "StudentNB1000001"
    assert body["registration"]["department"] == "History"
    assert [s["service"] for s in body["engagement"]["services"]] == ["Wellbeing"]
    by_category = sections(body)
    assessment = by_category["assessment"]
    assert [e["title"] for e in assessment["entries"]] == ["Our story"]
    assert "no consent" in assessment["limit"]
    assert by_category["notes"]["entries"] == []
    assert "Their notes" not in response.content.decode()
    assert body["risk_level"] == "Not assessed"
    read = AuditEvent.objects.filter(action="record.read", student=hub.student)
    assert read.count() == len(body["sections"])


def test_a_section_says_who_holds_what_it_does_not_show(hub, wellbeing_api):
    write_entry(hub.student, "risk", hub.counselling, hub.counsellor, title="Theirs")

    risk = sections(wellbeing_api.get(f"/students/{hub.student.uuid}").json())["risk"]

    assert (risk["allowed"], risk["entries"], risk["held_by"]) == (True, [], ["Counselling"])
    give_consent(hub, "risk", hub.wellbeing)
    risk = sections(wellbeing_api.get(f"/students/{hub.student.uuid}").json())["risk"]
    assert ([e["title"] for e in risk["entries"]], risk["held_by"]) == (["Theirs"], [])


def test_consent_lets_another_services_entries_through(hub, wellbeing_api):
    write_entry(hub.student, "assessment", hub.counselling, hub.counsellor, title="Theirs")
    give_consent(hub, "assessment", hub.wellbeing)
    body = wellbeing_api.get(f"/students/{hub.student.uuid}").json()
    assessment = sections(body)["assessment"]
    assert (assessment["basis"], assessment["limit"]) == ("consent", "")
    assert [e["title"] for e in assessment["entries"]] == ["Theirs"]


def test_a_service_without_care_or_consent_gets_404_and_nothing(hub, outsider_api):
    write_entry(hub.student, "risk", hub.wellbeing, hub.practitioner, title="Risk summary")
    assert outsider_api.get("/students").json()["count"] == 0
    response = outsider_api.get(f"/students/{hub.student.uuid}")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such student."
    assert "Risk summary" not in response.content.decode()
    refusal = AuditEvent.objects.get(student=hub.student, action="record.read")
    assert (refusal.category, refusal.allowed) == ("identity", False)


def test_missing_and_forbidden_students_look_the_same(hub, outsider_api):
    import uuid

    missing = outsider_api.get(f"/students/{uuid.uuid4()}")
    forbidden = outsider_api.get(f"/students/{hub.student.uuid}")
    assert (missing.status_code, missing.json()) == (forbidden.status_code, forbidden.json())


def test_an_academic_session_gets_no_clinical_detail(hub, client):
    for category in ("assessment", "outcomes", "risk", "discharge"):
        write_entry(hub.student, category, hub.wellbeing, hub.practitioner, title=f"{category}!")
    for category in ("assessment", "risk", "engagement"):
        give_consent(hub, category, hub.history, purpose="academic_support")
    api = staff_api(client, hub.academic)
    assert api.get("/students").json()["count"] == 1  # the department's own student
    response = api.get(f"/students/{hub.student.uuid}")
    body = response.json()
    by_category = sections(body)
    for category in ("assessment", "outcomes", "risk", "notes", "discharge"):
        assert not by_category[category]["allowed"]
        assert by_category[category]["entries"] == []
        assert f"{category}!" not in response.content.decode()
    assert body["risk_level"] is None
    assert by_category["engagement"]["allowed"]
    assert body["engagement"]["services"] == []  # supported, never by whom
    assert body["registration"] is None
    assert body["identity"] is None  # names and student number only


def test_a_crisis_client_sees_identity_by_agreement_only_with_care(hub, client):
    from joinedup.consent.services import open_care_relationship

    api = Api(client, make_token(make_client(hub.crisis)))
    assert api.get(f"/students/{hub.student.uuid}").status_code == 404
    open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    body = api.get(f"/students/{hub.student.uuid}").json()
    assert body["identity"] is not None
    assert sections(body)["notes"]["basis"] == "relationship"


def test_the_list_takes_the_same_queries_for_few_students_or_many(hub, wellbeing_api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from joinedup.consent.services import open_care_relationship

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert wellbeing_api.get("/students").status_code == 200
        return len(captured)

    few = queries()
    for n in range(2, 12):
        student = make_student(hub.university, f"NB100{n:04d}")
        open_care_relationship(student=student, service=hub.wellbeing, reason="episode")
    assert wellbeing_api.get("/students").json()["count"] == 11
    assert queries() == few
