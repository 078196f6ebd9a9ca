from django.core.management.base import BaseCommand

from joinedup.referrals.services import escalate_overdue_follow_ups


class Command(BaseCommand):
    help = "Email service managers about overdue follow-ups, once each (run hourly)."

    def handle(self, *args, **options):
        count = escalate_overdue_follow_ups()
        self.stdout.write(self.style.SUCCESS(f"Escalated {count} overdue follow-ups."))
