from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from joinedup.governance import rules
from joinedup.governance.services import send_override_summaries


class Command(BaseCommand):
    help = (
        "Email each organisation its monthly summary of emergency access, once per month "
        "(run on the first of the month: last month unless --month YYYY-MM is given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="The month to summarise, as YYYY-MM.")

    def handle(self, *args, month=None, **options):
        if month:
            try:
                first = date.fromisoformat(f"{month}-01")
            except ValueError:
                raise CommandError(f"--month {month!r} is not a month like 2026-11.") from None
        else:
            first = rules.add_months(timezone.localdate().replace(day=1), -1)
        count = send_override_summaries(first)
        self.stdout.write(
            self.style.SUCCESS(f"Sent {count} summaries of emergency access for {first:%B %Y}.")
        )
