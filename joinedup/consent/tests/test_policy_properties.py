"""Properties of the access policy over random grants, care relationships and break-glass.

Each example builds a fresh student inside a savepoint and rolls it back, so the examples of
one test share the cast but never each other's data.
"""

import datetime as dt
from contextlib import contextmanager

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import make_student
from joinedup.consent.policy import decide, reading_purpose
from joinedup.consent.rules import CATEGORIES
from joinedup.consent.services import open_break_glass, open_care_relationship, withdraw_consent
from joinedup.consent.tests.factories import STAFF_CAST, give_consent
from joinedup.people.models import User
from joinedup.record.models import RecordEntry
from joinedup.record.selectors import record_for

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CAST = STAFF_CAST
CLINICAL_CAST = ("practitioner", "counsellor", "crisis_practitioner", "triage", "liaison")
SERVICES = ("wellbeing", "counselling", "crisis", "talking", "liaison_service", "other_wellbeing")
RECIPIENTS = (*SERVICES, "university", "trust", "other_university", "history")
PURPOSES = ("direct_care", "academic_support")
# Services that write entries in every category of the random student's record.
AUTHORS = {
    "wellbeing": "practitioner",
    "counselling": "counsellor",
    "crisis": "crisis_practitioner",
}

situations = st.fixed_dictionaries(
    {
        "university": st.sampled_from(("university", "other_university")),
        "in_history": st.booleans(),
        "relationships": st.sets(st.sampled_from(SERVICES), max_size=3),
        "grants": st.lists(
            st.tuples(
                st.sampled_from(CATEGORIES), st.sampled_from(RECIPIENTS), st.sampled_from(PURPOSES)
            ),
            max_size=8,
        ),
        "break_glass": st.sets(st.sampled_from(CLINICAL_CAST), max_size=2),
    }
)


@contextmanager
def rolled_back():
    """Run one example in a savepoint that is always undone."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def build_student(hub, situation):
    university = getattr(hub, situation["university"])
    student = make_student(
        university, "PROP0001", department=hub.history if situation["in_history"] else None
    )
    for service in sorted(situation["relationships"]):
        open_care_relationship(student=student, service=getattr(hub, service), reason="episode")
    for category, recipient, purpose in situation["grants"]:
        give_consent(hub, category, getattr(hub, recipient), student=student, purpose=purpose)
    for name in sorted(situation["break_glass"]):
        open_break_glass(
            actor=getattr(hub, name), student=student, reason="Risk to life: not answering calls."
        )
    return student


def write_every_kind_of_entry(hub, student) -> list[RecordEntry]:
    """A public and a private entry per category from three services, each with a unique mark."""
    entries = [
        RecordEntry(
            student=student,
            category=category,
            service=getattr(hub, service),
            author=getattr(hub, author),
            title=f"[mark-{n:03d}]",
            body=f"[body-{n:03d}] {service} {category}{' private' if private else ''}",
            is_private_to_service=private,
        )
        for n, (category, (service, author), private) in enumerate(
            (c, a, p) for c in CATEGORIES for a in AUTHORS.items() for p in (False, True)
        )
    ]
    return RecordEntry.objects.bulk_create(entries)


@PROPERTY_SETTINGS
@given(situation=situations, viewer=st.sampled_from(CAST))
def test_a_refused_decision_never_lets_data_through(hub, client, situation, viewer):
    user = getattr(hub, viewer)
    own_services = {m.service_id for m in user.memberships.all() if m.service_id}
    with rolled_back():
        student = build_student(hub, situation)
        entries = write_every_kind_of_entry(hub, student)

        # As the page reads it: academic staff read for academic support.
        record = record_for(user, student, purpose=reading_purpose(user))
        client.force_login(user)
        response = client.get(reverse("record:student-detail", args=[student.uuid]))

        refused = {s.category for s in record.sections if not s.decision.allowed}
        assert all(not s.entries for s in record.sections if s.category in refused)
        shown = {e.pk for s in record.sections for e in s.entries}
        assert all(
            e.service_id in own_services
            for e in entries
            if e.pk in shown and (e.is_private_to_service or e.category == "notes")
        ), "another service's private entry or case note was shown"

        if "identity" in refused:
            assert response.status_code == 404
        else:
            assert response.status_code == 200
        html = response.content.decode()
        for entry in entries:
            if entry.category in refused or entry.pk not in shown:
                assert entry.title not in html
                assert entry.body not in html


NOT_NOTES = tuple(c for c in CATEGORIES if c != "notes")
# (viewer, recipient, categories): a consent to that recipient alone lets that viewer read
# each of those categories of a student of the University of Northbridge.
OPENING_CONSENTS = (
    ("practitioner", "wellbeing", NOT_NOTES),
    ("practitioner", "university", NOT_NOTES),
    ("counsellor", "counselling", NOT_NOTES),
    ("crisis_practitioner", "crisis", ("identity", "engagement", "assessment", "risk")),
    ("triage", "trust", ("registration", "outcomes", "discharge")),
    ("liaison", "liaison_service", ("identity", "risk", "discharge")),
    ("academic", "history", ("identity", "engagement", "adjustments")),
    ("academic", "university", ("engagement", "adjustments")),
)
opening_consents = st.sampled_from(OPENING_CONSENTS).flatmap(
    lambda row: st.tuples(
        st.just(row[0]),
        st.just(row[1]),
        st.sampled_from(row[2]),
        st.sampled_from(PURPOSES if row[0] == "academic" else ("direct_care",)),
    )
)


@PROPERTY_SETTINGS
@given(
    consent=opening_consents,
    other_grants=st.lists(
        st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(RECIPIENTS)), max_size=5
    ),
    withdrawn_by=st.sampled_from(("student", "practitioner")),
    time_limited=st.booleans(),
)
def test_withdrawing_a_consent_removes_access_at_once(
    hub, consent, other_grants, withdrawn_by, time_limited
):
    viewer, recipient, category, purpose = consent
    user = getattr(hub, viewer)
    with rolled_back():
        student_user = User.objects.create_user("prop@student.nb.ac.uk")
        student = make_student(hub.university, "PROP0002", user=student_user)
        for other_category, other_recipient in other_grants:
            if other_category != category:
                give_consent(hub, other_category, getattr(hub, other_recipient), student=student)
        grant = give_consent(
            hub,
            category,
            getattr(hub, recipient),
            student=student,
            purpose=purpose,
            valid_until=timezone.now() + dt.timedelta(days=365) if time_limited else None,
        )

        before = decide(user, student, category, purpose)
        withdraw_consent(
            actor=student_user if withdrawn_by == "student" else hub.practitioner, grant=grant
        )
        after = decide(user, student, category, purpose)

        assert (before.allowed, before.basis) == (True, "consent")
        assert not after.allowed
        assert after.reason.endswith(": no consent.")
