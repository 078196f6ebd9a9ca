from django.db import migrations, models


def to_listed(apps, schema_editor):
    RetentionRun = apps.get_model("governance", "RetentionRun")
    for run in RetentionRun.objects.all():
        run.listed = {key: ids for key, ids in (("entries", run.entries),
                                                ("messages", run.messages)) if ids}  # fmt: skip
        run.save(update_fields=["listed"])


def from_listed(apps, schema_editor):
    RetentionRun = apps.get_model("governance", "RetentionRun")
    for run in RetentionRun.objects.all():
        run.entries = run.listed.get("entries", [])
        run.messages = run.listed.get("messages", [])
        run.save(update_fields=["entries", "messages"])


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0008_chain_checks"),
    ]

    operations = [
        migrations.AddField(
            model_name="retentionrun",
            name="listed",
            field=models.JSONField(default=dict),
        ),
        migrations.RunPython(to_listed, from_listed),
        migrations.RemoveField(model_name="retentionrun", name="entries"),
        migrations.RemoveField(model_name="retentionrun", name="messages"),
    ]
