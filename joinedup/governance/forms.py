from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.governance import rules
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


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditSearchForm(forms.Form):
    student = forms.CharField(
        label=_("Student number or NHS number"), required=False, max_length=20,
        help_text=_("Leave empty to see entries about every student."),
    )  # fmt: skip
    staff = forms.CharField(
        label=_("Member of staff"), required=False, max_length=254,
        help_text=_("Their name or email address, or part of it."),
    )  # fmt: skip
    place = forms.ChoiceField(label=_("Service or department"), required=False)
    start = forms.DateField(
        label=_("From"), widget=DATE,
        error_messages={"required": _("Enter the first day of the period."),
                        "invalid": _("Enter a real date, such as 30/11/2026.")},
    )  # fmt: skip
    end = forms.DateField(
        label=_("To"), widget=DATE,
        error_messages={"required": _("Enter the last day of the period."),
                        "invalid": _("Enter a real date, such as 6/12/2026.")},
    )  # fmt: skip

    def __init__(self, data, *, places: list[str]):
        super().__init__(data)
        self.fields["place"].choices = [("", _("Any")), *((p, p) for p in places)]  # type: ignore[attr-defined]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and (problem := rules.period_problem(start, end)):
            self.add_error("end", problem)
        return cleaned
