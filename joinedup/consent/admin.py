from typing import TYPE_CHECKING

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from joinedup.audit.admin import AuditedReadsMixin
from joinedup.audit.models import AuditEvent
from joinedup.consent.models import AgreementSide, BreakGlass, DataSharingAgreement

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # a lazy string; only in django-stubs


class AgreementSideInline(admin.TabularInline[AgreementSide, DataSharingAgreement]):
    model = AgreementSide
    extra = 0
    readonly_fields = ["active", "changed_at", "changed_by"]


@admin.register(DataSharingAgreement)
class DataSharingAgreementAdmin(admin.ModelAdmin[DataSharingAgreement]):
    """Read-mostly: each side activates and suspends on the organisation admins' pages."""

    list_display = ["title", "starts_on", "ends_on", "review_on"]
    inlines = [AgreementSideInline]


@admin.register(BreakGlass)
class BreakGlassAdmin(AuditedReadsMixin, admin.ModelAdmin[BreakGlass]):
    """For the data protection officer's review of each emergency access."""

    audited_categories = ("identity", "risk")
    list_display = ["opened_at", "user", "expires_at", "reported_to"]
    list_select_related = ["user", "student"]
    readonly_fields = [
        "user", "student", "reason", "opened_at", "expires_at", "reported_to", "done_under_it",
    ]  # fmt: skip

    @admin.display(description=_("Everything done under it"))
    def done_under_it(self, access: BreakGlass) -> "SafeString | _StrPromise":
        """Every read and change the user made of the student's record while it was open,
        from the audit log."""
        return format_html_join(
            "\n",
            "<p>{} · {} · {} · {} {}</p>",
            (
                (e.at.strftime("%d %b %Y %H:%M"), e.action, e.category or "—", e.basis or "",
                 "" if e.allowed is None else ("allowed" if e.allowed else "refused"))
                for e in done_under(access)
            ),
        ) or _("Nothing was read or changed.")  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BreakGlass | None = None) -> bool:
        return False


def done_under(access: BreakGlass) -> QuerySet[AuditEvent]:
    """The audit entries of the override's user about its student while it was open."""
    return AuditEvent.objects.filter(
        actor_id=access.user_id,
        student_id=access.student_id,
        at__gte=access.opened_at,
        at__lte=access.expires_at,
    ).order_by("seq")
