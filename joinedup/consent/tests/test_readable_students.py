"""`readable_students()` (the policy as one SQL filter) agrees with `decide()` row by row."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from conftest import make_student
from joinedup.consent.models import (
    BreakGlass,
    CareRelationship,
    ConsentGrant,
    DataSharingAgreement,
    consent_active_at,
)
from joinedup.consent.policy import bases_of, decide, decide_many, readable_rows, readable_students
from joinedup.consent.rules import CATEGORIES
from joinedup.consent.services import (
    close_care_relationship,
    open_break_glass,
    open_care_relationship,
    withdraw_consent,
)
from joinedup.consent.tests.factories import STAFF_CAST, give_consent
from joinedup.record.models import RecordEntry

CAST = (*STAFF_CAST, "student_user")
PURPOSES = ("direct_care", "academic_support")


@pytest.fixture
def students(hub) -> dict:
    """Students in varied situations, by name; `hub.student` is "in_wellbeing_care"."""
    now, today = timezone.now(), timezone.localdate()
    s = {"in_wellbeing_care": hub.student}
    for n, name in enumerate(
        (
            "consents_to_counselling",
            "consents_to_trust",
            "consents_to_history",
            "at_other_university",
            "under_break_glass",
            "consent_withdrawn",
            "consent_expired_or_not_yet",
            "agreement_ending",
            "care_closed_and_in_crisis_team",
            "in_talking_therapies",
            "in_history_only",
        ),
        start=1,
    ):
        other = name in ("at_other_university", "agreement_ending")
        university = hub.other_university if other else hub.university
        department = hub.history if name in ("consents_to_history", "in_history_only") else None
        s[name] = make_student(
            university, f"S{n:04d}", department=department, legal_family_name=name
        )

    for category in ("identity", "assessment", "notes", "outcomes"):
        give_consent(hub, category, hub.counselling, student=s["consents_to_counselling"])
    for category in ("identity", "risk", "adjustments", "notes"):
        give_consent(hub, category, hub.trust, student=s["consents_to_trust"])
    for category in ("identity", "engagement", "adjustments", "risk"):
        give_consent(
            hub, category, hub.history, student=s["consents_to_history"], purpose="academic_support"
        )
    give_consent(hub, "adjustments", hub.university, student=s["consents_to_history"])

    open_care_relationship(
        student=s["at_other_university"], service=hub.other_wellbeing, reason="referral"
    )
    for category in ("identity", "engagement"):
        give_consent(hub, category, hub.wellbeing, student=s["at_other_university"])
    give_consent(hub, "identity", hub.talking, student=s["at_other_university"])

    open_break_glass(
        actor=hub.crisis_practitioner,
        student=s["under_break_glass"],
        reason="Risk to life: the student has stopped answering.",
    )
    BreakGlass.objects.create(
        user=hub.triage,
        organisation=hub.university,
        student=s["under_break_glass"],
        reason="An emergency last week.",
        opened_at=now - dt.timedelta(days=7),
        expires_at=now - dt.timedelta(days=7) + dt.timedelta(hours=4),
    )

    for category in ("identity", "risk"):
        grant = give_consent(hub, category, hub.crisis, student=s["consent_withdrawn"])
        withdraw_consent(actor=hub.practitioner, grant=grant)
    give_consent(hub, "engagement", hub.crisis, student=s["consent_withdrawn"])

    give_consent(
        hub,
        "identity",
        hub.crisis,
        student=s["consent_expired_or_not_yet"],
        valid_from=now - dt.timedelta(days=30),
        valid_until=now - dt.timedelta(days=1),
    )
    give_consent(
        hub,
        "identity",
        hub.counselling,
        student=s["consent_expired_or_not_yet"],
        valid_from=now + dt.timedelta(days=1),
    )

    # Southgate's agreement with the trust ended yesterday; its agreement with Northbridge
    # ends today (still in force); one with the trust for outcomes starts tomorrow.
    long_ago, day = dt.date(2020, 1, 1), dt.timedelta(days=1)
    for title, org, ends_on, starts_on, categories in (
        ("Ended", hub.trust, today - day, long_ago, ["identity", "risk"]),
        ("Ends today", hub.university, today, long_ago, ["identity", "engagement"]),
        ("Not yet", hub.trust, None, today + day, ["outcomes"]),
    ):
        agreement = DataSharingAgreement.objects.create(
            title=title,
            categories=categories,
            purposes=["direct_care"],
            starts_on=starts_on,
            ends_on=ends_on,
        )
        agreement.organisations.set([hub.other_university, org], through_defaults={"active": True})
    for category in ("identity", "risk", "outcomes"):
        give_consent(hub, category, hub.trust, student=s["agreement_ending"])
    for category in ("identity", "engagement"):
        give_consent(hub, category, hub.wellbeing, student=s["agreement_ending"])

    closed = open_care_relationship(
        student=s["care_closed_and_in_crisis_team"], service=hub.counselling, reason="episode"
    )
    close_care_relationship(relationship=closed, because="episode_ended")
    open_care_relationship(
        student=s["care_closed_and_in_crisis_team"], service=hub.crisis, reason="referral"
    )

    open_care_relationship(
        student=s["in_talking_therapies"], service=hub.talking, reason="referral"
    )
    return s


def _by_decision(user, students):
    """(purpose, category) -> names of the students `decide` lets `user` read."""
    readable = {(p, c): set() for p in PURPOSES for c in CATEGORIES}
    for purpose in PURPOSES:
        for name, student in students.items():
            # decide() is decide_many() for one category; one call per student keeps this fast.
            for category, decision in decide_many(user, student, CATEGORIES, purpose).items():
                if decision.allowed:
                    readable[purpose, category].add(name)
    return readable


def _by_query(user, students):
    names = {student.pk: name for name, student in students.items()}
    return {
        (purpose, category): {
            names[pk]
            for pk in readable_students(user, category, purpose).values_list("pk", flat=True)
        }
        for purpose in PURPOSES
        for category in CATEGORIES
    }


@pytest.mark.parametrize("member", CAST)
def test_readable_students_agrees_with_decide(hub, students, member):
    user = getattr(hub, member)

    assert _by_query(user, students) == _by_decision(user, students)


def test_decide_many_is_decide_for_each_category(hub, students):
    student = students["consents_to_trust"]

    decisions = decide_many(hub.crisis_practitioner, student, CATEGORIES)

    assert decisions == {c: decide(hub.crisis_practitioner, student, c) for c in CATEGORIES}


@pytest.mark.parametrize(
    ("member", "category", "purpose", "readable"),
    [
        ("practitioner", "notes", "direct_care", {"in_wellbeing_care"}),
        # Counselling's episode with one student ended: it reads what it wrote, by name.
        ("counsellor", "assessment", "direct_care", {"consents_to_counselling",
                                                     "care_closed_and_in_crisis_team"}),
        ("counsellor", "notes", "direct_care", {"care_closed_and_in_crisis_team"}),
        ("counsellor", "registration", "direct_care", set()),
        ("counsellor", "identity", "direct_care", {"consents_to_counselling",
                                                   "care_closed_and_in_crisis_team"}),
        (
            "crisis_practitioner",
            "identity",
            "direct_care",
            {"consents_to_trust", "under_break_glass", "care_closed_and_in_crisis_team"},
        ),
        ("crisis_practitioner", "engagement", "direct_care", {"consent_withdrawn",
                                                               "under_break_glass",
                                                               "care_closed_and_in_crisis_team"}),
        ("crisis_practitioner", "adjustments", "direct_care", {"under_break_glass",
                                                                "care_closed_and_in_crisis_team"}),
        ("triage", "risk", "direct_care", {"consents_to_trust", "in_talking_therapies"}),
        # A partner service's relationship is not the liaison service's: consent only.
        ("liaison", "risk", "direct_care", {"consents_to_trust"}),
        ("academic", "identity", "direct_care", {"in_wellbeing_care", "consents_to_history",
                                                 "in_history_only"}),
        ("academic", "adjustments", "academic_support", {"consents_to_history"}),
        ("academic", "risk", "academic_support", set()),
        ("practitioner", "identity", "direct_care", {"in_wellbeing_care", "at_other_university",
                                                     "agreement_ending"}),
        ("outsider", "identity", "direct_care", {"at_other_university"}),
        ("service_manager", "identity", "direct_care", set()),
        ("researcher", "identity", "direct_care", set()),
        ("org_admin", "identity", "direct_care", set()),
        ("student_user", "notes", "direct_care", {"in_wellbeing_care"}),
    ],
)  # fmt: skip
def test_readable_students_in_each_situation(hub, students, member, category, purpose, readable):
    user = getattr(hub, member)
    names = {student.pk: name for name, student in students.items()}

    found = readable_students(user, category, purpose).values_list("pk", flat=True)

    assert {names[pk] for pk in found} == readable


@pytest.mark.parametrize("member", ["practitioner", "crisis_practitioner", "triage", "liaison"])
def test_relationship_basis_alone_lists_the_students_decided_by_relationship(hub, students, member):
    user = getattr(hub, member)
    by_relationship = {
        student.pk
        for student in students.values()
        if decide(user, student, "identity").basis == "relationship"
    }

    found = readable_students(user, "identity", bases=("relationship",))

    assert set(found.values_list("pk", flat=True)) == by_relationship


def test_an_ended_episode_leaves_the_service_its_own_rows_by_name_only(hub, students):
    relationship = CareRelationship.objects.open().get(student=hub.student)
    close_care_relationship(relationship=relationship, because="episode_ended")

    caseload = readable_students(hub.practitioner, "identity", bases=("relationship",))
    assert not caseload.filter(pk=hub.student.pk).exists()
    identity = decide(hub.practitioner, hub.student, "identity")
    assert (identity.basis, identity.scope) == ("authored", "names")
    assert not decide(hub.practitioner, hub.student, "registration").allowed
    risk = decide(hub.practitioner, hub.student, "risk")
    assert (risk.whole, risk.services) == (False, frozenset({hub.wellbeing.pk}))
    assert CareRelationship.objects.get(pk=relationship.pk).ended_because == "episode_ended"


def test_a_closed_concern_leaves_the_service_nothing(hub, students):
    student = students["in_history_only"]
    concern = open_care_relationship(student=student, service=hub.wellbeing, reason="concern")
    assert decide(hub.practitioner, student, "identity").basis == "relationship"

    close_care_relationship(relationship=concern, because="concern_closed")

    assert not readable_students(hub.practitioner, "identity").filter(pk=student.pk).exists()
    for category in CATEGORIES:
        assert not decide(hub.practitioner, student, category).allowed, category


@pytest.fixture
def planted(hub, students) -> None:
    """An entry in every category about every student, by each of three services."""
    RecordEntry.objects.bulk_create(
        RecordEntry(
            student=student,
            category=category,
            service=service,
            author=hub.practitioner,
            title=f"{category} by {service.name}",
            body="Planted.",
        )
        for student in students.values()
        for category in CATEGORIES
        for service in (hub.wellbeing, hub.crisis, hub.talking)
    )


@pytest.mark.parametrize("member", CAST)
def test_readable_rows_agrees_with_each_decisions_rows(hub, students, planted, member):
    user = getattr(hub, member)
    for category in CATEGORIES:
        by_decision = set()
        for student in students.values():
            # A list shows rows only of students the user may know.
            if not decide(user, student, "identity").allowed:
                continue
            rows = RecordEntry.objects.filter(student=student, category=category)
            decision = decide(user, student, category)
            by_decision |= set(decision.rows(rows).values_list("pk", flat=True))

        found = readable_rows(user, category, RecordEntry.objects.filter(category=category))

        assert set(found.values_list("pk", flat=True)) == by_decision, category


@pytest.mark.parametrize("member", CAST)
def test_the_basis_of_a_listed_student_is_the_basis_decided(hub, students, member):
    user = getattr(hub, member)
    for category in CATEGORIES:
        decided = {}
        for student in students.values():
            decision = decide(user, student, category)
            if decision.allowed:
                decided[student.pk] = decision.basis

        assert bases_of(user, category, [s.pk for s in students.values()]) == decided, category


def test_a_grant_is_active_by_the_same_rule_in_python_and_in_sql(hub, students):
    now = timezone.now()
    for moment in (now - dt.timedelta(days=2), now, now + dt.timedelta(days=2)):
        in_sql = set(
            ConsentGrant.objects.filter(consent_active_at(moment)).values_list("pk", flat=True)
        )
        in_python = {g.pk for g in ConsentGrant.objects.all() if g.active_at(moment)}
        assert in_sql == in_python
        assert len(in_python) not in (0, ConsentGrant.objects.count())


def test_an_emergency_override_ends_after_its_hours_not_days(hub, students):
    access = BreakGlass.objects.get(user=hub.crisis_practitioner)
    student = students["under_break_glass"]
    assert access.expires_at - access.opened_at == dt.timedelta(hours=settings.BREAK_GLASS_HOURS)

    with time_machine.travel(access.expires_at - dt.timedelta(minutes=1)):
        assert decide(hub.crisis_practitioner, student, "risk").basis == "break_glass"
    with time_machine.travel(access.expires_at + dt.timedelta(minutes=1)):
        assert not decide(hub.crisis_practitioner, student, "risk").allowed
        assert not readable_rows(
            hub.crisis_practitioner, "risk", RecordEntry.objects.filter(student=student)
        ).exists()
