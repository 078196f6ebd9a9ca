from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.governance.models import OverrideReview


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Was the emergency access appropriate?"),
        choices=OverrideReview.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the emergency access was appropriate.")},
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when it was not appropriate: why, and what happens next."),
    )
