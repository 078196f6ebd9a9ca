"""Small factories for the shared record (no service writes entries yet)."""

from joinedup.record.models import RecordEntry


def write_entry(student, category, service, author, *, title="", body="", private=False,
                withheld_reason="") -> RecordEntry:  # fmt: skip
    """An entry `service` wrote in `category` of `student`'s record."""
    title = title or f"{service.name} {category}"
    return RecordEntry.objects.create(
        student=student,
        category=category,
        service=service,
        author=author,
        title=title,
        body=body or f"{title}: what the student told us.",
        is_private_to_service=private,
        is_withheld_from_student=bool(withheld_reason),
        withheld_reason=withheld_reason,
    )
