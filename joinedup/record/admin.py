from django.contrib import admin

from joinedup.record.models import LetterTemplate, NoteTemplate
from joinedup.record.rules import MERGE_FIELDS


@admin.register(NoteTemplate)
class NoteTemplateAdmin(admin.ModelAdmin):
    """The templates a service's staff may start a clinical note from."""

    list_display = ["name", "service", "contact_kind", "is_active"]
    list_filter = ["service", "is_active"]
    search_fields = ["name"]


@admin.register(LetterTemplate)
class LetterTemplateAdmin(admin.ModelAdmin):
    """A service's letters; each line naming a field the writer may not read is left out."""

    list_display = ["name", "service", "kind", "is_active"]
    list_filter = ["service", "kind", "is_active"]
    search_fields = ["name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        fields = ", ".join(f"{{{{ {f.name} }}}}" for f in MERGE_FIELDS)
        form.base_fields["body"].help_text = (
            f"One paragraph a line. Fields: {fields}. A line naming a field the writer may "
            "not read, or one not recorded, is left out of the letter."
        )
        return form
