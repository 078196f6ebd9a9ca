from django.contrib import admin

from joinedup.operations.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """What the scheduler ran and how each run ended; read only."""

    list_display = ["job", "started_at", "finished_at", "outcome", "scheduler"]
    list_filter = ["outcome", "job"]
    readonly_fields = ["job", "scheduler", "started_at", "finished_at", "outcome", "output"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
