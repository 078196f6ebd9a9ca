from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from joinedup.evaluation.services import remove_old_extract_files


class Command(BaseCommand):
    help = (
        "Delete the files of research extracts finished more than --days ago (default 30); "
        "the record of the run and its release note are kept. Run daily from cron or a timer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="Keep files this many days.")
        parser.add_argument("--dry-run", action="store_true", help="Report, delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        before = timezone.now() - timedelta(days=days)
        removed = remove_old_extract_files(before=before, dry_run=dry_run)
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(self.style.SUCCESS(f"{verb} the files of {len(removed)} extracts."))
