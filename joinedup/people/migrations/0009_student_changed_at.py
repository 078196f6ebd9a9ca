from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def since_created(apps, schema_editor):
    """A record's last change before this was recorded is taken to be its creation."""
    Student = apps.get_model("people", "Student")
    Student.objects.update(changed_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0008_nhs_number_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="student",
            name="changed_at",
            field=models.DateTimeField(auto_now=True, default=timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(since_created, migrations.RunPython.noop),
    ]
