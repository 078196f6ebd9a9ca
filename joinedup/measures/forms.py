"""Questionnaire forms: every item of a measure on one screen."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from joinedup.measures import scoring


class QuestionnaireForm(forms.Form):
    """One radio group per item; an unanswered item is allowed where the measure's
    missing-item rule can still score it, otherwise the person confirms saving it unscored."""

    def __init__(self, *args, instrument, texts: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        choices = [(str(o.value), o.label) for o in instrument.options]
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.TypedChoiceField(
                label=texts[item.number],
                choices=choices,
                coerce=int,
                required=False,
                widget=forms.RadioSelect,
                empty_value=None,
            )
        self.fields["save_unscored"] = forms.BooleanField(
            label=_l("Save without a score (some items were not answered)"),
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "nhsuk-checkboxes__input"}),
        )
        self.unanswered: list[int] = []

    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items]

    def clean(self):
        cleaned = super().clean()
        answers = self.answers()
        result = scoring.score(self.instrument.code, answers)
        missing = sum(a is None for a in answers)
        if missing == len(answers):
            raise forms.ValidationError(_("Answer the questions before saving."))
        if not result.valid and not cleaned.get("save_unscored"):
            self.unanswered = [n for n, a in enumerate(answers, 1) if a is None]
            raise forms.ValidationError(
                _(
                    "%(n)d questions are unanswered, so %(code)s cannot be scored. Answer them, "
                    "or tick “Save without a score”."
                )
                % {"n": missing, "code": self.instrument.code}
            )
        return cleaned

    def first_unanswered_id(self) -> str:
        """Where the error summary links: the first option of the first unanswered item."""
        if not self.unanswered:
            return ""
        return self[f"item_{self.unanswered[0]}"].subwidgets[0].id_for_label

    def answers(self) -> list[int | None]:
        data = self.cleaned_data
        return [data.get(f"item_{item.number}") for item in self.instrument.items]


class SessionForm(forms.Form):
    session_number = forms.IntegerField(label=_l("Session number"), min_value=1, max_value=200)
    completed_on = forms.DateField(
        label=_l("Date completed"),
        # A date input shows only ISO dates, whatever the language's own date format.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_completed_on(self):
        value = self.cleaned_data["completed_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return value


class LinkForm(forms.Form):
    session_number = forms.IntegerField(min_value=1, max_value=200)
    codes = forms.MultipleChoiceField(
        label=_l("Questionnaires"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _l("Choose at least one questionnaire.")},
    )

    def __init__(self, *args, codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["codes"].choices = [(c, c) for c in codes]
