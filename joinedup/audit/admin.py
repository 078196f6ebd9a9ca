"""Reads of students' data in the Django admin are audited like any other read."""

from joinedup.audit.models import Basis
from joinedup.audit.services import Entry, append, request_id_of

_REASONS = {
    "listed": "Listed in the site administration.",
    "viewed": "Opened in the site administration.",
    "history_viewed": "History opened in the site administration.",
    "delete_viewed": "Deletion page opened in the site administration.",
    "added": "Added in the site administration.",
    "changed": "Changed in the site administration",
}


class AuditedReadsMixin:
    """For a ModelAdmin whose rows hold students' personal data: each list, change, history
    and delete page writes an audit entry for every student it shows, in each of
    `audited_categories`, and so does each save (`admin.<model>.listed`, `.viewed`, …)."""

    audited_categories: tuple[str, ...] = ("identity",)

    def students_of(self, objects) -> list:
        """The students whose data the objects show: by default each one's `student`."""
        return [obj.student for obj in objects]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = _context(response).get("cl")
        if changelist is not None:
            self._audit(request, changelist.result_list, "listed")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_shown(request, _context(response).get("original"), "viewed")
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._audit_shown(request, _context(response).get("object"), "history_viewed")
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._audit_shown(request, _context(response).get("object"), "delete_viewed")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            reason = f"{_REASONS['changed']}: {', '.join(form.changed_data) or 'nothing'}."
            self._audit(request, [obj], "changed", reason)
        else:
            self._audit(request, [obj], "added")

    def _audit_shown(self, request, obj, verb: str) -> None:
        if obj is not None:
            self._audit(request, [obj], verb)

    def _audit(self, request, objects, verb: str, reason: str = "") -> None:
        students = {s.pk: s for s in self.students_of(objects) if s is not None}
        if not students:
            return
        seat = _seat_of(request.user)
        append(
            [
                Entry(
                    action=f"admin.{self.opts.model_name}.{verb}",
                    actor=request.user,
                    student=student,
                    category=category,
                    allowed=True,
                    basis=Basis.ADMIN,
                    reason=reason or _REASONS[verb],
                    actor_role=seat.role if seat else "",
                    actor_service="Site administration",
                    actor_organisation=seat.organisation.name if seat else "",
                    request_id=request_id_of(request),
                )
                for student in students.values()
                for category in self.audited_categories
            ]
        )


def _context(response) -> dict:
    """What a page showed; a redirect or error carries nothing."""
    return getattr(response, "context_data", None) or {}


def _seat_of(user):
    """The membership an admin acts in: their organisation admin seat, if they have one."""
    memberships = list(user.memberships.select_related("organisation"))
    return next((m for m in memberships if m.role == "org_admin"), None) or next(
        iter(memberships), None
    )
