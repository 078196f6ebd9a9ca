"""Recording the review of an emergency override, and each use of the audit log."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from joinedup.audit.selectors import Verification
from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import BreakGlass
from joinedup.consent.policy import seats_of
from joinedup.governance import rules
from joinedup.governance.models import OverrideReview
from joinedup.governance.selectors import AuditSearch, overrides_for, students_numbered
from joinedup.people.models import Role, User


def review_override(
    *, actor: User, access: BreakGlass, outcome: str, note: str, request=None
) -> OverrideReview:
    """An admin of the organisation whose member used the override says whether it was
    appropriate; once. Audited, naming no clinical content."""
    if not overrides_for(actor).filter(pk=access.pk).exists():
        raise PermissionDenied
    if problems := rules.review_problem(outcome, note):
        raise ValidationError(problems)
    try:
        with transaction.atomic():
            review = OverrideReview.objects.create(
                access=access, outcome=outcome, note=note.strip(), reviewed_by=actor
            )
            append([_admin_entry(
                actor, request, action="governance.override.reviewed", student=access.student,
                reason=f"{outcome}: override {access.uuid}",
            )])  # fmt: skip
    except IntegrityError:
        raise ValidationError(_("This emergency access has been reviewed already.")) from None
    return review


def record_audit_search(
    *, actor: User, search: AuditSearch, found: int, downloaded: bool = False, request=None
) -> None:
    """Every search of the audit log is itself in the log: who searched, for what, and how
    many entries they were shown or downloaded."""
    asked = [
        f"{search.start:%d/%m/%Y} to {search.end:%d/%m/%Y}",
        *(f"{name} {value!r}" for name, value in (
            ("student", search.student), ("staff", search.staff), ("place", search.place),
        ) if value),
    ]  # fmt: skip
    named = list(students_numbered(search.student)[:2]) if search.student else []
    append([_admin_entry(
        actor, request,
        action="governance.audit.downloaded" if downloaded else "governance.audit.searched",
        student=named[0] if len(named) == 1 else None,
        reason=f"{'; '.join(asked)}: {found} entries",
    )])  # fmt: skip


def record_verification(*, actor: User, verification: Verification, request=None) -> None:
    broken = verification.broken
    append([_admin_entry(
        actor, request, action="governance.audit.verified",
        reason=f"{verification.checked} entries checked: "
        + (f"broken at entry {broken.seq} ({broken.problem})" if broken else "intact"),
    )])  # fmt: skip


def _admin_entry(actor: User, request, **said) -> Entry:
    """An audit entry of an organisation admin's act, under their (first) organisation, so
    the other admins of it find it in their search of the log."""
    seat = next((s for s in seats_of(actor) if s.role == Role.ORG_ADMIN), None)
    return Entry(
        actor=actor, actor_role=Role.ORG_ADMIN,
        actor_organisation=seat.organisation_name if seat else "",
        request_id=request_id_of(request), **said,
    )  # fmt: skip
