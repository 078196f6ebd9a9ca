from django.core.management.base import BaseCommand, CommandError

from joinedup.audit.selectors import verify_audit_chain
from joinedup.operations.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a `joinedup backup` archive into the empty database DATABASE_URL names and "
        "the empty MEDIA_ROOT, check every table's rows against the backup, and check the "
        "audit chain. Refuses a database or MEDIA_ROOT that holds anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")

    def handle(self, *args, archive, **options):
        try:
            restored = restore(archive)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {restored.rows} rows in {restored.tables} tables and "
                f"{restored.media_files} files; every table holds what the backup counted."
            )
        )
        chain = verify_audit_chain()
        if chain.broken is not None:
            raise CommandError(
                f"Restored, but the audit chain does not verify: {chain.broken.problem}. Check "
                "that AUDIT_CHAIN_KEY is the key the backed-up server used; entries written "
                "after the backup are lost, which its checkpoints show (README, Production)."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {chain.checked} entries."))
