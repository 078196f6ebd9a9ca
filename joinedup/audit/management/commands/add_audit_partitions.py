from django.core.management.base import BaseCommand
from django.db import connection, transaction

from joinedup.audit import partitions


class Command(BaseCommand):
    help = (
        "Make the audit log's monthly partitions for the coming "
        f"{partitions.MONTHS_AHEAD} months that do not exist yet (PostgreSQL)."
    )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("SQLite keeps the audit log in one table: nothing to do.")
            return
        with transaction.atomic(), connection.cursor() as cursor:
            made = partitions.add_partitions(cursor)
            held = len(partitions.partitions(cursor))
        said = f"Made {', '.join(made)}." if made else "Every month ahead has its partition."
        self.stdout.write(f"{said} The audit log has {held} partitions.")
