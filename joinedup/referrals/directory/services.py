"""Changes to the service directory. Each one is audited."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.people.models import Role
from joinedup.referrals.directory import rules
from joinedup.referrals.directory.permissions import can_edit_directory
from joinedup.referrals.models import DirectoryEntry

EDITABLE_FIELDS = (
    "purpose",
    "who_for",
    "eligibility",
    "how_to_refer",
    "information_needed",
    "accepts_referrals_from",
    "phone",
    "email",
    "address",
    "opening_hours",
    "out_of_hours",
    "self_help",
    "topics",
    "welsh",
)


def update_directory_entry(*, actor, service, request=None, **values) -> DirectoryEntry:
    """Write a service's directory entry, creating it the first time, and audit the change.

    `values` are any of EDITABLE_FIELDS; `accepts_self_referral` follows from
    `accepts_referrals_from`. Raises PermissionDenied unless the actor is an admin of the
    service's organisation, and ValidationError, saving nothing, when a value is bad.
    """
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not a directory field: {', '.join(sorted(unknown))}")
    if not can_edit_directory(actor, service):
        raise PermissionDenied
    if "topics" in values:
        values["topics"] = list(
            dict.fromkeys(filter(None, map(rules.normalise_topic, values["topics"])))
        )
    with transaction.atomic():
        entry = DirectoryEntry.objects.select_for_update().filter(service=service).first()
        is_new = entry is None
        entry = entry or DirectoryEntry(service=service)
        for name, value in values.items():
            setattr(entry, name, value)
        entry.updated_at, entry.updated_by = timezone.now(), actor
        entry.full_clean(validate_unique=False)  # one entry per service: found above
        if is_new:
            entry.save()
        else:
            entry.save(update_fields=[*values, "updated_at", "updated_by"])
        append(
            [
                Entry(
                    action="referrals.directory.updated",
                    actor=actor,
                    reason=service.name,
                    actor_role=Role.ORG_ADMIN,
                    actor_organisation=service.organisation.name,
                    request_id=request_id_of(request),
                )
            ]
        )
    return entry
