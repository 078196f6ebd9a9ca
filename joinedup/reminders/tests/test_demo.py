"""The demo hub shows reminders sent by each channel, and one a service could not send."""

from joinedup.record.demo import build_demo_hub
from joinedup.reminders.models import Reminder, ReminderPreference
from joinedup.reminders.services import due_appointments


def test_the_demo_has_reminders_by_each_choice_and_none_left_due(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    build_demo_hub(students_per_university=40)
    assert set(ReminderPreference.objects.values_list("channel", flat=True)) == {
        "sms",
        "both",
        "none",
    }
    sent = Reminder.objects.filter(status="sent")
    assert set(sent.values_list("channel", flat=True)) == {"email", "sms"}
    assert Reminder.objects.filter(status="not_sent", detail="no contact details").exists()
    assert due_appointments() == []
