from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from joinedup.fhir.models import ExportJob


class Command(BaseCommand):
    help = (
        "Delete bulk exports (and their files of personal data) older than --hours. Run it "
        "from cron; running it twice changes nothing more."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24, help="Keep exports this long.")
        parser.add_argument("--dry-run", action="store_true", help="Only say what would go.")

    def handle(self, *args, hours, dry_run, **options):
        old = ExportJob.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours))
        count = old.count()
        if not dry_run:
            old.delete()
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} export(s) older than {hours} hours.")
