from django.contrib import admin

from joinedup.risk.models import RiskLevel, ServiceScale


@admin.register(RiskLevel)
class RiskLevelAdmin(admin.ModelAdmin):
    """The hub's shared risk language."""

    list_display = ["rank", "name", "response_hours", "expected_response"]
    ordering = ["rank"]


@admin.register(ServiceScale)
class ServiceScaleAdmin(admin.ModelAdmin):
    """Each service's own words for the shared levels."""

    list_display = ["service", "label", "level"]
    list_filter = ["service"]
