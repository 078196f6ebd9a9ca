"""Referral forms: the shape of input only; the services decide what is allowed."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.lib.forms import StyledFormMixin
from joinedup.people.models import Service
from joinedup.referrals.models import Appointment, Referral

DATE_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ReferralForm(StyledFormMixin, forms.Form):
    to_service = forms.ModelChoiceField(
        label=_("Refer to"),
        queryset=Service.objects.none(),
        empty_label=_("Choose a service"),
    )
    reason = forms.CharField(
        label=_("Why you are referring"),
        help_text=_("What the student needs from this service, in plain words."),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    carry_assessment = forms.BooleanField(
        label=_("Send the student's shared assessment with the referral"),
        required=False,
        help_text=_("Only when the student has agreed to share it with that service."),
    )

    def __init__(self, *args, from_service=None, **kwargs):
        super().__init__(*args, **kwargs)
        services = Service.objects.select_related("organisation").order_by(
            "organisation__name", "name"
        )
        if from_service is not None:
            services = services.exclude(pk=from_service.pk)
        self.fields["to_service"].queryset = services
        self.fields["to_service"].label_from_instance = lambda s: f"{s.name} ({s.organisation})"


class DeclineForm(StyledFormMixin, forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason for declining"),
        choices=[("", _("Choose a reason")), *Referral.DeclineReason.choices],
        error_messages={"required": _("Choose the reason for declining.")},
    )
    signposted_to = forms.CharField(
        label=_("Where the student was signposted"), required=False, max_length=200
    )


class MomentForm(StyledFormMixin, forms.Form):
    at = forms.DateTimeField(
        label=_("When"),
        widget=DATE_TIME,
        error_messages={
            "required": _("Give the date and time."),
            "invalid": _("Give a date and time like 31/01/2026 14:30."),
        },
    )

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at > timezone.now():
            raise forms.ValidationError(_("This cannot be in the future."))
        return at


class DischargeForm(MomentForm):
    ending = forms.ChoiceField(
        label=_("Ending"),
        choices=[("", _("Choose")), *Referral.Ending.choices],
        error_messages={"required": _("Say whether the ending was planned.")},
    )
    summary = forms.CharField(
        label=_("Discharge summary"),
        help_text=_("What was done, how it ended, and what the student may need next."),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write the discharge summary.")},
    )


class AssessmentForm(StyledFormMixin, forms.Form):
    text = forms.CharField(
        label=_("Add to the shared assessment"), widget=forms.Textarea(attrs={"rows": 4})
    )


class AppointmentForm(StyledFormMixin, forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=DATE_TIME,
        error_messages={"required": _("Give the appointment's date and time.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Appointment.Kind.choices)


class AppointmentOutcomeForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("What happened"),
        choices=[c for c in Appointment.Status.choices if c[0] != "booked"],
    )
    cancelled_by = forms.ChoiceField(
        label=_("Cancelled by"),
        required=False,
        choices=[("", _("Not cancelled")), *Appointment.CancelledBy.choices],
    )


class OutcomeForm(StyledFormMixin, forms.Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))


class CrisisContactForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Written to the student's record as risk; the university is asked to follow up."
        ),
    )


class PeriodForm(StyledFormMixin, forms.Form):
    """A report period: start inclusive, end exclusive (shared/spec/evaluation.md)."""

    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("Up to (not including)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] <= cleaned["start"]:
            self.add_error("end", _("The end must be after the start."))
        return cleaned
