"""Each emergency access opened before overrides recorded where they were used from is given
the organisation its own audit entry names; else the one its user now works in clinically;
else the student's university, so that some admin always reviews it."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import make_staff, make_student
from joinedup.audit.services import Entry, append
from joinedup.consent.models import BreakGlass
from joinedup.people.models import Organisation, Role, Service, User
from joinedup.tests.migrating import back_at, migrate, models_at

BEFORE = ("consent", "0009_agreement_reviews")


@pytest.fixture
def before_overrides_had_a_place(transactional_db):
    with back_at([BEFORE]):
        yield


@pytest.mark.usefixtures("before_overrides_had_a_place")
def test_each_earlier_override_is_given_where_it_was_used_from():
    university = Organisation.objects.create(name="University of Northbridge", kind="university")
    trust = Organisation.objects.create(name="Northbridge NHS Trust", kind="nhs_trust")
    crisis = Service.objects.create(organisation=trust, name="Crisis Team", kind="crisis")
    named = make_staff("cara@nhs.example", Role.PRACTITIONER, university)  # moved since
    working = make_staff("dev@nhs.example", Role.TRIAGE, trust, service=crisis)
    gone = User.objects.create_user("left@nhs.example", "x")  # no role anywhere now
    student = make_student(university, "NB1000001")
    append([Entry(action="consent.break_glass.opened", actor=named, student=student,
                  actor_organisation=trust.name)])  # fmt: skip
    opened = timezone.now()  # the moment its audit entry was written
    old = models_at([BEFORE])
    OldBreakGlass = old.get_model("consent", "BreakGlass")  # noqa: N806 - historical model
    ids = {
        user.email: OldBreakGlass.objects.create(
            user_id=user.pk,
            student_id=student.pk,
            reason="Risk to life",
            opened_at=opened,
            expires_at=opened + dt.timedelta(hours=4),
        ).pk
        for user in (named, working, gone)
    }
    migrate([("consent", "0010_override_organisation")])

    where = dict(BreakGlass.objects.values_list("pk", "organisation__name"))
    assert where == {
        ids["cara@nhs.example"]: trust.name,  # as its audit entry says
        ids["dev@nhs.example"]: trust.name,  # where its user works clinically
        ids["left@nhs.example"]: university.name,  # the student's university
    }
