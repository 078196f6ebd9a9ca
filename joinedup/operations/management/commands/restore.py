from django.core.management.base import BaseCommand, CommandError

from joinedup.audit.selectors import verify_audit_chain
from joinedup.audit.services import Entry, append
from joinedup.operations.backup import BackupError, restore
from joinedup.operations.readiness import reach_database


class Command(BaseCommand):
    help = (
        "Restore a `joinedup backup` archive into the empty database DATABASE_URL names and "
        "the empty MEDIA_ROOT, check every table's rows against the backup, and check the "
        "audit chain. Refuses a database or MEDIA_ROOT that holds anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")

    def handle(self, *args, archive, **options):
        reach_database("restore")
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
        if chain.broken is not None and chain.broken.seq > chain.checked:
            # The chain is whole; this server's checkpoints name entries it wrote after the
            # backup was taken, which no backup holds.
            raise CommandError(
                "The database now holds everything in the backup, and its audit chain is "
                f"intact to entry {chain.checked}; this server's checkpoints record entries "
                f"written after the backup was taken, which no backup holds "
                f"({chain.broken.problem}). Record that those entries are lost, then move "
                "AUDIT_CHECKPOINT_FILE aside and run `joinedup verify_audit`; do not restore "
                "again."
            )
        if chain.broken is not None:
            raise CommandError(
                "The database now holds everything in the backup, but its audit chain does "
                f"not verify under this AUDIT_CHAIN_KEY ({chain.broken.problem}). If the key "
                "differs from the backed-up server's, set that key and run `joinedup "
                "verify_audit`; do not restore again. If the key is the same, the log was "
                "altered before the backup was taken."
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {chain.checked} entries."))
        append([Entry(
            action="operations.restore", actor_role="operator",
            reason=f"Restored {restored.rows} rows and {restored.media_files} files.",
        )])  # fmt: skip
