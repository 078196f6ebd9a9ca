"""Form rendering in NHS.UK frontend style."""

from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.translation import gettext_lazy as _

_WIDGET_CLASSES = {
    forms.Select: "nhsuk-select",
    forms.Textarea: "nhsuk-textarea",
    forms.CheckboxInput: "nhsuk-checkboxes__input",
    # A CheckboxSelectMultiple is a RadioSelect too: the first match wins.
    forms.CheckboxSelectMultiple: "nhsuk-checkboxes__input",
    forms.RadioSelect: "nhsuk-radios__input",
}


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


class StyledFormMixin:
    """Adds the NHS.UK classes to each widget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = next(
                (c for w, c in _WIDGET_CLASSES.items() if isinstance(widget, w)), "nhsuk-input"
            )
            if css:
                widget.attrs["class"] = css


# The browser's date and time picker, given and read back to the minute.
DATE_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def moment_field(label: Any, *, required: Any = None, **kwargs: Any) -> forms.DateTimeField:
    """A date and time in the browser's picker; `required` is what to say when it is left
    empty (optional without it)."""
    errors = {"invalid": _("Enter a date and time, such as 31/01/2026 14:30.")}
    if required:
        errors["required"] = required
    return forms.DateTimeField(
        label=label, required=bool(required), widget=DATE_TIME, error_messages=errors, **kwargs
    )
