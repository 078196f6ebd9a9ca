from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.lib.forms import moment_field
from joinedup.people.models import Service, User
from joinedup.risk.models import Concern, Domain, ReturnToStudyPlan, RiskLevel, SafetyPlan


class AssessmentForm(forms.Form):
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
            self.fields = {f"domain_{value}": field, **self.fields}
        self.order_fields([f"domain_{v}" for v, _ in Domain.choices])

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"domain_{v}") for v, _label in Domain.choices):
            self.add_error("domain_self", _("Rate at least one domain."))
        return cleaned

    def clean_review_on(self):
        value = self.cleaned_data["review_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("The review date must be today or later."))
        return value

    def domain_levels(self) -> dict[str, int | None]:
        return {v: self.cleaned_data.get(f"domain_{v}") for v, _ in Domain.choices}


class FlagForm(forms.Form):
    level = forms.ModelChoiceField(
        label=_("Level"),
        queryset=RiskLevel.objects.all(),
        empty_label=_("Choose a level"),
        error_messages={"required": _("Choose the flag's level.")},
    )
    reason = forms.CharField(
        label=_("Why"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConcernForm(forms.Form):
    """Raise a concern in under two minutes."""

    student_number = forms.CharField(
        label=_("The student's number"),
        max_length=20,
        help_text=_("On their student card or university email."),
        error_messages={"required": _("Give the student's number.")},
    )
    observed = forms.CharField(
        label=_("What have you noticed?"),
        help_text=_("What you saw or heard, in your own words. No need for a diagnosis."),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say what you have noticed.")},
    )
    urgency = forms.ChoiceField(
        label=_("How urgent does it feel?"),
        choices=[("", _("Choose")), *Concern.Urgency.choices],
        error_messages={"required": _("Say how urgent it feels.")},
    )
    student_knows = forms.ChoiceField(
        label=_("Does the student know you are raising this?"),
        choices=[("", _("Choose")), *Concern.Knows.choices],
        error_messages={"required": _("Say whether the student knows.")},
    )
    student_agreed = forms.BooleanField(
        label=_("The student agreed to me passing this on"), required=False
    )
    anonymous = forms.BooleanField(
        label=_("Keep my name private (you will get a private code to read replies)"),
        required=False,
    )

    def __init__(self, *args, is_student=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_student:
            del self.fields["anonymous"]


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Please do not include clinical detail."),
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Choose")), *Concern.Outcome.choices]
    )


class SafetyPlanForm(forms.ModelForm):
    """The plan's parts in the student's words; staff also see the professional parts."""

    class Meta:
        model = SafetyPlan
        fields = [
            "warning_signs",
            "things_that_help",
            "people_and_places",
            "making_safer",
            "professional_contacts",
            "crisis_numbers",
        ]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in fields}
        help_texts = {
            "warning_signs": _(
                "Thoughts, feelings or situations that tell you a crisis may be coming."
            ),
            "things_that_help": _("Things you can do on your own to take your mind off it."),
            "people_and_places": _("People and places that help; who you can ask for help."),
            "making_safer": _("How to make your surroundings safer."),
        }

    def __init__(self, *args, student_part_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        if student_part_only:
            for name in ("professional_contacts", "crisis_numbers"):
                del self.fields[name]


class ReturnPlanForm(forms.ModelForm):
    class Meta:
        model = ReturnToStudyPlan
        fields = [
            "nhs_service",
            "university_service",
            "support_agreed",
            "who_does_what",
            "adjustments",
            "review_on",
            "fit_to_study",
            "nhs_view",
            "university_view",
        ]
        widgets = {
            "review_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **{
                f: forms.Textarea(attrs={"rows": 3})
                for f in (
                    "support_agreed",
                    "who_does_what",
                    "adjustments",
                    "nhs_view",
                    "university_view",
                )
            },
        }

    def __init__(self, *args, student, **kwargs):
        super().__init__(*args, **kwargs)
        services = Service.objects.select_related("organisation").order_by("name")
        self.fields["nhs_service"].queryset = services.filter(organisation__kind="nhs_trust")
        self.fields["university_service"].queryset = services.filter(
            organisation_id=student.university_id
        )

    def _post_clean(self):
        """Shape only: `save_return_plan` checks the plan's rules and explains each one."""


class StudentViewForm(forms.Form):
    student_view = forms.CharField(
        label=_("Your view"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("How you feel about going back, and what would help."),
    )


class PanelForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=200, error_messages={"required": _("Give the panel a title.")}
    )
    meets_at = moment_field(_("Meets at"), required=_("Say when the panel meets."))


class PanelActionForm(forms.Form):
    description = forms.CharField(
        label=_("Action"), max_length=300, error_messages={"required": _("Describe the action.")}
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=None,
        empty_label=_("Choose"),
        error_messages={"required": _("Every action needs an owner.")},
    )
    due_on = forms.DateField(
        label=_("Due"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Every action needs a due date.")},
    )

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, auto_id="id_action_%s", **kwargs)
        self.fields["owner"].queryset = User.objects.filter(pk__in=panel.members.values("user"))
        self.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.email


class AssignFlagForm(forms.Form):
    """A service manager asks one of their practitioners to act on an escalated flag."""

    practitioner = forms.ModelChoiceField(
        label=_("Who should act on it now"),
        queryset=None,
        empty_label=_("Choose a practitioner"),
        error_messages={
            "required": _("Choose a practitioner of your service in the student's care.")
        },
        help_text=_("They are emailed now, and see who the student is; you do not."),
    )

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = responders
        self.fields["practitioner"].label_from_instance = lambda user: (
            user.get_full_name() or user.email
        )
