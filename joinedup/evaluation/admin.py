from django.contrib import admin

from joinedup.evaluation.models import EvaluationProject, ResearchExtract, SavedReport


@admin.register(ResearchExtract)
class ResearchExtractAdmin(admin.ModelAdmin):
    """Read-only: an extract is changed only by its task, and downloaded only by who ran it."""

    list_display = ["uuid", "requested_by", "requested_at", "starts_on", "ends_on", "status"]
    list_filter = ["status"]
    exclude = ["file_path"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SavedReport)
class SavedReportAdmin(admin.ModelAdmin):
    """Read-only: a saved report is a frozen snapshot."""

    list_display = ["title", "organisation", "saved_by", "saved_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EvaluationProject)
class EvaluationProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "organisation", "starts_on", "ends_on", "updated_at"]
    list_filter = ["organisation", "design"]
    readonly_fields = ["created_by", "created_at", "updated_by", "updated_at"]

    def has_add_permission(self, request):
        return False  # projects start from their plan page, in the planner's organisation

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
