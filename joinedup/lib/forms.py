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


def _nhsuk_class(widget: forms.Widget) -> str:
    return next((c for w, c in _WIDGET_CLASSES.items() if isinstance(widget, w)), "nhsuk-input")


class NHSBoundField(forms.BoundField):
    """A field drawn with its NHS.UK class, unless its widget names one of its own: every
    form gets it through the renderer (allauth's sign-in and second-factor forms too)."""

    def build_widget_attrs(self, attrs: dict, widget: forms.Widget | None = None) -> dict:
        # Drawn whole (`as_widget`) or option by option (radios and checkboxes), both ask here.
        attrs = super().build_widget_attrs(attrs, widget)
        drawn = widget or self.field.widget
        if "class" not in drawn.attrs and "class" not in attrs:
            attrs["class"] = _nhsuk_class(drawn)
        return attrs


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
    bound_field_class = NHSBoundField


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


# The browser's date picker, given and read back as an ISO date.
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def day_field(label: Any, *, required: Any = None, **kwargs: Any) -> forms.DateField:
    """A date in the browser's picker; `required` is what to say when it is left empty
    (optional without it)."""
    errors = {"invalid": _("Enter a real date, such as 31/01/2027.")}
    if required:
        errors["required"] = required
    return forms.DateField(
        label=label, required=bool(required), widget=DAY, error_messages=errors, **kwargs
    )
