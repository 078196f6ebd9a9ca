"""The cache's table (`CACHES` in the settings): rate limits and used second-factor codes
are counted in the database, so every server process and every server counts the same."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "joinedup_cache"


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_jobs_and_leases")]
    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
