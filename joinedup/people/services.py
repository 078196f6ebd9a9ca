"""Changes to people's records. Each one is audited."""

from django.db import transaction

from joinedup.audit.services import Entry, append


def update_trusted_contact(*, actor, student, trusted_contact_name, trusted_contact_relationship,
                           trusted_contact_phone, trusted_contact_permission):  # fmt: skip
    """The student names a trusted contact and says when the university may contact them."""
    student.trusted_contact_name = trusted_contact_name
    student.trusted_contact_relationship = trusted_contact_relationship
    student.trusted_contact_phone = trusted_contact_phone
    student.trusted_contact_permission = trusted_contact_permission
    with transaction.atomic():
        student.save(update_fields=[
            "trusted_contact_name", "trusted_contact_relationship", "trusted_contact_phone",
            "trusted_contact_permission",
        ])  # fmt: skip
        append([Entry(action="people.student.trusted_contact_changed", actor=actor,
                      student=student, category="identity", actor_role="student")])  # fmt: skip
    return student
