"""Demo reminders: some students chose text messages (with a number from Ofcom's range kept
for drama), a few none; the appointments of the last fortnight and of the next day were
reminded by the channels each chose, and one could not be texted for want of a number."""

import datetime as dt
import uuid

from django.conf import settings
from django.utils import timezone

from joinedup.people.models import Student
from joinedup.referrals.models import Appointment
from joinedup.reminders import rules
from joinedup.reminders.models import Reminder, ReminderPreference

CHOICES = [rules.EMAIL] * 6 + [rules.SMS, rules.SMS, rules.BOTH, rules.NONE]


def add_demo_reminders(hub, rng) -> None:
    now = timezone.now()
    lead = dt.timedelta(hours=settings.REMINDER_LEAD_HOURS)
    reminded = Appointment.objects.filter(
        starts_at__gt=now - dt.timedelta(days=14), starts_at__lte=now + lead
    ).exclude(status="cancelled")
    with_appointments = set(reminded.values_list("episode__student", flat=True))
    choice: dict[int, str] = {}
    texted = []
    no_number = None
    for n, student in enumerate(Student.objects.order_by("pk")):
        picked = rng.choice(CHOICES)
        if picked == rules.EMAIL:
            continue
        choice[student.pk] = picked
        if picked == rules.NONE:
            continue
        # One who chose text messages, with an appointment reminded, has given no number:
        # the service sees it was not sent, whatever day the demo is loaded.
        if no_number is None and student.pk in with_appointments:
            no_number = student.pk
        else:
            student.phone = f"07700 900{n % 1000:03d}"
            texted.append(student)
    Student.objects.bulk_update(texted, ["phone"], batch_size=500)
    ReminderPreference.objects.bulk_create(
        [ReminderPreference(student_id=pk, channel=c) for pk, c in choice.items()]
    )
    phones = {s.pk: s.phone for s in texted}
    reminders = []
    for appointment in reminded.select_related("episode__student"):
        student = appointment.episode.student
        sent_at = appointment.starts_at - lead
        for delivery in rules.deliveries(
            choice.get(student.pk, rules.DEFAULT),
            email=student.email,
            phone=phones.get(student.pk, ""),
            sms_available=True,
        ):
            reminders.append(
                Reminder(
                    student=student, appointment=appointment,
                    for_starts_at=appointment.starts_at, channel=delivery.channel,
                    status="not_sent" if delivery.problem else "sent", detail=delivery.problem,
                    notify_id=str(uuid.UUID(int=rng.getrandbits(128)))
                    if delivery.channel == rules.SMS and not delivery.problem else "",
                    sent_at=None if delivery.problem else sent_at,
                )
            )  # fmt: skip
    Reminder.objects.bulk_create(reminders, batch_size=1000)
