"""The student's own forms (their words are in the Welsh catalogue, `portal/welsh.py`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.referrals.models import AppointmentRequest


class AskForm(forms.Form):
    """A student asks to cancel or rebook one of their appointments."""

    wants = forms.ChoiceField(
        label=_("What would you like?"),
        choices=AppointmentRequest.Wants.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether you want to cancel or change the time.")},
    )
    reason = forms.CharField(
        label=_("Why"),
        help_text=_("The service reads this to help you."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why, so the service can help.")},
    )
    better_times = forms.CharField(
        label=_("Times that suit you better (if changing)"),
        required=False,
        max_length=300,
    )
