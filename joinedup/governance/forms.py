from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.consent.models import Category, Purpose
from joinedup.governance import rules
from joinedup.governance.models import OverrideReview
from joinedup.people.models import Organisation


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


class AgreementForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Your organisation"), queryset=Organisation.objects.none(), empty_label=None
    )
    partner = forms.ModelChoiceField(
        label=_("The other organisation"), queryset=Organisation.objects.none(),
        error_messages={
            "required": _("Choose the organisation the agreement is with."),
            "invalid_choice": _("An agreement is between two organisations: choose the "
                                "other organisation from the list."),
        },
    )  # fmt: skip
    title = forms.CharField(
        label=_("Title"), max_length=200,
        error_messages={"required": _("Give the agreement a title both sides will know it by.")},
    )  # fmt: skip
    categories = forms.MultipleChoiceField(
        label=_("Kinds of record it covers"), widget=forms.CheckboxSelectMultiple,
        # Case notes never leave the service that wrote them, whatever is agreed.
        choices=[(c.value, c.label) for c in Category if c != Category.NOTES],
        error_messages={"required": _("Choose the kinds of record the agreement covers.")},
    )  # fmt: skip
    purposes = forms.MultipleChoiceField(
        label=_("What they may be used for"), widget=forms.CheckboxSelectMultiple,
        choices=Purpose.choices,
        error_messages={"required": _("Choose what the records may be used for.")},
    )  # fmt: skip
    starts_on = forms.DateField(
        label=_("Starts on"), widget=DATE,
        error_messages={"required": _("Enter the day the agreement starts."),
                        "invalid": _("Enter a real date, such as 1/1/2027.")},
    )  # fmt: skip
    ends_on = forms.DateField(
        label=_("Ends on"), widget=DATE, required=False,
        help_text=_("Leave empty if it runs until either side ends it."),
        error_messages={"invalid": _("Enter a real date, such as 31/12/2027.")},
    )  # fmt: skip
    review_on = forms.DateField(
        label=_("Review by"), widget=DATE, required=False,
        help_text=_("You will be reminded 30 days before."),
        error_messages={"invalid": _("Enter a real date, such as 1/9/2027.")},
    )  # fmt: skip
    follow_up_hours = forms.IntegerField(
        label=_("Follow-up time (hours)"), initial=72,
        help_text=_("After an NHS crisis contact or discharge, the university follows up "
                    "within this many hours."),
        error_messages={"required": _("Give the follow-up time in hours."),
                        "invalid": _("Give the follow-up time in whole hours, such as 72.")},
    )  # fmt: skip

    def __init__(self, data, *, own: list[int]):
        super().__init__(data)
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=own)  # type: ignore[attr-defined]
        self.fields["partner"].queryset = Organisation.objects.exclude(pk__in=own)  # type: ignore[attr-defined]


class SuspendForm(forms.Form):
    note = forms.CharField(
        label=_("Why are you suspending it?"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The other organisation's admins read this."),
        error_messages={"required": _("Say why you are suspending the agreement.")},
    )  # fmt: skip
