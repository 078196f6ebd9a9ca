"""Administrations say whether their score was stated without answers. On SQLite, adding
the column rebuilds the table, which drops the triggers keeping episode scores: they come off
first and go back last, the kept table recomputed (`KeptTable.around_source_rebuild`)."""

from importlib import import_module

from django.db import migrations, models
from django.db.models import Exists, OuterRef

# The kept table as 0005 made it; that migration never changes, so it is read, not copied.
EPISODE_SCORES = import_module("joinedup.measures.migrations.0005_episode_scores").EPISODE_SCORES
TRIGGERS_OFF, TRIGGERS_ON = EPISODE_SCORES.around_source_rebuild()


def mark_stated_scores(apps, schema_editor):
    """A scored administration without answers can only be a score another system stated."""
    Administration = apps.get_model("measures", "Administration")
    Answer = apps.get_model("measures", "Answer")
    answered = Answer.objects.filter(administration=OuterRef("pk"))
    Administration.objects.filter(main_score__isnull=False).exclude(Exists(answered)).update(
        score_only=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0006_calibration"),
    ]

    operations = [
        TRIGGERS_OFF,
        migrations.AddField(
            model_name="administration",
            name="score_only",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.RunPython(mark_stated_scores, migrations.RunPython.noop),
        TRIGGERS_ON,
    ]
