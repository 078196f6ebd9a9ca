from django.core.management.base import BaseCommand

from joinedup.risk.services import escalate_flags


class Command(BaseCommand):
    help = (
        "Move unacknowledged risk flags along their escalation route (duty worker, then "
        "service manager), emailing and recording each step once. Run every few minutes."
    )

    def handle(self, *args, **options):
        escalations = escalate_flags()
        self.stdout.write(self.style.SUCCESS(f"Escalated {len(escalations)} flags."))
