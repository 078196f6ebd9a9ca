"""Recording the review of an emergency override."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from joinedup.audit.services import Entry, append, request_id_of
from joinedup.consent.models import BreakGlass
from joinedup.governance import rules
from joinedup.governance.models import OverrideReview
from joinedup.governance.selectors import overrides_for
from joinedup.people.models import User


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
            append([Entry(
                action="governance.override.reviewed", actor=actor, student=access.student,
                actor_role="org_admin", reason=f"{outcome}: override {access.uuid}",
                request_id=request_id_of(request),
            )])  # fmt: skip
    except IntegrityError:
        raise ValidationError(_("This emergency access has been reviewed already.")) from None
    return review
