from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category, ConsentGrant, Purpose
from joinedup.lib.forms import moment_field
from joinedup.people.models import Department, Organisation, Service

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise  # a string or a lazy one (django-stubs)


class RecordConsentForm(forms.Form):
    """Consent the student gave to a member of staff, in person or on a paper form."""

    category = forms.ChoiceField(
        label=_("What the student agrees to share"), choices=Category.choices
    )
    recipient = forms.ChoiceField(
        label=_("Who with"),
        error_messages={"required": _("Choose who the student agrees to share with.")},
    )
    purpose = forms.ChoiceField(label=_("For what purpose"), choices=Purpose.choices)
    how_given = forms.ChoiceField(
        label=_("How the student gave it"),
        choices=[c for c in ConsentGrant.HowGiven.choices if c[0] != "portal"],
    )
    valid_from = moment_field(_("From"), help_text=_("Leave blank to start now."))
    valid_until = moment_field(_("Until"), help_text=_("Leave blank for no end date."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["recipient"]).choices = recipient_choices()

    def clean_recipient(self) -> dict[str, Service | Department | Organisation]:
        kind, _sep, pk = self.cleaned_data["recipient"].partition(":")
        model: dict[str, type[Service | Department | Organisation]] = {
            "service": Service,
            "department": Department,
            "organisation": Organisation,
        }
        recipient = model[kind].objects.filter(pk=pk).first() if kind in model else None
        if recipient is None:
            raise ValidationError(_("Choose who the student agrees to share with."))
        return {f"recipient_{kind}": recipient}

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())  # `Form.clean` returns `cleaned_data`
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", _("The end must be after the start."))
        return data


def recipient_choices() -> "list[tuple[_StrOrPromise, _StrOrPromise | list[tuple[str, str]]]]":
    services = [(f"service:{s.pk}", f"{s.name} ({s.organisation.name})")
                for s in Service.objects.select_related("organisation")]  # fmt: skip
    departments = [(f"department:{d.pk}", f"{d.name} ({d.organisation.name})")
                   for d in Department.objects.select_related("organisation")]  # fmt: skip
    organisations = [(f"organisation:{o.pk}", o.name) for o in Organisation.objects.all()]
    return [
        ("", _("Choose…")),
        (_("Services"), services),
        (_("Academic departments"), departments),
        (_("Whole organisations"), organisations),
    ]


class BreakGlassForm(forms.Form):
    university = forms.ModelChoiceField(
        label=_("University"),
        queryset=Organisation.objects.filter(kind="university"),
        error_messages={"required": _("Choose the student's university.")},
    )
    student_number = forms.CharField(
        label=_("Student number"),
        max_length=20,
        error_messages={"required": _("Enter the student number.")},
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        error_messages={
            "required": _("Enter the student's date of birth."),
            "invalid": _("Enter the date of birth as a real date, for example 17 05 2004."),
        },
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The student number and date of birth must both match."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        error_messages={
            "required": _("Write the reason: what risk to life makes this access necessary.")
        },
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Say what risk to life makes this necessary. Your data protection officer is "
            "told, and the student will see this."
        ),
    )
