"""On PostgreSQL, the audit log becomes a table partitioned by month (`partitions`)."""

from django.db import migrations

from joinedup.audit import partitions


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if partitions.is_partitioned(cursor) != partitioned:
            partitions.rebuild(cursor, partitioned=partitioned)


def partition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_authored_basis")]
    operations = [migrations.RunPython(partition, unpartition)]
