import gzip

from django.db import migrations, models


def compress(apps, schema_editor):
    ExportFile = apps.get_model("fhir", "ExportFile")
    for file in ExportFile.objects.iterator(chunk_size=10):
        file.gzipped = gzip.compress(file.content.encode(), compresslevel=1)
        file.save(update_fields=["gzipped"])


def decompress(apps, schema_editor):
    ExportFile = apps.get_model("fhir", "ExportFile")
    for file in ExportFile.objects.iterator(chunk_size=10):
        file.content = gzip.decompress(file.gzipped).decode()
        file.save(update_fields=["content"])


class Migration(migrations.Migration):
    dependencies = [
        ("fhir", "0001_external_identifiers_exports_and_clients"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportfile",
            name="gzipped",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="exportfile",
            name="content",
            field=models.TextField(default=""),
        ),
        migrations.RunPython(compress, decompress),
        migrations.RemoveField(model_name="exportfile", name="content"),
    ]
