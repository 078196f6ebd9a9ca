from django.core.management.base import BaseCommand, CommandError

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
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {rows} rows in {len(manifest['tables'])} tables and "
                f"{manifest['media_files']} files to {archive}."
            )
        )
