"""The hub's shared risk language, as a starting point a hub may edit in the admin."""

from django.db import migrations

from joinedup.risk.levels import ensure_default_levels


def add_levels(apps, schema_editor):
    ensure_default_levels(apps.get_model("risk", "RiskLevel"))


class Migration(migrations.Migration):
    dependencies = [("risk", "0001_initial")]

    operations = [migrations.RunPython(add_levels, migrations.RunPython.noop)]
