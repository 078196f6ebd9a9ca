from django.contrib import admin

from joinedup.measures.models import LicensedItemText, RoutineMeasure


@admin.register(RoutineMeasure)
class RoutineMeasureAdmin(admin.ModelAdmin):
    list_display = ["service", "code"]
    list_filter = ["code"]


@admin.register(LicensedItemText)
class LicensedItemTextAdmin(admin.ModelAdmin):
    list_display = ["code", "item", "text", "loaded_at"]
    list_filter = ["code"]
