"""Reads in the Django admin are audited like any other read of a student's data."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.audit.models import AuditEvent
from joinedup.audit.selectors import accesses_to, verify_audit_chain
from joinedup.consent.models import BreakGlass
from joinedup.people.models import Role


@pytest.fixture
def admin_client(hub, client):
    """The university's data protection officer, with the admin flag."""
    user = make_staff("dora@nb.ac.uk", Role.ORG_ADMIN, hub.university)
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(user)
    client.user = user
    return client


def _admin_reads(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith="admin.", **filters).order_by("seq"))


def test_the_student_list_audits_each_student_shown(hub, admin_client):
    other = make_student(hub.university, "NB1000002")
    response = admin_client.get("/admin/people/student/")
    assert response.status_code == 200
    events = _admin_reads(action="admin.student.listed")
    assert {e.student_id for e in events} == {hub.student.pk, other.pk}
    event = events[0]
    assert event.actor == admin_client.user
    assert (event.allowed, event.basis, event.actor_role) == (True, "admin", "org_admin")
    assert event.actor_organisation == hub.university.name
    assert {e.category for e in events} == {"identity", "registration"}
    assert verify_audit_chain().broken is None


def test_a_search_audits_only_the_students_it_shows(hub, admin_client):
    other = make_student(hub.university, "NB1000002")
    admin_client.get("/admin/people/student/", {"q": "NB1000002"})
    assert {e.student_id for e in _admin_reads()} == {other.pk}


def test_opening_a_student_audits_the_read(hub, admin_client):
    response = admin_client.get(f"/admin/people/student/{hub.student.pk}/change/")
    assert response.status_code == 200
    (identity, registration) = _admin_reads(action="admin.student.viewed")
    assert identity.student_id == registration.student_id == hub.student.pk
    assert (identity.category, registration.category) == ("identity", "registration")


def test_the_student_sees_an_admin_read_among_who_looked(hub, admin_client):
    admin_client.get(f"/admin/people/student/{hub.student.pk}/change/")
    assert any(e.action == "admin.student.viewed" for e in accesses_to(hub.student))


def test_a_change_in_the_admin_is_audited(hub, admin_client):
    url = f"/admin/people/student/{hub.student.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data |= {"preferred_name": "Lex", "university": hub.university.pk}
    data = {k: v for k, v in data.items() if v not in ([], False)}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    events = _admin_reads(action="admin.student.changed")
    assert {(e.student_id, e.category) for e in events} == {
        (hub.student.pk, "identity"),
        (hub.student.pk, "registration"),
    }
    assert all("preferred_name" in e.reason for e in events)


def test_the_history_and_delete_pages_are_audited(hub, admin_client):
    admin_client.get(f"/admin/people/student/{hub.student.pk}/history/")
    admin_client.get(f"/admin/people/student/{hub.student.pk}/delete/")
    actions = {e.action for e in _admin_reads(student=hub.student)}
    assert {"admin.student.history_viewed", "admin.student.delete_viewed"} <= actions


def test_a_break_glass_record_read_in_the_admin_is_audited(hub, admin_client):
    use = BreakGlass.objects.create(
        user=hub.crisis_practitioner, organisation=hub.trust, student=hub.student,
        reason="Risk to life",
        expires_at=timezone.now() + dt.timedelta(hours=4),
    )  # fmt: skip
    admin_client.get("/admin/consent/breakglass/")
    admin_client.get(f"/admin/consent/breakglass/{use.pk}/change/")
    actions = [e.action for e in _admin_reads(student=hub.student)]
    assert "admin.breakglass.listed" in actions
    assert "admin.breakglass.viewed" in actions


def test_a_student_account_read_in_the_admin_is_audited(hub, admin_client):
    admin_client.get("/admin/people/user/")
    admin_client.get(f"/admin/people/user/{hub.student_user.pk}/change/")
    actions = [e.action for e in _admin_reads(student=hub.student)]
    assert actions == ["admin.user.listed", "admin.user.viewed"]


def test_a_staff_account_read_in_the_admin_names_no_student(hub, admin_client):
    admin_client.get(f"/admin/people/user/{hub.practitioner.pk}/change/")
    assert _admin_reads() == []


def test_admin_pages_without_student_data_write_nothing(hub, admin_client):
    admin_client.get("/admin/people/organisation/")
    admin_client.get(f"/admin/people/organisation/{hub.university.pk}/change/")
    assert _admin_reads() == []


def test_every_admin_of_students_data_audits_its_reads():
    """A model admin added later for a model naming a student must audit too."""
    from django.contrib import admin

    from joinedup.audit.admin import AuditedReadsMixin
    from joinedup.people.models import Student, User

    def holds_student_data(model) -> bool:
        return model in (Student, User) or any(
            field.is_relation and field.related_model is Student and not field.auto_created
            for field in model._meta.get_fields()
        )

    unaudited = [
        model.__name__
        for model, model_admin in admin.site._registry.items()
        if holds_student_data(model) and not isinstance(model_admin, AuditedReadsMixin)
    ]
    assert unaudited == []
