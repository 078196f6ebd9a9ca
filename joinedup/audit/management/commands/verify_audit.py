from django.core.management.base import BaseCommand, CommandError

from joinedup.audit.selectors import verify_audit_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain and name the first broken entry."

    def handle(self, *args, **options):
        result = verify_audit_chain()
        if result.broken is not None:
            raise CommandError(f"Audit chain broken: {result.broken.problem}.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.checked} entries."))
