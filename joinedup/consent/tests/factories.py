"""Small factories for consent tests; each builds its data through the consent services."""

from joinedup.consent.models import ConsentGrant
from joinedup.consent.services import record_consent
from joinedup.people.models import Department, Organisation, Service

_RECIPIENT_FIELD = {
    Service: "recipient_service",
    Department: "recipient_department",
    Organisation: "recipient_organisation",
}

# Every member of staff in the `hub` cast (root conftest.py), outsider included.
STAFF_CAST = (
    "practitioner",
    "counsellor",
    "crisis_practitioner",
    "triage",
    "liaison",
    "service_manager",
    "academic",
    "org_admin",
    "researcher",
    "outsider",
)


def give_consent(hub, category, recipient, *, student=None, purpose="direct_care", actor=None,
                 how_given="in_person", **fields) -> ConsentGrant:  # fmt: skip
    """The student consents to share `category` with `recipient` (a service, department or
    organisation), recorded in person by the Wellbeing practitioner unless told otherwise."""
    return record_consent(
        actor=actor or hub.practitioner,
        student=student or hub.student,
        category=category,
        purpose=purpose,
        how_given=how_given,
        **{_RECIPIENT_FIELD[type(recipient)]: recipient},
        **fields,
    )
