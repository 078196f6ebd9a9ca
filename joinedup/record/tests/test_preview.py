"""The student's "see what they would see" preview equals the recipient's real view."""

import pytest

from joinedup.consent.services import open_care_relationship
from joinedup.consent.tests.factories import give_consent
from joinedup.record.selectors import preview_for_service, record_for
from joinedup.record.tests.factories import write_entry


def shape(view):
    return [
        (s.category, s.decision.allowed, s.decision.whole, sorted(e.pk for e in s.entries))
        for s in view.sections
    ]


@pytest.fixture
def record(hub):
    for category in ("assessment", "risk", "notes", "outcomes", "discharge"):
        write_entry(hub.student, category, hub.wellbeing, hub.practitioner)
        write_entry(hub.student, category, hub.crisis, hub.crisis_practitioner)
    write_entry(hub.student, "assessment", hub.wellbeing, hub.practitioner, private=True)


@pytest.mark.parametrize(
    "consents",
    [[], ["assessment"], ["assessment", "risk", "outcomes", "discharge", "notes"]],
)
@pytest.mark.parametrize("related", [False, True])
def test_the_preview_is_the_recipients_real_view(hub, record, consents, related):
    if related:
        open_care_relationship(student=hub.student, service=hub.crisis, reason="referral")
    for category in consents:
        if category != "notes":
            give_consent(hub, category, hub.crisis)
    real = record_for(hub.crisis_practitioner, hub.student)
    assert shape(preview_for_service(hub.crisis, hub.student)) == shape(real)


def test_withdrawing_changes_the_preview_at_once(hub, record):
    from joinedup.consent.services import withdraw_consent

    grant = give_consent(hub, "risk", hub.crisis)
    assert preview_for_service(hub.crisis, hub.student).section("risk").decision.allowed
    withdraw_consent(actor=hub.student_user, grant=grant)
    assert not preview_for_service(hub.crisis, hub.student).section("risk").decision.allowed
