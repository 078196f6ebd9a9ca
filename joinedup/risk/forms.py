from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.lib.forms import StyledFormMixin
from joinedup.risk.models import Domain, RiskLevel


class AssessmentForm(StyledFormMixin, forms.Form):
    """A level per domain (the shared language), factors, protective factors, plan, review."""

    factors = forms.CharField(label=_("Risk factors"), widget=forms.Textarea(attrs={"rows": 3}))
    protective_factors = forms.CharField(
        label=_("Protective factors"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    plan = forms.CharField(label=_("Plan"), widget=forms.Textarea(attrs={"rows": 3}))
    review_on = forms.DateField(
        label=_("Review date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Not assessed"))] + [
            (str(level.rank), f"{level.name}: {level.descriptor}")
            for level in RiskLevel.objects.all()
        ]
        for value, label in reversed(Domain.choices):
            field = forms.TypedChoiceField(
                label=label, choices=choices, coerce=int, required=False, empty_value=None
            )
            field.widget.attrs["class"] = "nhsuk-select"
            self.fields = {f"domain_{value}": field, **self.fields}
        self.order_fields([f"domain_{v}" for v, _ in Domain.choices])

    def clean_review_on(self):
        value = self.cleaned_data["review_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The review date must be today or later."))
        return value

    def domain_levels(self) -> dict[str, int | None]:
        return {v: self.cleaned_data.get(f"domain_{v}") for v, _ in Domain.choices}


class FlagForm(StyledFormMixin, forms.Form):
    level = forms.ModelChoiceField(
        label=_("Level"),
        queryset=RiskLevel.objects.all(),
        empty_label=_("Choose a level"),
        error_messages={"required": _("Choose the flag's level.")},
    )
    reason = forms.CharField(
        label=_("Why"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
