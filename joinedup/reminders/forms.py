from django import forms
from django.utils.translation import gettext_lazy as _

from joinedup.reminders import notify
from joinedup.reminders.models import ReminderPreference


class ReminderPreferenceForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How would you like to be reminded?"),
        help_text=_(
            "We remind you the day before an appointment, and send you questionnaire links. "
            "Messages never say what the appointment is for."
        ),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how you would like to be reminded."),
            "invalid_choice": _("Choose how you would like to be reminded."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = ReminderPreference.Channel.choices
        if not notify.sms_available():
            # Offer only what this hub can send.
            choices = [(v, label) for v, label in choices if v in ("email", "none")]
        self.fields["channel"].choices = choices
