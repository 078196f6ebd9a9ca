"""The reminders of an appointment, for the pages that already passed the policy for the
student's identity and engagement (the appointment page)."""

from django import template

from joinedup.reminders.models import Reminder, ReminderPreference
from joinedup.reminders.services import preference_of

register = template.Library()


@register.inclusion_tag("reminders/_appointment_reminders.html")
def appointment_reminders(appointment):
    """The student's reminder choice and each reminder of this appointment, sent or why
    not."""
    student = appointment.episode.student
    choice = preference_of(student)
    return {
        "appointment": appointment,
        "choice": ReminderPreference.Channel(choice).label,
        # A student who never chose is reminded by the default: say so, not "chose".
        "chosen": ReminderPreference.objects.filter(student=student).exists(),
        "reminders": Reminder.objects.filter(appointment=appointment).order_by("created_at"),
    }
