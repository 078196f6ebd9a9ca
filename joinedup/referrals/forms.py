"""Referral forms: the shape of input only; the services decide what is allowed."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from joinedup.lib.forms import moment_field
from joinedup.people.models import Service, User
from joinedup.referrals import rules
from joinedup.referrals.models import Appointment, AppointmentRequest, Episode, Referral


class ReferralForm(forms.Form):
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


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Reason for declining"),
        choices=[("", _("Choose a reason")), *Referral.DeclineReason.choices],
        error_messages={"required": _("Choose the reason for declining.")},
    )
    signposted_to = forms.CharField(
        label=_("Where the student was signposted"), required=False, max_length=200
    )


class MomentForm(forms.Form):
    at = moment_field(_("When"), required=_("Give the date and time."))

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


class AssessmentForm(forms.Form):
    text = forms.CharField(
        label=_("Add to the shared assessment"), widget=forms.Textarea(attrs={"rows": 4})
    )


def _clinician_field():
    return forms.ModelChoiceField(
        label=_("Clinician"),
        queryset=User.objects.none(),
        empty_label=_("Choose a clinician"),
        error_messages={
            "required": _("Choose the clinician the student will see."),
            "invalid_choice": _(
                "That person is not a practitioner of this service: choose one of its "
                "practitioners."
            ),
        },
    )


def _choose_clinicians(field, clinicians) -> None:
    field.queryset = User.objects.filter(pk__in=[c.pk for c in clinicians]).order_by(
        "first_name", "last_name", "pk"
    )
    field.label_from_instance = lambda user: user.get_full_name() or user.email


class DiaryFieldsMixin:
    """Length in minutes (as a `timedelta`), a clinician of the service, a place or a video
    link: the fields booking and moving share."""

    def _set_up(self, clinicians) -> None:
        _choose_clinicians(self.fields["clinician"], clinicians)

    def clean_length(self):
        return dt.timedelta(minutes=self.cleaned_data["length"])


def _length_field():
    return forms.IntegerField(
        label=_("Length (minutes)"),
        initial=50,
        min_value=5,
        max_value=240,
        error_messages={
            "required": _("Say how many minutes the appointment lasts."),
            "min_value": _("An appointment lasts at least 5 minutes."),
            "max_value": _("An appointment lasts at most 4 hours (240 minutes)."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _place_fields():
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=200,
        help_text=_("Where the student should go, e.g. Student Centre, room 2.14."),
    )
    video = forms.URLField(
        label=_("Video link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("For a video appointment: the link the student joins with."),
        error_messages={"invalid": _("Give the whole link, starting https://.")},
    )
    return place, video


class AppointmentForm(DiaryFieldsMixin, forms.Form):
    starts_at = moment_field(
        _("Date and time"), required=_("Give the appointment's date and time.")
    )
    length = _length_field()
    kind = forms.ChoiceField(label=_("Kind"), choices=Appointment.Kind.choices)
    clinician = _clinician_field()
    place, video_link = _place_fields()

    def __init__(self, *args, clinicians=(), user=None, place="", **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up(clinicians)
        if user is not None and any(c.pk == user.pk for c in clinicians):
            self.fields["clinician"].initial = user.pk
        self.fields["place"].initial = place


class RescheduleForm(DiaryFieldsMixin, forms.Form):
    starts_at = moment_field(_("New date and time"), required=_("Give the new date and time."))
    length = _length_field()
    clinician = _clinician_field()
    place, video_link = _place_fields()
    by = forms.ChoiceField(
        label=_("Who asked for the change"),
        choices=Appointment.CancelledBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say who asked for the change.")},
    )
    reason = forms.CharField(
        label=_("Why it is moving"),
        help_text=_("The student sees this."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the appointment is moving.")},
    )

    def __init__(self, *args, clinicians=(), appointment=None, **kwargs):
        if appointment is not None:
            kwargs.setdefault("initial", {}).update(
                starts_at=timezone.localtime(appointment.starts_at),
                length=appointment.minutes,
                clinician=appointment.clinician_id,
                place=appointment.place,
                video_link=appointment.video_link,
            )
        super().__init__(*args, auto_id="id_move_%s", **kwargs)
        self._set_up(clinicians)


class CancelForm(forms.Form):
    cancelled_by = forms.ChoiceField(
        label=_("Who cancelled"),
        choices=Appointment.CancelledBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say who cancelled.")},
    )
    reason = forms.CharField(
        label=_("Why it is cancelled"),
        help_text=_("The student sees this."),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the appointment is cancelled.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="id_cancel_%s", **kwargs)


class AllocateForm(forms.Form):
    practitioner = forms.ModelChoiceField(
        label=_("Allocate to"),
        queryset=User.objects.none(),
        empty_label=_("Choose a practitioner"),
        error_messages={
            "required": _("Choose the practitioner."),
            "invalid_choice": _(
                "That person is not a practitioner of this service: choose one of its "
                "practitioners."
            ),
        },
    )

    def __init__(self, *args, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choose_clinicians(self.fields["practitioner"], clinicians)


class EndEpisodeForm(forms.Form):
    ending = forms.ChoiceField(
        label=_("How the episode ended"),
        choices=Episode.Ending.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the episode ended.")},
    )
    ended_at = moment_field(_("When it ended"), help_text=_("Leave empty for now."))


class WalkInForm(forms.Form):
    """A student who walks in, found by their student number and date of birth."""

    service = forms.ModelChoiceField(label=_("Your service"), queryset=Service.objects.none())
    student_number = forms.CharField(
        label=_("Student number"),
        max_length=20,
        error_messages={"required": _("Give the student's student number.")},
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Ask the student: both must match what their university holds."),
        error_messages={
            "required": _("Give the student's date of birth."),
            "invalid": _("Give a date like 17/05/2004."),
        },
    )

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choose_services(self, services)


class NewEpisodeForm(forms.Form):
    """An episode for a student whose record the user reads already."""

    service = forms.ModelChoiceField(label=_("Your service"), queryset=Service.objects.none())

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choose_services(self, services)


def _choose_services(form, services) -> None:
    """The user's own clinical services; with only one, it is chosen and not asked."""
    field = form.fields["service"]
    field.queryset = Service.objects.filter(pk__in=[s.pk for s in services])
    if len(services) == 1:
        field.initial = services[0].pk
        field.widget = forms.HiddenInput()


class AnswerForm(forms.Form):
    """The service's answer to a student's request to cancel or rebook."""

    answer = forms.ChoiceField(
        label=_("Your answer"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose an answer.")},
    )
    starts_at = moment_field(_("New date and time (when moving it)"))
    message = forms.CharField(
        label=_("Message to the student"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when the appointment stays as it is: say why."),
    )

    def __init__(self, *args, wants="rebook", **kwargs):
        super().__init__(*args, auto_id="id_answer_%s", **kwargs)
        labels = dict(AppointmentRequest.Answer.choices)
        self.fields["answer"].choices = [(a, labels[a]) for a in rules.ANSWERS[wants]]


class DiaryForm(forms.Form):
    """Which day, how much of the diary, and whose service: every part optional."""

    on = forms.DateField(
        label=_("Show the diary for"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    span = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("day", _("One day")), ("week", _("The week"))],
    )
    service = forms.UUIDField(required=False, widget=forms.HiddenInput)


class AppointmentOutcomeForm(forms.Form):
    status = forms.ChoiceField(
        label=_("What happened"),
        choices=[c for c in Appointment.Status.choices if c[0] != "booked"],
    )
    cancelled_by = forms.ChoiceField(
        label=_("Cancelled by"),
        required=False,
        choices=[("", _("Not cancelled")), *Appointment.CancelledBy.choices],
    )
    reason = forms.CharField(label=_("Why it was cancelled"), required=False)


class OutcomeForm(forms.Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))


class CrisisContactForm(forms.Form):
    note = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Written to the student's record as risk; the university is asked to follow up."
        ),
    )


class PeriodForm(forms.Form):
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
