from django.contrib import admin

from joinedup.audit.admin import AuditedReadsMixin
from joinedup.consent.models import BreakGlass, DataSharingAgreement


@admin.register(DataSharingAgreement)
class DataSharingAgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_on", "ends_on"]
    filter_horizontal = ["organisations"]


@admin.register(BreakGlass)
class BreakGlassAdmin(AuditedReadsMixin, admin.ModelAdmin):
    """For the data protection officer's review of each emergency access."""

    audited_categories = ("identity", "risk")
    list_display = ["opened_at", "user", "expires_at", "reported_to"]
    list_select_related = ["user", "student"]
    readonly_fields = ["user", "student", "reason", "opened_at", "expires_at", "reported_to"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
