from django.core.management.base import BaseCommand, CommandError

from joinedup.audit.services import Entry, append
from joinedup.operations.backup import BackupError, back_up, read_manifest
from joinedup.operations.readiness import reach_database


class Command(BaseCommand):
    help = (
        "Write one archive of the database (pg_dump on PostgreSQL, SQLite's online backup "
        "otherwise) and the uploaded files into DIRECTORY, with how many rows each table held."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory, **options):
        reach_database("backup")
        try:
            archive = back_up(directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = read_manifest(archive)
        rows = sum(manifest["tables"].values())
        # A copy of every record now exists outside the database: the log says where.
        append([Entry(
            action="operations.backup", actor_role="operator",
            reason=f"Backed up {rows} rows and {manifest['media_files']} files.",
            extra={"archive": str(archive), "rows": rows},
        )])  # fmt: skip
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {rows} rows in {len(manifest['tables'])} tables and "
                f"{manifest['media_files']} files to {archive}."
            )
        )
