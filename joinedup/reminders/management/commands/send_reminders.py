from django.core.management.base import BaseCommand

from joinedup.reminders.services import due_appointments, send_due_reminders


class Command(BaseCommand):
    help = (
        "Remind students of their appointments (REMINDER_LEAD_HOURS before), by the channels "
        "each chose, once per appointment time. Run every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List how many are due; send nothing."
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self.stdout.write(f"{len(due_appointments())} appointments are due a reminder.")
            return
        reminders = send_due_reminders()
        sent = sum(r.status == "sent" for r in reminders)
        self.stdout.write(
            self.style.SUCCESS(f"Sent {sent} reminders; {len(reminders) - sent} not sent.")
        )
