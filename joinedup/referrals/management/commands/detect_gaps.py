from django.core.management.base import BaseCommand

from joinedup.referrals.gaps import detect_gaps
from joinedup.referrals.tasks import detect_gaps as detect_gaps_task


class Command(BaseCommand):
    help = (
        "Run the gap rules (run daily from cron or a timer). By default the run is queued "
        "as a background task for the worker; --now runs it here."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="Run here, not in the worker.")
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")

    def handle(self, *args, now, dry_run, **options):
        if not (now or dry_run):
            result = detect_gaps_task.enqueue()
            self.stdout.write(f"Queued gap detection ({result.id}).")
            return
        items = detect_gaps(dry_run=dry_run)
        for item in items:
            self.stdout.write(f"{item.rule}: {item.detail}")
        verb = "Would raise" if dry_run else "Raised"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(items)} new gap items."))
